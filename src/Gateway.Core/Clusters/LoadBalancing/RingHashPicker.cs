using System.Globalization;
using System.Text;
using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's RingHashLoadBalancer::Ring (a ketama ring): each host gets entries in proportion to its normalized
/// weight, scaled so the lightest host has a whole number and the ring stays within
/// [<c>minimum_ring_size</c>, <c>maximum_ring_size</c>]; entry <c>i</c> of a host is the hash of
/// <c>"&lt;key&gt;_&lt;i&gt;"</c>. A request goes to the first entry at or after its hash (wrapping), the
/// n-th re-pick to the entry n places further on.
/// </summary>
internal sealed class RingHashPicker : HashTablePicker
{
    private readonly ulong[] _hashes;
    private readonly int[] _hosts;

    public RingHashPicker(IReadOnlyList<WeightedHost> hosts, RingHashPlan plan, Random random)
        : this(NormalizedHostWeights.Flat(hosts), plan, random)
    {
    }

    public RingHashPicker(NormalizedHostWeights normalized, RingHashPlan plan, Random random)
        : base(normalized, random)
    {
        var hosts = normalized.Hosts;
        if (hosts.Length == 0)
        {
            _hashes = [];
            _hosts = [];
            return;
        }
        var weights = normalized.Weights;
        var minWeight = normalized.Min;
        var scale = Math.Min(Math.Ceiling(minWeight * plan.MinimumRingSize) / minWeight, plan.MaximumRingSize);
        var ringSize = (ulong)Math.Ceiling(scale);
        var entries = new List<(ulong Hash, int Host)>((int)Math.Min(ringSize, int.MaxValue));
        var current = 0.0;
        var target = 0.0;
        ulong minHashes = ringSize;
        ulong maxHashes = 0;
        var keyBuffer = new StringBuilder();
        for (var h = 0; h < hosts.Length; h++)
        {
            var key = HostKey(hosts[h], plan.UseHostnameForHashing);
            keyBuffer.Clear().Append(key).Append('_');
            var prefixLength = keyBuffer.Length;
            target += scale * weights[h];
            ulong i = 0;
            while (current < target)
            {
                keyBuffer.Length = prefixLength;
                keyBuffer.Append(i.ToString(CultureInfo.InvariantCulture));
                var bytes = Encoding.UTF8.GetBytes(keyBuffer.ToString());
                var hash = plan.HashFunction == RingHashFunction.MurmurHash2 ? HashFunctions.MurmurHash2(bytes) : HashFunctions.XxHash64(bytes);
                entries.Add((hash, h));
                i++;
                current++;
            }
            minHashes = Math.Min(i, minHashes);
            maxHashes = Math.Max(i, maxHashes);
        }
        entries.Sort(static (a, b) => a.Hash.CompareTo(b.Hash));
        _hashes = new ulong[entries.Count];
        _hosts = new int[entries.Count];
        for (var e = 0; e < entries.Count; e++)
        {
            _hashes[e] = entries[e].Hash;
            _hosts[e] = entries[e].Host;
        }
        Size = ringSize;
        MinHashesPerHost = minHashes;
        MaxHashesPerHost = maxHashes;
    }

    /// <summary>The ring's size as Envoy reports it (<c>ring_hash_lb.size</c>).</summary>
    public ulong Size { get; }

    /// <summary><c>ring_hash_lb.min_hashes_per_host</c>.</summary>
    public ulong MinHashesPerHost { get; }

    /// <summary><c>ring_hash_lb.max_hashes_per_host</c>.</summary>
    public ulong MaxHashesPerHost { get; }

    /// <summary>The ring's entry hashes, ascending (tests compare them with Envoy's).</summary>
    internal ReadOnlySpan<ulong> EntryHashes => _hashes;

    public override int ChooseIndex(ulong hash, int attempt)
    {
        var ring = _hashes;
        if (ring.Length == 0)
        {
            return -1;
        }
        // Envoy's port of ketama_get_server, signed indices included: the first entry whose hash is >= the
        // request's, or the first entry when the hash is past the last one.
        long low = 0;
        long high = ring.Length;
        long mid;
        while (true)
        {
            mid = (low + high) / 2;
            if (mid == ring.Length)
            {
                mid = 0;
                break;
            }
            var midValue = ring[mid];
            var below = mid == 0 ? 0 : ring[mid - 1];
            if (hash <= midValue && hash > below)
            {
                break;
            }
            if (midValue < hash)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
            if (low > high)
            {
                mid = 0;
                break;
            }
        }
        if (attempt > 0)
        {
            // Envoy: behave as if the host were not in the ring (not a guarantee of a different host).
            mid = (mid + attempt) % ring.Length;
        }
        return _hosts[mid];
    }
}
