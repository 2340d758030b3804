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
/// The errors of one load, in document order (by source in load order, then line and column), whichever
/// stage found them. Like a compiler's error limit, only the first <see cref="Limit"/> in that order are
/// kept and the rest are counted: a generated or damaged file can hold 100,000 problems, and formatting
/// them all costs more than the load (and buries the first one).
/// </summary>
internal sealed class ConfigErrorList
{
    /// <summary>Errors reported in full; more are only counted.</summary>
    public const int Limit = 100;

    private readonly List<ConfigError> _kept = [];
    private readonly IReadOnlyList<string> _sources;

    /// <param name="sources">The source names in load order; errors of other sources sort after them, by name.</param>
    public ConfigErrorList(IReadOnlyList<string>? sources = null) => _sources = sources ?? [];

    /// <summary>Every error added, kept or not.</summary>
    public int Count { get; private set; }

    /// <summary>True once the limit is reached, so that a further error is kept only if it comes earlier in the documents (callers may skip the costly parts of a message).</summary>
    public bool IsFull => _kept.Count >= Limit;

    public void Add(ConfigError error)
    {
        Count++;
        if (IsFull)
        {
            if (Compare(error, _kept[^1]) >= 0)
            {
                return;
            }
            _kept.RemoveAt(_kept.Count - 1);
        }
        // Binding reports in document order, so this is nearly always an append; equal positions keep their order.
        var index = _kept.Count;
        while (index > 0 && Compare(error, _kept[index - 1]) < 0)
        {
            index--;
        }
        _kept.Insert(index, error);
    }

    public void AddRange(IEnumerable<ConfigError> errors)
    {
        foreach (var error in errors)
        {
            Add(error);
        }
    }

    public EnvoyConfigException ToException() => new(_kept.ToArray(), Count - _kept.Count);

    private int Compare(ConfigError a, ConfigError b)
    {
        var x = a.Location;
        var y = b.Location;
        if (!string.Equals(x.Source, y.Source, StringComparison.Ordinal))
        {
            var bySource = Rank(x.Source).CompareTo(Rank(y.Source));
            return bySource != 0 ? bySource : string.CompareOrdinal(x.Source, y.Source);
        }
        var byLine = x.Line.CompareTo(y.Line);
        return byLine != 0 ? byLine : x.Column.CompareTo(y.Column);
    }

    /// <summary>An error without a source (built in code) first, then the sources in load order, then any other.</summary>
    private int Rank(string source)
    {
        if (source.Length == 0)
        {
            return -1;
        }
        for (var i = 0; i < _sources.Count; i++)
        {
            if (string.Equals(_sources[i], source, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return _sources.Count;
    }
}
