namespace Gateway.Configuration;

/// <summary>One problem found in a configuration, with where it is.</summary>
public sealed record ConfigError(SourceLocation Location, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Location.Path.Length == 0 && Location.Source.Length == 0
        ? Message
        : $"{Location}: {Message}";
}

/// <summary>
/// The errors of one load. Like a compiler's error limit, only the first <see cref="Limit"/> are
/// kept and the rest are counted: a generated or damaged file can hold 100,000 problems, and
/// formatting them all costs more than the load (and buries the first one).
/// </summary>
internal sealed class ConfigErrorList
{
    /// <summary>Errors reported in full; more are only counted.</summary>
    public const int Limit = 100;

    private readonly List<ConfigError> _kept = [];

    /// <summary>Every error added, kept or not.</summary>
    public int Count { get; private set; }

    /// <summary>True once further errors are only counted (callers may skip building their messages).</summary>
    public bool IsFull => _kept.Count >= Limit;

    public void Add(ConfigError error)
    {
        if (!IsFull)
        {
            _kept.Add(error);
        }
        Count++;
    }

    public void AddRange(IEnumerable<ConfigError> errors)
    {
        foreach (var error in errors)
        {
            Add(error);
        }
    }

    public EnvoyConfigException ToException() => new(_kept.ToArray(), Count - _kept.Count);
}
