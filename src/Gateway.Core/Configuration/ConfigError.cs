namespace Gateway.Configuration;

/// <summary>One problem found in a configuration, with where it is.</summary>
public sealed record ConfigError(SourceLocation Location, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Location.Path.Length == 0 && Location.Source.Length == 0
        ? Message
        : $"{Location}: {Message}";
}
