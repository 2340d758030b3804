namespace Gateway.Configuration;

/// <summary>Where a configuration value came from: the source (file path or <c>--config-yaml</c>), its field path and position.</summary>
public readonly record struct SourceLocation
{
    // The path is kept as a chain of segments and only spelled out when asked for (errors, dumps):
    // big configs have hundreds of thousands of fields, and their full paths as strings would cost
    // tens of megabytes at start-up.
    private readonly string? _path;
    private readonly ConfigPath? _segment;

    /// <summary>Creates a location.</summary>
    /// <param name="source">The file path, or <c>--config-yaml</c> for inline YAML.</param>
    /// <param name="path">The field path, e.g. <c>static_resources.clusters[0].lb_policy</c>.</param>
    /// <param name="line">1-based line, or 0 when unknown.</param>
    /// <param name="column">1-based column, or 0 when unknown.</param>
    public SourceLocation(string source, string path, int line, int column)
    {
        Source = source;
        _path = path;
        Line = line;
        Column = column;
    }

    internal SourceLocation(string source, ConfigPath? path, int line, int column)
    {
        Source = source;
        _segment = path;
        Line = line;
        Column = column;
    }

    /// <summary>The file path, or <c>--config-yaml</c>.</summary>
    public string Source { get; }

    /// <summary>The field path, e.g. <c>static_resources.clusters[0].lb_policy</c>.</summary>
    public string Path => _path ?? _segment?.ToString() ?? string.Empty;

    /// <summary>1-based line, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>A location for values that were not read from a document (built in code).</summary>
    public static SourceLocation None => new(string.Empty, string.Empty, 0, 0);

    /// <summary>The location of a child field at the same position.</summary>
    public SourceLocation Child(string field)
    {
        var path = Path;
        return new SourceLocation(Source, path.Length == 0 ? field : path + "." + field, Line, Column);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var position = Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
        var path = Path;
        if (position.Length == 0)
        {
            return path;
        }
        return path.Length == 0 ? position : $"{position}: {path}";
    }
}

/// <summary>One step of a field path: a field name under a parent, or an index into the parent list.</summary>
internal sealed class ConfigPath(ConfigPath? parent, string? field, int index = -1)
{
    public override string ToString()
    {
        var parentPath = parent?.ToString() ?? string.Empty;
        if (field is null)
        {
            return $"{parentPath}[{index}]";
        }
        return parentPath.Length == 0 ? field : parentPath + "." + field;
    }
}
