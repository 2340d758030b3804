using System.Collections.Concurrent;

namespace Gateway.Stats;

/// <summary>
/// All counters and gauges by their Envoy names. Handles are created when a configuration is applied
/// and live as long as the process, so a reload keeps the values, as Envoy's stats do.
/// </summary>
public sealed class StatsStore
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);

    /// <summary>The counter with this name, created on first use.</summary>
    public Counter Counter(string name) => _counters.GetOrAdd(name, static n => new Counter(n));

    /// <summary>The gauge with this name, created on first use.</summary>
    public Gauge Gauge(string name) => _gauges.GetOrAdd(name, static n => new Gauge(n));

    /// <summary>Every counter, unordered.</summary>
    public IEnumerable<Counter> Counters => _counters.Values;

    /// <summary>Every gauge, unordered.</summary>
    public IEnumerable<Gauge> Gauges => _gauges.Values;
}
