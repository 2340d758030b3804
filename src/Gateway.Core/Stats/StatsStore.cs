using System.Collections.Concurrent;

namespace Gateway.Stats;

/// <summary>
/// All counters, gauges and histograms by their Envoy names. Handles are created when a configuration
/// is applied and live as long as the process, so a reload keeps the values, as Envoy's stats do.
/// </summary>
public sealed class StatsStore
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram> _histograms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TextReadout> _textReadouts = new(StringComparer.Ordinal);
    private readonly List<Action> _beforeRead = [];

    /// <summary>The counter with this name, created on first use.</summary>
    public Counter Counter(string name) => _counters.TryGetValue(name, out var counter) ? counter : Created(_counters.GetOrAdd(name, static n => new Counter(n)));

    /// <summary>The gauge with this name, created on first use.</summary>
    public Gauge Gauge(string name) => _gauges.TryGetValue(name, out var gauge) ? gauge : Created(_gauges.GetOrAdd(name, static n => new Gauge(n)));

    /// <summary>The histogram with this name, created on first use.</summary>
    public Histogram Histogram(string name) => _histograms.TryGetValue(name, out var histogram) ? histogram : Created(_histograms.GetOrAdd(name, static n => new Histogram(n)));

    /// <summary>The text readout with this name, created on first use.</summary>
    public TextReadout TextReadout(string name) => _textReadouts.TryGetValue(name, out var text) ? text : _textReadouts.GetOrAdd(name, static n => new TextReadout(n));

    /// <summary>
    /// Drops every stat whose name starts with <paramref name="scope"/> (ending with a dot): Envoy deletes a removed
    /// cluster's or listener's scope with it. Handles still held (by requests on the old configuration) keep working
    /// but are no longer listed; a resource added again under the name starts from zero, as in Envoy.
    /// </summary>
    /// <param name="scope">The scope, ending with a dot.</param>
    /// <param name="keep">Scopes inside it that belong to something else (a cluster <c>a.b</c> beside a removed <c>a</c>).</param>
    public void RemoveScope(string scope, IReadOnlyList<string>? keep = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        keep ??= [];
        bool Removed(string name)
        {
            if (!name.StartsWith(scope, StringComparison.Ordinal))
            {
                return false;
            }
            foreach (var kept in keep)
            {
                if (name.StartsWith(kept, StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }
        RemoveFrom(_counters, Removed);
        RemoveFrom(_gauges, Removed);
        RemoveFrom(_histograms, Removed);
        RemoveFrom(_textReadouts, Removed);
        StatsRemoved?.Invoke(Removed);
    }

    private static void RemoveFrom<T>(ConcurrentDictionary<string, T> stats, Func<string, bool> removed)
    {
        foreach (var name in stats.Keys)
        {
            if (removed(name))
            {
                stats.TryRemove(name, out _);
            }
        }
    }

    /// <summary>Raised with which names <see cref="RemoveScope"/> dropped, so exporters stop reporting them.</summary>
    internal event Action<Func<string, bool>>? StatsRemoved;

    /// <summary>
    /// Raised with the <see cref="Stats.Counter"/>, <see cref="Stats.Gauge"/> or <see cref="Stats.Histogram"/> a name was
    /// first asked for (possibly more than once for one stat when two threads create it at once): the OpenTelemetry
    /// meter adds stats created after it, as new clusters on a reload.
    /// </summary>
    internal event Action<object>? StatCreated;

    private T Created<T>(T stat)
        where T : class
    {
        StatCreated?.Invoke(stat);
        return stat;
    }

    /// <summary>Every counter, unordered.</summary>
    public IEnumerable<Counter> Counters => _counters.Values;

    /// <summary>Every gauge, unordered.</summary>
    public IEnumerable<Gauge> Gauges => _gauges.Values;

    /// <summary>Every histogram, unordered.</summary>
    public IEnumerable<Histogram> Histograms => _histograms.Values;

    /// <summary>Every text readout, unordered.</summary>
    public IEnumerable<TextReadout> TextReadouts => _textReadouts.Values;

    /// <summary>Registers work that brings sampled gauges (uptime, memory) up to date before stats are read.</summary>
    public void OnBeforeRead(Action refresh)
    {
        lock (_beforeRead)
        {
            _beforeRead.Add(refresh);
        }
    }

    /// <summary>Runs the <see cref="OnBeforeRead"/> callbacks; admin handlers call it before rendering.</summary>
    public void Refresh()
    {
        Action[] callbacks;
        lock (_beforeRead)
        {
            callbacks = [.. _beforeRead];
        }
        foreach (var callback in callbacks)
        {
            callback();
        }
    }

    /// <summary>Envoy's stats flush: closes the histograms' interval.</summary>
    public void Flush()
    {
        foreach (var histogram in _histograms.Values)
        {
            histogram.Flush();
        }
    }

    /// <summary>Admin <c>/reset_counters</c>: every counter back to zero (gauges and histograms are kept, as in Envoy).</summary>
    public void ResetCounters()
    {
        foreach (var counter in _counters.Values)
        {
            counter.Reset();
        }
    }
}
