using System.Diagnostics.Metrics;

namespace Gateway.Stats;

/// <summary>The OpenTelemetry side of the gateway's stats: the meter an application's MeterProvider subscribes to.</summary>
public static class EnvoyMetrics
{
    /// <summary>
    /// The <see cref="Meter"/> name the Envoy stats are published under (<c>AddMeter("Gateway.Envoy")</c> on an
    /// OpenTelemetry MeterProvider). Instruments are named <c>envoy.</c> + Envoy's tag-extracted stat name
    /// (<c>envoy.cluster.upstream_rq_total</c>), with Envoy's tags (<c>envoy_cluster_name</c>, …) as attributes.
    /// </summary>
    public const string MeterName = "Gateway.Envoy";
}

/// <summary>
/// Publishes the <see cref="StatsStore"/> through a <see cref="Meter"/> (<see cref="EnvoyMetrics.MeterName"/>) with
/// observable instruments only, so the request path does nothing more: the callbacks read the stats when a listener
/// collects. One instrument per tag-extracted name (a family, as a Prometheus metric), one measurement per stat in it.
/// Counters are <see cref="ObservableCounter{T}"/>; gauges <see cref="ObservableGauge{T}"/> (Envoy's gauges mix
/// additive values with states like <c>circuit_breakers.*.rq_open</c>, and the Prometheus output types them all
/// <c>gauge</c>); histograms, which have no observable form, are their Prometheus series: <c>.bucket</c> (cumulative
/// counts with an <c>le</c> attribute, <c>+Inf</c> last), <c>.sum</c> and <c>.count</c>. Stats created later (a new
/// cluster, a response code seen first) join their family, or make a new instrument.
/// </summary>
internal sealed class StatsMeter : IDisposable
{
    /// <summary>How stale sampled gauges (uptime, memory) may be when read: refreshing them once per collection is enough.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private readonly StatsStore _store;
    private readonly TimeProvider _time;
    private readonly bool _ownsMeter;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly HashSet<object> _known = new(ReferenceEqualityComparer.Instance);
    private long _lastRefresh = long.MinValue;

    public StatsMeter(StatsStore store, TimeProvider time, IMeterFactory? meters = null)
    {
        _store = store;
        _time = time;
        _ownsMeter = meters is null;
        Meter = meters?.Create(EnvoyMetrics.MeterName) ?? new Meter(EnvoyMetrics.MeterName);
        // Subscribe first, then take what exists: a stat created in between comes twice and is added once.
        store.StatCreated += Add;
        store.StatsRemoved += RemoveScope;
        foreach (var counter in store.Counters)
        {
            Add(counter);
        }
        foreach (var gauge in store.Gauges)
        {
            Add(gauge);
        }
        foreach (var histogram in store.Histograms)
        {
            Add(histogram);
        }
    }

    /// <summary>The meter (from the application's <see cref="IMeterFactory"/> when there is one).</summary>
    public Meter Meter { get; }

    /// <summary>The instrument name of a stat's family: <c>envoy.</c> and Envoy's tag-extracted name, characters OpenTelemetry does not allow as <c>_</c>.</summary>
    internal static string InstrumentName(string remaining)
    {
        var chars = new char[remaining.Length + 6];
        "envoy.".CopyTo(chars);
        for (var i = 0; i < remaining.Length; i++)
        {
            var c = remaining[i];
            // Prometheus exporters turn the dots into '_', which gives exactly the /stats/prometheus name.
            chars[i + 6] = char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_';
        }
        return new string(chars);
    }

    private void Add(object stat)
    {
        var (name, kind) = stat switch
        {
            Counter c => (c.Name, Kind.Counter),
            Gauge g => (g.Name, Kind.Gauge),
            Histogram h => (h.Name, Kind.Histogram),
            _ => throw new ArgumentException("not a stat", nameof(stat)),
        };
        var (remaining, tags) = PrometheusNames.ExtractTagsKeepingDots(name);
        var attributes = new KeyValuePair<string, object?>[tags.Count];
        for (var i = 0; i < attributes.Length; i++)
        {
            attributes[i] = new(tags[i].Key, tags[i].Value);
        }
        var instrument = InstrumentName(remaining);
        lock (_lock)
        {
            if (!_known.Add(stat))
            {
                return;
            }
            if (!_families.TryGetValue(instrument, out var family))
            {
                family = new Family(kind);
                _families[instrument] = family;
                family.Create(this, instrument);
            }
            else if (family.Kind != kind)
            {
                // Envoy would render both under one Prometheus name too; the first kind keeps the name.
                return;
            }
            family.Members = [.. family.Members, new Member(stat, attributes)];
        }
    }

    /// <summary>A removed cluster's or listener's stats stop being observed (an instrument with no member reports nothing).</summary>
    private void RemoveScope(Func<string, bool> removed)
    {
        lock (_lock)
        {
            foreach (var family in _families.Values)
            {
                var members = family.Members;
                var kept = new List<Member>(members.Length);
                foreach (var member in members)
                {
                    if (removed(NameOf(member.Stat)))
                    {
                        _known.Remove(member.Stat);
                    }
                    else
                    {
                        kept.Add(member);
                    }
                }
                if (kept.Count != members.Length)
                {
                    family.Members = [.. kept];
                }
            }
        }
    }

    private static string NameOf(object stat) => stat switch
    {
        Counter c => c.Name,
        Gauge g => g.Name,
        Histogram h => h.Name,
        _ => string.Empty,
    };

    private void RefreshIfStale()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastRefresh);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < RefreshInterval)
        {
            return;
        }
        if (Interlocked.CompareExchange(ref _lastRefresh, now, last) == last)
        {
            _store.Refresh();
        }
    }

    public void Dispose()
    {
        _store.StatCreated -= Add;
        _store.StatsRemoved -= RemoveScope;
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    private sealed record Member(object Stat, KeyValuePair<string, object?>[] Attributes);

    /// <summary>The stats behind one instrument name; <see cref="Members"/> is replaced, never changed, so callbacks read it without a lock.</summary>
    private sealed class Family(Kind kind)
    {
        private static readonly string[] BucketBounds = Array.ConvertAll(Histogram.PrometheusBuckets, Histogram.Format);

        public Kind Kind { get; } = kind;

        private Member[] _members = [];

        public Member[] Members
        {
            get => Volatile.Read(ref _members);
            set => Volatile.Write(ref _members, value);
        }

        public void Create(StatsMeter owner, string name)
        {
            switch (Kind)
            {
                case Kind.Counter:
                    owner.Meter.CreateObservableCounter(name, ObserveCounters, description: "Envoy counter");
                    break;
                case Kind.Gauge:
                    owner.Meter.CreateObservableGauge(name, () => ObserveGauges(owner), description: "Envoy gauge");
                    break;
                default:
                    owner.Meter.CreateObservableCounter(name + ".bucket", ObserveBuckets, unit: "ms", description: "Envoy histogram: values at most le");
                    owner.Meter.CreateObservableCounter(name + ".sum", ObserveSums, unit: "ms", description: "Envoy histogram: sum of the values");
                    owner.Meter.CreateObservableCounter(name + ".count", ObserveCounts, description: "Envoy histogram: number of values");
                    break;
            }
        }

        private IEnumerable<Measurement<long>> ObserveCounters()
        {
            var members = Members;
            var measurements = new Measurement<long>[members.Length];
            for (var i = 0; i < members.Length; i++)
            {
                measurements[i] = new(((Counter)members[i].Stat).Value, members[i].Attributes);
            }
            return measurements;
        }

        private Measurement<long>[] ObserveGauges(StatsMeter owner)
        {
            owner.RefreshIfStale();
            var members = Members;
            var measurements = new Measurement<long>[members.Length];
            for (var i = 0; i < members.Length; i++)
            {
                measurements[i] = new(((Gauge)members[i].Stat).Value, members[i].Attributes);
            }
            return measurements;
        }

        private IEnumerable<Measurement<long>> ObserveBuckets()
        {
            var members = Members;
            var measurements = new List<Measurement<long>>(members.Length * (BucketBounds.Length + 1));
            foreach (var member in members)
            {
                var histogram = (Histogram)member.Stat;
                var counts = histogram.CumulativeBucketCounts();
                for (var i = 0; i < counts.Length; i++)
                {
                    measurements.Add(new(counts[i], WithBound(member.Attributes, BucketBounds[i])));
                }
                measurements.Add(new(histogram.Count, WithBound(member.Attributes, "+Inf")));
            }
            return measurements;
        }

        private IEnumerable<Measurement<double>> ObserveSums()
        {
            var members = Members;
            var measurements = new Measurement<double>[members.Length];
            for (var i = 0; i < members.Length; i++)
            {
                measurements[i] = new(((Histogram)members[i].Stat).Sum, members[i].Attributes);
            }
            return measurements;
        }

        private IEnumerable<Measurement<long>> ObserveCounts()
        {
            var members = Members;
            var measurements = new Measurement<long>[members.Length];
            for (var i = 0; i < members.Length; i++)
            {
                measurements[i] = new(((Histogram)members[i].Stat).Count, members[i].Attributes);
            }
            return measurements;
        }

        private static KeyValuePair<string, object?>[] WithBound(KeyValuePair<string, object?>[] attributes, string bound)
        {
            var result = new KeyValuePair<string, object?>[attributes.Length + 1];
            attributes.CopyTo(result, 0);
            result[^1] = new("le", bound);
            return result;
        }
    }
}
