using System.Collections.Concurrent;
using Prometheus;

namespace Gateway.Stats;

/// <summary>
/// Publishes the Envoy stats through a prometheus-net <see cref="CollectorRegistry"/>, under the same
/// names and labels as <c>/stats/prometheus</c>, so an application that embeds the gateway serves them
/// beside its own metrics (e.g. with prometheus-net.AspNetCore's <c>MapMetrics()</c>). Counters and
/// gauges are copied in before every collection; histograms mirror each value recorded after
/// <see cref="Attach"/>.
/// </summary>
public sealed class PrometheusNetBridge
{
    private readonly StatsStore _store;
    private readonly ConcurrentDictionary<string, Prometheus.Counter> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Prometheus.Gauge> _gauges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Prometheus.Histogram> _histograms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rejected = new(StringComparer.Ordinal);
    private IMetricFactory? _factory;

    /// <summary>Creates a bridge for <paramref name="store"/>.</summary>
    public PrometheusNetBridge(StatsStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>Starts publishing into <paramref name="registry"/>.</summary>
    public void Attach(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _factory = Metrics.WithCustomRegistry(registry);
        registry.AddBeforeCollectCallback(Sync);
        Sync();
    }

    /// <summary>Copies the current values into the registry.</summary>
    public void Sync()
    {
        if (_factory is not { } factory)
        {
            return;
        }
        _store.Refresh();
        foreach (var counter in _store.Counters)
        {
            var (metric, tags) = PrometheusNames.ExtractTags(counter.Name);
            if (Family(_counters, metric, tags, (name, labels) => factory.CreateCounter(name, "Envoy counter " + name, labels)) is { } family)
            {
                // prometheus-net counters only go up: a /reset_counters shows here as no change until the counter passes its old value.
                Publish(() => family.WithLabels(Values(tags)).IncTo(counter.Value));
            }
        }
        foreach (var gauge in _store.Gauges)
        {
            var (metric, tags) = PrometheusNames.ExtractTags(gauge.Name);
            if (Family(_gauges, metric, tags, (name, labels) => factory.CreateGauge(name, "Envoy gauge " + name, labels)) is { } family)
            {
                Publish(() => family.WithLabels(Values(tags)).Set(gauge.Value));
            }
        }
        foreach (var histogram in _store.Histograms)
        {
            if (histogram.Observer is not null)
            {
                continue;
            }
            var (metric, tags) = PrometheusNames.ExtractTags(histogram.Name);
            if (Family(_histograms, metric, tags, (name, labels) => factory.CreateHistogram(name, "Envoy histogram " + name, labels, new HistogramConfiguration { Buckets = Histogram.PrometheusBuckets })) is { } family)
            {
                Publish(() => histogram.Observer = family.WithLabels(Values(tags)).Observe);
            }
        }
    }

    private T? Family<T>(ConcurrentDictionary<string, T> families, string metric, List<KeyValuePair<string, string>> tags, Func<string, string[], T> create)
        where T : class
    {
        if (families.TryGetValue(metric, out var family))
        {
            return family;
        }
        lock (_rejected)
        {
            if (_rejected.Contains(metric))
            {
                return null;
            }
            try
            {
                return families.GetOrAdd(metric, name => create(name, tags.Select(t => t.Key).ToArray()));
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
                // The name is taken in the registry with other labels (or by the application): leave this one out.
                _rejected.Add(metric);
                return null;
            }
        }
    }

    private static void Publish(Action publish)
    {
        try
        {
            publish();
        }
        catch (ArgumentException)
        {
            // A stat whose tags do not fit its family's label names (Envoy would name it the same): skipped.
        }
    }

    private static string[] Values(List<KeyValuePair<string, string>> tags)
    {
        var values = new string[tags.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = tags[i].Value;
        }
        return values;
    }
}
