namespace Gateway.Configuration;

/// <summary>Where a configuration value came from: the source (file path or <c>--config-yaml</c>), its field path and position.</summary>
/// <param name="Source">The file path, or <c>--config-yaml</c> for inline YAML.</param>
/// <param name="Path">The field path, e.g. <c>static_resources.clusters[0].lb_policy</c>.</param>
/// <param name="Line">1-based line, or 0 when unknown.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
public readonly record struct SourceLocation(string Source, string Path, int Line, int Column)
{
    /// <summary>A location for values that were not read from a document (built in code).</summary>
    public static SourceLocation None => new(string.Empty, string.Empty, 0, 0);

    /// <summary>The location of a child field at the same position.</summary>
    public SourceLocation Child(string field) => this with { Path = Path.Length == 0 ? field : Path + "." + field };

    /// <inheritdoc />
    public override string ToString()
    {
        var position = Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
        if (position.Length == 0)
        {
            return Path;
        }
        return Path.Length == 0 ? position : $"{position}: {Path}";
    }
}
