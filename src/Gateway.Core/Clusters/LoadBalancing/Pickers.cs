namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's EdfLoadBalancerBase over one host list: with equal weights and no host in slow start an unweighted pick
/// (the policy's own), else the EDF scheduler with the policy's dynamic host weight (scaled by slow start), started
/// after a random number of picks as Envoy seeds it.
/// </summary>
internal abstract class EdfHostPicker : IHostPicker
{
    private readonly EdfScheduler? _edf;
    private readonly Func<int, double> _weight;
    private readonly Lock _lock = new();
    private readonly SlowStart? _slowStart;

    protected EdfHostPicker(IReadOnlyList<WeightedHost> hosts, LbRandom random, SlowStart? slowStart)
    {
        Hosts = [.. hosts];
        Random = random;
        _slowStart = slowStart;
        _weight = i => HostWeight(Hosts[i]);
        slowStart?.Refresh(Hosts);
        var equal = true;
        for (var i = 1; i < Hosts.Length; i++)
        {
            equal &= Hosts[i].Weight == Hosts[0].Weight;
        }
        // Envoy skips the scheduler when the weights are equal and no host is in slow start, or there is at most one host.
        if ((!equal || slowStart?.NoHostsInSlowStart() == false) && Hosts.Length > 1)
        {
            _edf = new EdfScheduler(Hosts.Length);
            for (var i = 0; i < Hosts.Length; i++)
            {
                _edf.Add(i, HostWeight(Hosts[i]));
            }
            var skip = (int)(random.Next() % (ulong)Hosts.Length);
            for (var i = 0; i < skip; i++)
            {
                _edf.PickAndAdd(_weight);
            }
        }
    }

    protected WeightedHost[] Hosts { get; }

    protected LbRandom Random { get; }

    /// <summary>The weight the scheduler gives a host when it is (re-)added: the policy's, scaled while hosts are in slow start.</summary>
    private double HostWeight(WeightedHost host)
    {
        var weight = DynamicWeight(host);
        return _slowStart is null ? weight : _slowStart.Weight(weight, host.Host);
    }

    /// <summary>The policy's weight of a host before slow start.</summary>
    protected virtual double DynamicWeight(WeightedHost host) => host.Weight;

    /// <summary>The pick when all weights are equal (Envoy's unweightedHostPick).</summary>
    protected abstract WeightedHost UnweightedPick();

    public WeightedHost? Pick(ulong? hash, int attempt)
    {
        if (Hosts.Length == 0)
        {
            return null;
        }
        if (_edf is null)
        {
            return UnweightedPick();
        }
        lock (_lock)
        {
            return Hosts[_edf.PickAndAdd(_weight)];
        }
    }
}

/// <summary>ROUND_ROBIN: plain rotation from a random start with equal weights, else EDF by <c>load_balancing_weight</c>.</summary>
internal sealed class RoundRobinPicker : EdfHostPicker
{
    private long _index;

    public RoundRobinPicker(IReadOnlyList<WeightedHost> hosts, LbRandom random, SlowStart? slowStart = null)
        : base(hosts, random, slowStart) => _index = (long)(random.Next() >> 1);

    protected override WeightedHost UnweightedPick()
        => Hosts[(int)((ulong)(Interlocked.Increment(ref _index) - 1) % (ulong)Hosts.Length)];
}

/// <summary>
/// LEAST_REQUEST: with equal weights the fewest active requests of <c>choice_count</c> random samples (N_CHOICES), or
/// of all hosts with a random one of those tied (FULL_SCAN); with unequal weights EDF by
/// <c>weight / (active_requests + 1)^active_request_bias</c> (Envoy's LeastRequestLoadBalancer).
/// </summary>
internal sealed class LeastRequestPicker(IReadOnlyList<WeightedHost> hosts, LbRandom random, int choiceCount, double activeRequestBias, SlowStart? slowStart = null, bool fullScan = false)
    : EdfHostPicker(hosts, random, slowStart)
{
    protected override double DynamicWeight(WeightedHost host)
    {
        double active = host.Host.RqActive + 1;
        return activeRequestBias == 1.0 ? host.Weight / active
            : activeRequestBias == 0.0 ? host.Weight
            : host.Weight / Math.Pow(active, activeRequestBias);
    }

    protected override WeightedHost UnweightedPick() => fullScan ? FullScan() : NChoices();

    /// <summary>Envoy's unweightedHostPickNChoices: <c>choice_count</c> draws (with repeats, however few hosts there are).</summary>
    private WeightedHost NChoices()
    {
        var hosts = Hosts;
        var candidate = -1;
        for (var choice = 0; choice < choiceCount; choice++)
        {
            var sampled = (int)(Random.Next() % (ulong)hosts.Length);
            if (candidate < 0 || hosts[sampled].Host.RqActive < hosts[candidate].Host.RqActive)
            {
                candidate = sampled;
            }
        }
        return hosts[candidate];
    }

    /// <summary>Envoy's unweightedHostPickFullScan: the least loaded, ties broken by reservoir sampling (each tied host equally likely).</summary>
    private WeightedHost FullScan()
    {
        var hosts = Hosts;
        var candidate = 0;
        ulong tied = 1;
        for (var i = 1; i < hosts.Length; i++)
        {
            var active = hosts[i].Host.RqActive;
            var least = hosts[candidate].Host.RqActive;
            if (active < least)
            {
                candidate = i;
                tied = 1;
            }
            else if (active == least && Random.Next() % ++tied == 0)
            {
                candidate = i;
            }
        }
        return hosts[candidate];
    }
}

/// <summary>RANDOM: uniform over the hosts; Envoy's random load balancer ignores weights.</summary>
internal sealed class RandomPicker(IReadOnlyList<WeightedHost> hosts, LbRandom random) : IHostPicker
{
    private readonly WeightedHost[] _hosts = [.. hosts];

    public WeightedHost? Pick(ulong? hash, int attempt)
        => _hosts.Length == 0 ? null : _hosts[(int)(random.Next() % (ulong)_hosts.Length)];
}

/// <summary>Makes a cluster's pickers for the non-hash policies.</summary>
internal sealed class PickerFactory(Func<IReadOnlyList<WeightedHost>, IHostPicker> create) : IHostPickerFactory
{
    public IHostPicker Create(IReadOnlyList<WeightedHost> hosts) => create(hosts);

    /// <summary>ROUND_ROBIN; <paramref name="slowStart"/> (one per factory, as its state spans host list changes) when configured.</summary>
    public static PickerFactory RoundRobin(Random random, SlowStart? slowStart = null)
    {
        var r = new LbRandom(random);
        return new(h => new RoundRobinPicker(h, r, slowStart));
    }

    public static PickerFactory LeastRequest(Random random, int choiceCount = 2, double activeRequestBias = 1.0, SlowStart? slowStart = null, bool fullScan = false)
    {
        var r = new LbRandom(random);
        return new(h => new LeastRequestPicker(h, r, choiceCount, activeRequestBias, slowStart, fullScan));
    }

    public static PickerFactory Random(Random random) { var r = new LbRandom(random); return new(h => new RandomPicker(h, r)); }
}

/// <summary>
/// Envoy's LoadBalancerBase::recalculatePerPriorityState: each priority's health is
/// min(100, overprovisioning_factor × healthy / hosts) (degraded likewise; host counts, or weight sums with
/// <c>weighted_priority_health</c>); load goes to priorities in order by
/// health, then by degraded health, normalised when the total is under 100, the rest to the first available.
/// </summary>
internal static class PriorityLoad
{
    /// <summary>Fills <paramref name="healthyLoad"/> and <paramref name="degradedLoad"/> (percent, summing to 100 unless nothing is available); false when every priority is unavailable (total panic).</summary>
    public static bool Compute(ReadOnlySpan<(long Hosts, long Healthy, long Degraded)> priorities, int overprovisioningFactor, Span<int> healthyLoad, Span<int> degradedLoad)
        => Compute(priorities, overprovisioningFactor, healthyLoad, degradedLoad, out _);

    /// <summary>
    /// <see cref="Compute(ReadOnlySpan{ValueTuple{long, long, long}}, int, Span{int}, Span{int})"/>, also giving the normalized
    /// total availability (the sum of every level's health and degraded health, capped at 100) the panic decision reads.
    /// </summary>
    public static bool Compute(ReadOnlySpan<(long Hosts, long Healthy, long Degraded)> priorities, int overprovisioningFactor, Span<int> healthyLoad, Span<int> degradedLoad, out int normalizedTotal)
    {
        Span<int> health = stackalloc int[priorities.Length];
        Span<int> degraded = stackalloc int[priorities.Length];
        var total = 0;
        for (var i = 0; i < priorities.Length; i++)
        {
            var p = priorities[i];
            // Int128: with weighted_priority_health these are weight sums, whose product with the factor can pass 2^63.
            health[i] = p.Hosts == 0 ? 0 : (int)Int128.Min(100, (Int128)overprovisioningFactor * p.Healthy / p.Hosts);
            degraded[i] = p.Hosts == 0 ? 0 : (int)Int128.Min(100, (Int128)overprovisioningFactor * p.Degraded / p.Hosts);
            total += health[i] + degraded[i];
        }
        total = Math.Min(total, 100);
        normalizedTotal = total;
        healthyLoad.Clear();
        degradedLoad.Clear();
        if (total == 0)
        {
            return false;
        }
        var (firstHealthy, remaining) = Distribute(healthyLoad, health, 100, total);
        var (firstDegraded, rest) = Distribute(degradedLoad, degraded, remaining, total);
        if (rest != 0)
        {
            if (firstHealthy >= 0)
            {
                healthyLoad[firstHealthy] += rest;
            }
            else
            {
                degradedLoad[firstDegraded] += rest;
            }
        }
        return true;
    }

    private static (int First, int Remaining) Distribute(Span<int> load, ReadOnlySpan<int> availability, int totalLoad, int normalizedTotal)
    {
        var first = -1;
        for (var i = 0; i < availability.Length; i++)
        {
            if (first < 0 && availability[i] > 0)
            {
                first = i;
            }
            load[i] = Math.Min(totalLoad, availability[i] * 100 / normalizedTotal);
            totalLoad -= load[i];
        }
        return (first, totalLoad);
    }
}
