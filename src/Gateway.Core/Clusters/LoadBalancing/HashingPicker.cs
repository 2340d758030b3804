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
}

/// <summary>
/// A ring or table over <see cref="NormalizedHostWeights"/>: a pick yields the index of a host in that list, so the
/// bounded-load wrapper finds the host's weight without a lookup.
/// </summary>
internal abstract class HashTablePicker(NormalizedHostWeights weights, Random random) : HashingPicker(random)
{
    /// <summary>The hosts and weights the table was built from.</summary>
    public NormalizedHostWeights Weights => weights;

    /// <summary>The index in <see cref="Weights"/> of the host for <paramref name="hash"/>; -1 when there is none.</summary>
    public abstract int ChooseIndex(ulong hash, int attempt);

    protected sealed override WeightedHost? Choose(ulong hash, int attempt)
    {
        var index = ChooseIndex(hash, attempt);
        return index < 0 ? null : weights.Hosts[index];
    }
}

/// <summary>
/// The hosts of one ring or table with their normalized weights (Envoy's NormalizedHostWeightVector, filled by
/// normalizeWeights in thread_aware_lb_impl.cc) and the lightest and heaviest of them.
/// </summary>
internal sealed class NormalizedHostWeights
{
    private NormalizedHostWeights(WeightedHost[] hosts, double[] weights)
    {
        Hosts = hosts;
        Weights = weights;
        Min = 1.0;
        Max = 0.0;
        foreach (var weight in weights)
        {
            Min = Math.Min(Min, weight);
            Max = Math.Max(Max, weight);
        }
    }

    /// <summary>The hosts, in the order the ring is built (and bounded load indexes them).</summary>
    public WeightedHost[] Hosts { get; }

    /// <summary>Each host's normalized weight.</summary>
    public double[] Weights { get; }

    /// <summary>The lightest weight (1 when there is no host).</summary>
    public double Min { get; }

    /// <summary>The heaviest weight (0 when there is no host).</summary>
    public double Max { get; }

    /// <summary>Without locality weighting: each host's weight over the sum of all (Envoy's normalizeHostWeights with share 1).</summary>
    public static NormalizedHostWeights Flat(IReadOnlyList<WeightedHost> hosts)
    {
        var copy = new WeightedHost[hosts.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = hosts[i];
        }
        var weights = new double[copy.Length];
        AddLocality(copy, 0, copy.Length, 1.0, weights);
        return new NormalizedHostWeights(copy, weights);
    }

    /// <summary>
    /// With locality weighting (Envoy's normalizeLocalityWeights): the localities are those of <paramref name="all"/>
    /// (the level's hosts), in Envoy's order; a locality's share is its <c>load_balancing_weight</c> over the sum of
    /// all of theirs, those without an eligible host included, so the shares of the hosts may sum to less than 1 as in
    /// Envoy. A host of <paramref name="eligible"/> weighs its weight within its locality's eligible hosts times that
    /// share. A locality of weight 0 contributes no host; when all weigh 0 there is none.
    /// </summary>
    public static NormalizedHostWeights ByLocality(IReadOnlyList<WeightedHost> eligible, IReadOnlyList<WeightedHost> all)
    {
        var localities = new List<(LocalityPlan Locality, uint Weight)>();
        foreach (var host in all)
        {
            var locality = host.Locality ?? LocalityPlan.None;
            if (IndexOf(localities, locality) < 0)
            {
                localities.Add((locality, host.LocalityWeight));
            }
        }
        localities.Sort(static (a, b) => LocalityPlan.Compare(a.Locality, b.Locality));
        ulong sum = 0;
        foreach (var (_, weight) in localities)
        {
            sum += weight;
        }
        var hosts = new List<WeightedHost>(eligible.Count);
        var shares = new List<(int Start, int Count, double Share)>();
        if (sum > 0)
        {
            foreach (var (locality, weight) in localities)
            {
                if (weight == 0)
                {
                    continue;
                }
                var start = hosts.Count;
                foreach (var host in eligible)
                {
                    if ((host.Locality ?? LocalityPlan.None).Equals(locality))
                    {
                        hosts.Add(host);
                    }
                }
                shares.Add((start, hosts.Count - start, (double)weight / sum));
            }
        }
        var ordered = hosts.ToArray();
        var weights = new double[ordered.Length];
        foreach (var (start, count, share) in shares)
        {
            AddLocality(ordered, start, count, share, weights);
        }
        return new NormalizedHostWeights(ordered, weights);
    }

    /// <summary>Envoy's normalizeHostWeights over <paramref name="count"/> hosts from <paramref name="start"/>: weight × share / their sum.</summary>
    private static void AddLocality(WeightedHost[] hosts, int start, int count, double share, double[] weights)
    {
        ulong sum = 0;
        for (var i = start; i < start + count; i++)
        {
            sum += hosts[i].Weight;
        }
        for (var i = start; i < start + count; i++)
        {
            weights[i] = hosts[i].Weight * share / sum;
        }
    }

    private static int IndexOf(List<(LocalityPlan Locality, uint Weight)> localities, LocalityPlan locality)
    {
        for (var i = 0; i < localities.Count; i++)
        {
            if (localities[i].Locality.Equals(locality))
            {
                return i;
            }
        }
        return -1;
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

    /// <summary>A picker over <paramref name="hosts"/> weighted by their own weights, with the cluster's gauges set from it.</summary>
    public HashingPicker Create(IReadOnlyList<WeightedHost> hosts) => Create(NormalizedHostWeights.Flat(hosts));

    /// <summary>
    /// A picker over hosts with weights already normalized (Envoy's createLoadBalancer): the ring or table, behind the
    /// bounded-load walk when <c>hash_balance_factor</c> is set; the cluster's gauges are set from the table.
    /// </summary>
    public HashingPicker Create(NormalizedHostWeights weights)
    {
        HashTablePicker picker;
        ulong min, max;
        switch (_plan)
        {
            case RingHashPlan ring:
                var built = new RingHashPicker(weights, ring, _random);
                _stats?.Size?.Set((long)built.Size);
                (min, max) = (built.MinHashesPerHost, built.MaxHashesPerHost);
                picker = built;
                break;
            case MaglevPlan maglev:
                var table = new MaglevPicker(weights, maglev, _random);
                (min, max) = (table.MinEntriesPerHost, table.MaxEntriesPerHost);
                picker = table;
                break;
            default:
                throw new InvalidOperationException("unknown hash load balancer " + _plan.GetType().Name);
        }
        if (_stats is not null && weights.Hosts.Length > 0)
        {
            _stats.Min.Set((long)min);
            _stats.Max.Set((long)max);
        }
        return _plan.HashBalanceFactor > 0 ? new BoundedLoadPicker(picker, _plan.HashBalanceFactor, _random) : picker;
    }
}
