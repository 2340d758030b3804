using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's Maglev table (MaglevTable, the paper's listing 1 with weights): hosts sorted by key, each with an
/// offset (xxHash64 of the key, seed 0) and a skip (xxHash64 seed 1, in [1, size)); rounds of the hosts fill
/// the first free slot of each one's permutation, a host taking a turn in a round only when its weight has
/// earned it. A request goes to slot <c>hash % size</c>; a re-pick first flips the hash by
/// <c>~0 - attempt + 1</c>. Envoy's compact and original tables give the same answers; this is one table of host indices.
/// </summary>
internal sealed class MaglevPicker : HashTablePicker
{
    /// <summary>By position in key order, the host's index in <see cref="HashTablePicker.Weights"/>.</summary>
    private readonly int[] _hosts;
    private readonly int[] _table;
    private readonly ulong _tableSize;

    public MaglevPicker(IReadOnlyList<WeightedHost> hosts, MaglevPlan plan, Random random)
        : this(NormalizedHostWeights.Flat(hosts), plan, random)
    {
    }

    public MaglevPicker(NormalizedHostWeights normalized, MaglevPlan plan, Random random)
        : base(normalized, random)
    {
        _tableSize = plan.TableSize;
        var hosts = normalized.Hosts;
        if (hosts.Length == 0)
        {
            _hosts = [];
            _table = [];
            return;
        }
        var weights = normalized.Weights;
        var maxWeight = normalized.Max;
        var entries = new Entry[hosts.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new Entry(HostKey(hosts[i], plan.UseHostnameForHashing), i, weights[i]);
        }
        // A stable build order: the table must not depend on the order the hosts came in.
        Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        _hosts = new int[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            _hosts[i] = entries[i].Host;
        }
        var size = plan.TableSize;
        var counts = new ulong[entries.Length];
        if (entries.Length == 1)
        {
            // Envoy's degenerate table: one host takes every slot (and its stats say one entry).
            _table = [];
            MinEntriesPerHost = MaxEntriesPerHost = 1;
            return;
        }
        var offsets = new ulong[entries.Length];
        var skips = new ulong[entries.Length];
        var next = new ulong[entries.Length];
        var targets = new double[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            offsets[i] = HashFunctions.XxHash64(entries[i].Key.AsSpan()) % size;
            skips[i] = HashFunctions.XxHash64(entries[i].Key.AsSpan(), 1) % (size - 1) + 1;
        }
        var table = new int[size];
        Array.Fill(table, -1);
        ulong filled = 0;
        for (uint iteration = 1; filled < size; iteration++)
        {
            for (var i = 0; i < entries.Length && filled < size; i++)
            {
                if (iteration * entries[i].Weight < targets[i])
                {
                    continue;
                }
                targets[i] += maxWeight;
                var c = (offsets[i] + skips[i] * next[i]) % size;
                while (table[c] >= 0)
                {
                    next[i]++;
                    c = (offsets[i] + skips[i] * next[i]) % size;
                }
                table[c] = i;
                next[i]++;
                counts[i]++;
                filled++;
            }
        }
        _table = table;
        ulong min = size, max = 0;
        foreach (var count in counts)
        {
            min = Math.Min(min, count);
            max = Math.Max(max, count);
        }
        MinEntriesPerHost = min;
        MaxEntriesPerHost = max;
    }

    /// <summary><c>maglev_lb.min_entries_per_host</c>.</summary>
    public ulong MinEntriesPerHost { get; }

    /// <summary><c>maglev_lb.max_entries_per_host</c>.</summary>
    public ulong MaxEntriesPerHost { get; }

    public override int ChooseIndex(ulong hash, int attempt)
    {
        var hosts = _hosts;
        if (hosts.Length == 0)
        {
            return -1;
        }
        if (hosts.Length == 1)
        {
            return hosts[0];
        }
        if (attempt > 0)
        {
            // Envoy: a value with most bits set moves the hash far, so re-picks spread over the table.
            hash ^= ~0UL - (ulong)attempt + 1;
        }
        return hosts[_table[hash % _tableSize]];
    }

    private readonly record struct Entry(string Key, int Host, double Weight);
}
