using System.Buffers;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Consistent hashing with bounded loads (<c>hash_balance_factor</c>; Envoy's
/// ThreadAwareLoadBalancerBase::BoundedLoadHashingLoadBalancer, after https://arxiv.org/abs/1608.01350): a host may take
/// <c>ceil(ceil((cluster active + 1) × factor / 100) × its normalized weight)</c> requests (at least 1). When the
/// table's host has more, the other hosts are tried in a random order seeded by the hash (the same key walks the same
/// way: std::mt19937 seeded with it, Envoy's own uniform draw and shuffle); the first within its bound wins, else the
/// least overloaded. Active requests are the hosts' <c>rq_active</c> and the cluster's <c>upstream_rq_active</c>.
/// O(hosts) per overloaded pick, no allocation.
/// </summary>
internal sealed class BoundedLoadPicker(HashTablePicker table, uint hashBalanceFactor, Random random) : HashingPicker(random)
{
    /// <summary>Above this many hosts the shuffle's index array is rented rather than on the stack.</summary>
    private const int StackHosts = 256;

    protected override WeightedHost? Choose(ulong hash, int attempt)
    {
        var weights = table.Weights;
        var hosts = weights.Hosts;
        if (hosts.Length == 0)
        {
            return null;
        }
        var chosen = table.ChooseIndex(hash, attempt);
        if (chosen < 0)
        {
            return null;
        }
        var overload = OverloadFactor(hosts[chosen], weights.Weights[chosen]);
        if (overload <= 1.0)
        {
            return hosts[chosen];
        }
        var count = hosts.Length;
        int[]? rented = null;
        Span<int> order = count <= StackHosts ? stackalloc int[StackHosts] : (rented = ArrayPool<int>.Shared.Rent(count));
        try
        {
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
            }
            var generator = new Mt19937(stackalloc uint[Mt19937.StateSize], (uint)hash);
            var least = chosen;
            var leastOverload = overload;
            for (var i = 0; i < count; i++)
            {
                // Fisher-Yates one step at a time, so the walk stops as soon as a host has room.
                var j = (int)generator.Below((uint)(count - i));
                (order[i], order[i + j]) = (order[i + j], order[i]);
                var k = order[i];
                if (k == chosen)
                {
                    continue;
                }
                overload = OverloadFactor(hosts[k], weights.Weights[k]);
                if (overload <= 1.0)
                {
                    return hosts[k];
                }
                if (leastOverload > overload)
                {
                    least = k;
                    leastOverload = overload;
                }
            }
            return hosts[least];
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Envoy's hostOverloadFactor: the host's active requests over its slots (above 1: overloaded).</summary>
    private double OverloadFactor(in WeightedHost host, double weight)
    {
        // Envoy's arithmetic in 32-bit unsigned integers.
        var overall = (uint)Math.Clamp(host.Host.ClusterRqActive, 0, uint.MaxValue);
        var active = (uint)Math.Clamp(host.Host.RqActive, 0, uint.MaxValue);
        var totalSlots = unchecked(((overall + 1) * hashBalanceFactor + 99) / 100);
        var slots = Math.Max((uint)Math.Ceiling(totalSlots * weight), 1u);
        return (double)active / slots;
    }
}

/// <summary>
/// The 32-bit Mersenne Twister (std::mt19937) over caller-provided state, and Envoy's uniform draw from it; Envoy seeds
/// one with the request's hash so the bounded-load walk is the same for the same key on every platform.
/// </summary>
internal ref struct Mt19937
{
    /// <summary>The state words (n = 624).</summary>
    public const int StateSize = 624;

    private const int M = 397;
    private readonly Span<uint> _state;
    private int _index;

    /// <summary>Seeds as std::mt19937(seed) does (libstdc++ takes the seed modulo 2^32).</summary>
    public Mt19937(Span<uint> state, uint seed)
    {
        _state = state;
        _state[0] = seed;
        for (var i = 1; i < StateSize; i++)
        {
            var previous = _state[i - 1];
            _state[i] = unchecked((1812433253u * (previous ^ (previous >> 30))) + (uint)i);
        }
        _index = StateSize;
    }

    /// <summary>The next 32-bit output.</summary>
    public uint Next()
    {
        if (_index >= StateSize)
        {
            Twist();
        }
        var y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>Envoy's uniform_int: a draw in [0, <paramref name="bound"/>) by division, redrawn while out of range.</summary>
    public uint Below(uint bound)
    {
        var bucket = (1UL << 32) / bound;
        ulong x;
        do
        {
            x = Next() / bucket;
        }
        while (x >= bound);
        return (uint)x;
    }

    private void Twist()
    {
        for (var i = 0; i < StateSize; i++)
        {
            var y = (_state[i] & 0x80000000u) | (_state[(i + 1) % StateSize] & 0x7fffffffu);
            var next = _state[(i + M) % StateSize] ^ (y >> 1);
            _state[i] = (y & 1) != 0 ? next ^ 0x9908b0dfu : next;
        }
        _index = 0;
    }
}
