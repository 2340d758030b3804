using System.Text.Json;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// A hash-based picker (Envoy's ThreadAwareLoadBalancerBase::HashingLoadBalancer): the same hash and attempt
/// always give the same host. A request without a hash key gets a random one (Envoy: "effectively becomes the
/// random LB"), drawn once per request with <see cref="RandomHash"/> so its re-picks walk from the same point.
/// </summary>
internal abstract class HashingPicker(Random random) : IHostPicker
{
    /// <summary>A random hash for a request without a hash key.</summary>
    public ulong RandomHash() => (ulong)random.NextInt64(long.MinValue, long.MaxValue);

    public WeightedHost? Pick(ulong? hash, int attempt) => Choose(hash ?? RandomHash(), attempt);

    /// <summary>Envoy's <c>chooseHost(hash, attempt)</c>; null when there is no host.</summary>
    protected abstract WeightedHost? Choose(ulong hash, int attempt);

    /// <summary>
    /// The key a host is hashed by (Envoy's ThreadAwareLoadBalancerBase::hashKey): the endpoint metadata's
    /// <c>envoy.lb</c> <c>hash_key</c> when it is a non-empty string, else the host name with
    /// <c>use_hostname_for_hashing</c>, else the address (<c>ip:port</c>).
    /// </summary>
    public static string HostKey(in WeightedHost host, bool useHostname)
    {
        if (host.Host.Metadata.TryGetValue("envoy.lb", "hash_key", out var value)
            && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } key)
        {
            return key;
        }
        return useHostname ? host.Destination.Model?.Config.Host ?? "" : host.Host.Address;
    }

    /// <summary>
    /// Normalized weights (each weight over their sum, Envoy's normalizeHostWeights) and their minimum and maximum.
    /// </summary>
    protected static double[] Normalize(IReadOnlyList<WeightedHost> hosts, out double min, out double max)
    {
        ulong sum = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            sum += hosts[i].Weight;
        }
        var normalized = new double[hosts.Count];
        min = 1.0;
        max = 0.0;
        for (var i = 0; i < hosts.Count; i++)
        {
            var weight = (double)hosts[i].Weight / sum;
            normalized[i] = weight;
            min = Math.Min(min, weight);
            max = Math.Max(max, weight);
        }
        return normalized;
    }
}

/// <summary>The <c>ring_hash_lb.*</c> or <c>maglev_lb.*</c> gauges of one cluster (Envoy sets them when a ring or table is built).</summary>
internal sealed class HashLbStats
{
    private HashLbStats(Gauge? size, Gauge min, Gauge max)
    {
        Size = size;
        Min = min;
        Max = max;
    }

    /// <summary><c>ring_hash_lb.size</c>; null for Maglev.</summary>
    public Gauge? Size { get; }

    /// <summary><c>ring_hash_lb.min_hashes_per_host</c> or <c>maglev_lb.min_entries_per_host</c>.</summary>
    public Gauge Min { get; }

    /// <summary><c>ring_hash_lb.max_hashes_per_host</c> or <c>maglev_lb.max_entries_per_host</c>.</summary>
    public Gauge Max { get; }

    /// <summary>The gauges under <c>cluster.&lt;name&gt;.</c> (<paramref name="prefix"/>) for <paramref name="plan"/>'s algorithm.</summary>
    public static HashLbStats For(StatsStore store, string prefix, HashLbPlan plan)
        => plan is RingHashPlan
            ? new HashLbStats(store.Gauge(prefix + "ring_hash_lb.size"), store.Gauge(prefix + "ring_hash_lb.min_hashes_per_host"), store.Gauge(prefix + "ring_hash_lb.max_hashes_per_host"))
            : new HashLbStats(null, store.Gauge(prefix + "maglev_lb.min_entries_per_host"), store.Gauge(prefix + "maglev_lb.max_entries_per_host"));
}

/// <summary>Builds the RING_HASH or MAGLEV picker of a cluster whenever its host list changes.</summary>
internal sealed class HashPickerFactory : IHostPickerFactory
{
    private readonly HashLbPlan _plan;
    private readonly Random _random;
    private readonly HashLbStats? _stats;

    private HashPickerFactory(HashLbPlan plan, Random random, HashLbStats? stats)
    {
        _plan = plan;
        _random = random;
        _stats = stats;
    }

    /// <summary>
    /// The factory for a cluster's hash policy settings (the one place that turns the plan into the algorithm, for
    /// <c>lb_policy</c> RING_HASH/MAGLEV and the typed <c>ring_hash.v3.RingHash</c>/<c>maglev.v3.Maglev</c> alike).
    /// </summary>
    public static HashPickerFactory Create(HashLbPlan plan, Random? random = null, HashLbStats? stats = null)
        => new(plan, random ?? Random.Shared, stats);

    public HashLbPlan Plan => _plan;

    IHostPicker IHostPickerFactory.Create(IReadOnlyList<WeightedHost> hosts) => Create(hosts);

    /// <summary>A picker over <paramref name="hosts"/>, with the cluster's gauges set from it.</summary>
    public HashingPicker Create(IReadOnlyList<WeightedHost> hosts)
    {
        HashingPicker picker;
        ulong min, max;
        switch (_plan)
        {
            case RingHashPlan ring:
                var built = new RingHashPicker(hosts, ring, _random);
                _stats?.Size?.Set((long)built.Size);
                (min, max) = (built.MinHashesPerHost, built.MaxHashesPerHost);
                picker = built;
                break;
            case MaglevPlan maglev:
                var table = new MaglevPicker(hosts, maglev, _random);
                (min, max) = (table.MinEntriesPerHost, table.MaxEntriesPerHost);
                picker = table;
                break;
            default:
                throw new InvalidOperationException("unknown hash load balancer " + _plan.GetType().Name);
        }
        if (_stats is not null && hosts.Count > 0)
        {
            _stats.Min.Set((long)min);
            _stats.Max.Set((long)max);
        }
        return picker;
    }
}
