using System.Text.RegularExpressions;

namespace Gateway.Stats;

/// <summary>What an admin <c>/stats</c> call asked for (<c>filter</c>, <c>usedonly</c>, <c>type</c>, <c>histogram_buckets</c>).</summary>
public sealed record StatsQuery(Regex? Filter, bool UsedOnly, StatTypeFilter Type, HistogramBucketsMode Buckets)
{
    /// <summary>Everything, histograms as quantiles.</summary>
    public static StatsQuery All { get; } = new(null, false, StatTypeFilter.All, HistogramBucketsMode.None);

    internal bool Includes(string name, bool used)
        => (!UsedOnly || used) && (Filter is null || Filter.IsMatch(name));
}

/// <summary>The <c>type</c> query parameter.</summary>
public enum StatTypeFilter
{
    /// <summary>All types.</summary>
    All,

    /// <summary>Counters only.</summary>
    Counters,

    /// <summary>Gauges only.</summary>
    Gauges,

    /// <summary>Histograms only.</summary>
    Histograms,

    /// <summary>Text readouts only (this gateway has none).</summary>
    TextReadouts,
}

/// <summary>The <c>histogram_buckets</c> query parameter.</summary>
public enum HistogramBucketsMode
{
    /// <summary>Quantiles (the default).</summary>
    None,

    /// <summary>Cumulative bucket counts.</summary>
    Cumulative,

    /// <summary>Per-bucket counts.</summary>
    Disjoint,

    /// <summary>Envoy's detailed bins (printed here as disjoint buckets).</summary>
    Detailed,
}
