using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>The settings Envoy's LoadBalancerBase reads besides the hosts.</summary>
internal sealed record PrioritySetOptions(uint OverprovisioningFactor, double HealthyPanicThreshold, bool LocalityWeighted)
{
    /// <summary><c>weighted_priority_health</c>: a level's health is its healthy (degraded) hosts' weight over its hosts' weight.</summary>
    public bool WeightedPriorityHealth { get; init; }

    /// <summary>Envoy's defaults: factor 140, threshold 50%, no locality weighting.</summary>
    public static readonly PrioritySetOptions Defaults = new(ClusterPlan.DefaultOverprovisioningFactor, ClusterPlan.DefaultHealthyPanicThreshold, false);

    /// <summary>The zone-aware settings (<c>zone_aware_lb_config</c> or Envoy's defaults); null when not configured.</summary>
    public ZoneAwarePlan? ZoneAware { get; init; }

    /// <summary>The local zone (<c>node.locality</c>) zone-aware routing keeps requests in; null when the node has none.</summary>
    public LocalityPlan? NodeLocality { get; init; }

    /// <summary><c>fail_traffic_on_panic</c>: a level in panic fails its picks instead of using all its hosts.</summary>
    public bool FailTrafficOnPanic => ZoneAware?.FailTrafficOnPanic ?? false;
}

/// <summary>
/// One host list split into Envoy's priority set: per priority its hosts by health, its share of the load
/// (healthy and degraded), and whether it is in panic (source/extensions/load_balancing_policies/common/load_balancer_impl.cc:
/// recalculatePerPriorityState, recalculatePerPriorityPanic, recalculateLoadInTotalPanic). Computed when hosts or health change.
/// </summary>
internal sealed class PrioritySetState
{
    private PrioritySetState(WeightedHost[][] all, WeightedHost[][] healthy, WeightedHost[][] degraded, int[] healthyLoad, int[] degradedLoad, bool[] panic)
    {
        All = all;
        Healthy = healthy;
        Degraded = degraded;
        HealthyLoad = healthyLoad;
        DegradedLoad = degradedLoad;
        Panic = panic;
    }

    /// <summary>Every host, by priority (a priority without hosts has an empty list, as Envoy's host sets up to the highest level used).</summary>
    public WeightedHost[][] All { get; }

    /// <summary>The healthy hosts, by priority.</summary>
    public WeightedHost[][] Healthy { get; }

    /// <summary>The degraded hosts, by priority.</summary>
    public WeightedHost[][] Degraded { get; }

    /// <summary>Percent of requests each priority's healthy hosts take.</summary>
    public int[] HealthyLoad { get; }

    /// <summary>Percent of requests each priority's degraded hosts take.</summary>
    public int[] DegradedLoad { get; }

    /// <summary>Per priority: too few hosts are healthy, so all of them are used.</summary>
    public bool[] Panic { get; }

    /// <summary>The number of healthy hosts (<c>membership_healthy</c>).</summary>
    public int HealthyCount
    {
        get
        {
            var count = 0;
            foreach (var level in Healthy)
            {
                count += level.Length;
            }
            return count;
        }
    }

    /// <summary>The number of degraded hosts (<c>membership_degraded</c>).</summary>
    public int DegradedCount
    {
        get
        {
            var count = 0;
            foreach (var level in Degraded)
            {
                count += level.Length;
            }
            return count;
        }
    }

    /// <summary>True when any priority that takes load is in panic.</summary>
    public bool AnyPanic
    {
        get
        {
            for (var p = 0; p < Panic.Length; p++)
            {
                if (Panic[p] && HealthyLoad[p] + DegradedLoad[p] > 0)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Splits <paramref name="hosts"/> by priority and health and computes the load of each priority.</summary>
    public static PrioritySetState Compute(IReadOnlyList<WeightedHost> hosts, PrioritySetOptions options)
    {
        var levels = 1;
        for (var i = 0; i < hosts.Count; i++)
        {
            levels = Math.Max(levels, hosts[i].Priority + 1);
        }
        var all = Group(hosts, levels, null);
        var healthy = Group(hosts, levels, HostHealth.Healthy);
        var degraded = Group(hosts, levels, HostHealth.Degraded);
        var counts = new (int Hosts, int Healthy, int Degraded)[levels];
        for (var p = 0; p < levels; p++)
        {
            counts[p] = (all[p].Length, healthy[p].Length, degraded[p].Length);
        }
        // Envoy divides by hosts().size() - excludedHosts().size() (recalculatePerPriorityState and the panic check).
        for (var i = 0; i < hosts.Count; i++)
        {
            if (hosts[i].Excluded)
            {
                counts[hosts[i].Priority].Hosts--;
            }
        }
        var healthyLoad = new int[levels];
        var degradedLoad = new int[levels];
        // Only the health (the load split) reads weights; panic and total panic still count hosts, as in Envoy.
        PriorityLoad.Compute(options.WeightedPriorityHealth ? Weights(all, healthy, degraded) : Counts(counts), (int)Math.Min(options.OverprovisioningFactor, int.MaxValue), healthyLoad, degradedLoad, out var normalizedTotal);

        var panic = new bool[levels];
        var threshold = Math.Min(100.0, options.HealthyPanicThreshold);
        if (threshold == 0 && normalizedTotal == 0)
        {
            // Panic disabled and nothing available: P0 gets the load and finds no host (no healthy upstream).
            healthyLoad[0] = 100;
            return new PrioritySetState(all, healthy, degraded, healthyLoad, degradedLoad, panic);
        }
        var totalPanic = true;
        for (var p = 0; p < levels; p++)
        {
            // A fully available set never panics, however few hosts a single level has.
            var hostCount = counts[p].Hosts;
            var usable = hostCount == 0 ? 0.0 : 100.0 * counts[p].Healthy / hostCount + 100.0 * counts[p].Degraded / hostCount;
            panic[p] = normalizedTotal != 100 && usable < threshold;
            totalPanic &= panic[p];
        }
        if (totalPanic)
        {
            LoadInTotalPanic(counts, healthyLoad, degradedLoad);
        }
        return new PrioritySetState(all, healthy, degraded, healthyLoad, degradedLoad, panic);
    }

    private static (long Hosts, long Healthy, long Degraded)[] Counts(ReadOnlySpan<(int Hosts, int Healthy, int Degraded)> counts)
    {
        var levels = new (long, long, long)[counts.Length];
        for (var p = 0; p < counts.Length; p++)
        {
            levels[p] = counts[p];
        }
        return levels;
    }

    /// <summary>Per level the summed weights of all its hosts, its healthy hosts and its degraded hosts (Envoy's weightedPriorityHealth).</summary>
    private static (long Hosts, long Healthy, long Degraded)[] Weights(WeightedHost[][] all, WeightedHost[][] healthy, WeightedHost[][] degraded)
    {
        static long Sum(WeightedHost[] hosts)
        {
            long sum = 0;
            foreach (var host in hosts)
            {
                sum += host.Weight;
            }
            return sum;
        }
        var levels = new (long, long, long)[all.Length];
        for (var p = 0; p < all.Length; p++)
        {
            levels[p] = (Sum(all[p]), Sum(healthy[p]), Sum(degraded[p]));
        }
        return levels;
    }

    /// <summary>Every level in panic: load by each level's share of all hosts, the rest to the first level with hosts.</summary>
    private static void LoadInTotalPanic(ReadOnlySpan<(int Hosts, int Healthy, int Degraded)> counts, int[] healthyLoad, int[] degradedLoad)
    {
        var total = 0;
        foreach (var level in counts)
        {
            total += level.Hosts;
        }
        Array.Clear(degradedLoad);
        if (total == 0)
        {
            Array.Clear(healthyLoad);
            healthyLoad[0] = 100;
            return;
        }
        var remaining = 100;
        var firstNonEmpty = -1;
        for (var p = 0; p < counts.Length; p++)
        {
            if (firstNonEmpty < 0 && counts[p].Hosts != 0)
            {
                firstNonEmpty = p;
            }
            healthyLoad[p] = 100 * counts[p].Hosts / total;
            remaining -= healthyLoad[p];
        }
        healthyLoad[firstNonEmpty] += remaining;
    }

    private static WeightedHost[][] Group(IReadOnlyList<WeightedHost> hosts, int levels, HostHealth? health)
    {
        var sizes = new int[levels];
        for (var i = 0; i < hosts.Count; i++)
        {
            if (health is null || hosts[i].Health == health)
            {
                sizes[hosts[i].Priority]++;
            }
        }
        var groups = new WeightedHost[levels][];
        for (var p = 0; p < levels; p++)
        {
            groups[p] = new WeightedHost[sizes[p]];
            sizes[p] = 0;
        }
        for (var i = 0; i < hosts.Count; i++)
        {
            if (health is null || hosts[i].Health == health)
            {
                var p = hosts[i].Priority;
                groups[p][sizes[p]++] = hosts[i];
            }
        }
        return groups;
    }

    /// <summary>
    /// The hosts a pick can return: of each level with load, all hosts in panic, else its healthy hosts (when its
    /// healthy load is above 0) and its degraded ones (when its degraded load is).
    /// </summary>
    public List<WeightedHost> Reachable(bool failTrafficOnPanic = false)
    {
        var reachable = new List<WeightedHost>();
        for (var p = 0; p < All.Length; p++)
        {
            if (HealthyLoad[p] + DegradedLoad[p] == 0 || (Panic[p] && failTrafficOnPanic))
            {
                continue;
            }
            if (Panic[p])
            {
                reachable.AddRange(All[p]);
                continue;
            }
            if (HealthyLoad[p] > 0)
            {
                reachable.AddRange(Healthy[p]);
            }
            if (DegradedLoad[p] > 0)
            {
                reachable.AddRange(Degraded[p]);
            }
        }
        return reachable;
    }

    /// <summary>
    /// Envoy's LoadBalancerBase::choosePriority: <paramref name="draw"/> % 100 + 1 against the healthy loads in
    /// order, then the degraded loads. Returns the level; <paramref name="degradedHosts"/> says which of its hosts.
    /// </summary>
    public int ChoosePriority(ulong draw, out bool degradedHosts)
    {
        var point = (int)(draw % 100) + 1;
        var aggregate = 0;
        for (var p = 0; p < HealthyLoad.Length; p++)
        {
            aggregate += HealthyLoad[p];
            if (point <= aggregate)
            {
                degradedHosts = false;
                return p;
            }
        }
        for (var p = 0; p < DegradedLoad.Length; p++)
        {
            aggregate += DegradedLoad[p];
            if (point <= aggregate)
            {
                degradedHosts = true;
                return p;
            }
        }
        degradedHosts = false;
        return 0;
    }

    /// <summary>Copies of <paramref name="hosts"/> marked as picked in panic mode.</summary>
    public static WeightedHost[] MarkPanic(WeightedHost[] hosts)
    {
        var marked = new WeightedHost[hosts.Length];
        for (var i = 0; i < hosts.Length; i++)
        {
            marked[i] = hosts[i] with { Panic = true };
        }
        return marked;
    }
}

/// <summary>
/// Wraps a cluster's per-policy factory with Envoy's priority set: each priority level gets its own pickers (over
/// its healthy hosts, its degraded hosts, all its hosts in panic, and per locality with <c>locality_weighted_lb_config</c>),
/// and a pick first chooses the level by its load. A host list with one level, no degraded host and no locality
/// weighting gets the policy's picker directly (nothing to choose).
/// </summary>
internal sealed class PrioritySetPickerFactory(IHostPickerFactory inner, PrioritySetOptions options, Random random, ZoneRoutingSource? zone = null, Stats.Counter? healthyPanic = null) : IHostPickerFactory
{
    private readonly LbRandom _random = new(random);

    /// <summary>The per-policy factory each level's pickers come from.</summary>
    public IHostPickerFactory Inner => inner;

    public IHostPicker Create(IReadOnlyList<WeightedHost> hosts)
    {
        var state = PrioritySetState.Compute(hosts, options);
        if (inner is HashPickerFactory hashing)
        {
            return CreateHashing(state, hashing);
        }
        // Envoy routes by zone only at priority 0, against the local cluster (its hash balancers never do).
        var zoneRouter = zone is null ? null
            : ZoneRouter.Create(state.All[0], zone.LocalHosts(), options.NodeLocality, options.ZoneAware ?? ZoneAwarePlan.Defaults, options.HealthyPanicThreshold, inner, zone.Stats, _random);
        var failPanic = options.FailTrafficOnPanic;
        if (state.All.Length == 1 && state.Degraded[0].Length == 0 && !options.LocalityWeighted && zoneRouter is null && !(state.Panic[0] && failPanic))
        {
            return inner.Create(state.Panic[0] ? PrioritySetState.MarkPanic(state.All[0]) : state.Healthy[0]);
        }
        var levels = new Level[state.All.Length];
        for (var p = 0; p < levels.Length; p++)
        {
            levels[p] = state.Panic[p]
                ? new Level(inner.Create(PrioritySetState.MarkPanic(state.All[p])), null, null, null, true)
                : new Level(
                    inner.Create(state.Healthy[p]),
                    inner.Create(state.Degraded[p]),
                    options.LocalityWeighted ? LocalityChooser.Create(state.All[p], state.Healthy[p], options.OverprovisioningFactor, inner, _random) : null,
                    options.LocalityWeighted ? LocalityChooser.Create(state.All[p], state.Degraded[p], options.OverprovisioningFactor, inner, _random) : null,
                    false);
            levels[p] = levels[p] with { Zone = p == 0 ? zoneRouter : null, FailsOnPanic = failPanic, HealthyPanic = healthyPanic };
        }
        return new PrioritySetPicker(state, levels, _random);
    }

    /// <summary>
    /// Envoy's ThreadAwareLoadBalancerBase::refresh: one table per level over its healthy hosts (degraded ones are not
    /// used), all its hosts in panic; with locality weighting each host weighs by its locality's share (normalizeWeights).
    /// </summary>
    private IHostPicker CreateHashing(PrioritySetState state, HashPickerFactory hashing)
    {
        IHostPicker Table(int p)
        {
            var eligible = state.Panic[p] ? PrioritySetState.MarkPanic(state.All[p]) : state.Healthy[p];
            return options.LocalityWeighted ? hashing.Create(NormalizedHostWeights.ByLocality(eligible, state.All[p])) : hashing.Create(eligible);
        }

        if (state.All.Length == 1 && state.Degraded[0].Length == 0)
        {
            return Table(0);
        }
        var levels = new Level[state.All.Length];
        for (var p = 0; p < levels.Length; p++)
        {
            levels[p] = new Level(Table(p), null, null, null, state.Panic[p]);
        }
        return new HashPrioritySetPicker(state, levels, random);
    }

    /// <summary>One level's pickers; in panic <see cref="Healthy"/> is the picker over all its hosts.</summary>
    internal sealed record Level(IHostPicker Healthy, IHostPicker? Degraded, LocalityChooser? HealthyLocalities, LocalityChooser? DegradedLocalities, bool Panic)
    {
        /// <summary>Priority 0's zone-aware routing; null when it does not route by zone.</summary>
        public ZoneRouter? Zone { get; init; }

        /// <summary><c>fail_traffic_on_panic</c>: a pick of this level in panic fails (counting <see cref="HealthyPanic"/>).</summary>
        public bool FailsOnPanic { get; init; }

        /// <summary>The cluster's <c>lb_healthy_panic</c>, for the picks a panic level fails (the others count it by <see cref="WeightedHost.Panic"/>).</summary>
        public Stats.Counter? HealthyPanic { get; init; }

        public WeightedHost? Pick(bool degraded, ulong? hash, int attempt)
        {
            if (Panic)
            {
                if (FailsOnPanic)
                {
                    HealthyPanic?.Increment();
                    return null;
                }
                return Healthy.Pick(hash, attempt);
            }
            // Envoy's ZoneAwareLoadBalancerBase::hostSourceToUse: with locality weighting, a locality first (if any has weight).
            var localities = degraded ? DegradedLocalities : HealthyLocalities;
            if (localities?.Pick(hash, attempt) is { } host)
            {
                return host;
            }
            if (Zone is { } zone && zone.TryPick(degraded, hash, attempt, out var routed))
            {
                return routed;
            }
            return degraded ? Degraded?.Pick(hash, attempt) : Healthy.Pick(hash, attempt);
        }
    }

    /// <summary>Non-hash policies: the level is chosen by a random draw (Envoy's EdfLoadBalancerBase::chooseHostOnce).</summary>
    private sealed class PrioritySetPicker(PrioritySetState state, Level[] levels, LbRandom random) : IHostPicker
    {
        public WeightedHost? Pick(ulong? hash, int attempt)
        {
            var level = state.ChoosePriority(random.Next(), out var degraded);
            return levels[level].Pick(degraded, hash, attempt);
        }
    }

    /// <summary>
    /// Hash policies: the request's hash chooses the level too (Envoy's ThreadAwareLoadBalancerBase::LoadBalancerImpl::chooseHost),
    /// so a key keeps its level and its host while health stays the same.
    /// </summary>
    private sealed class HashPrioritySetPicker(PrioritySetState state, Level[] levels, Random random) : HashingPicker(random)
    {
        protected override WeightedHost? Choose(ulong hash, int attempt)
        {
            var level = state.ChoosePriority(hash, out _);
            return levels[level].Pick(false, hash, attempt);
        }
    }
}

/// <summary>
/// Envoy's locality-weighted choice within one level (HostSetImpl::chooseLocality): EDF over the localities'
/// effective weights, each <c>load_balancing_weight × min(1, overprovisioning_factor / 100 × eligible / hosts)</c>
/// (source/common/upstream/upstream_impl.cc, effectiveLocalityWeight); localities of weight 0 are left out.
/// </summary>
internal sealed class LocalityChooser
{
    private readonly EdfScheduler _edf;
    private readonly double[] _weights;
    private readonly IHostPicker[] _pickers;
    private readonly Func<int, double> _weight;
    private readonly Lock _lock = new();

    private LocalityChooser(double[] weights, IHostPicker[] pickers, LbRandom random)
    {
        _weights = weights;
        _pickers = pickers;
        _weight = i => _weights[i];
        _edf = new EdfScheduler(weights.Length);
        for (var i = 0; i < weights.Length; i++)
        {
            _edf.Add(i, weights[i]);
        }
        // A random start, as Envoy seeds its schedulers, so gateways do not move in step.
        var skip = (int)(random.Next() % (ulong)weights.Length);
        for (var i = 0; i < skip; i++)
        {
            _edf.PickAndAdd(_weight);
        }
    }

    /// <summary>The chooser over the localities of <paramref name="all"/> with an effective weight, or null when none has one.</summary>
    public static LocalityChooser? Create(WeightedHost[] all, WeightedHost[] eligible, uint overprovisioningFactor, IHostPickerFactory factory, LbRandom random)
    {
        var localities = new List<LocalityPlan>();
        foreach (var host in all)
        {
            var locality = host.Locality ?? LocalityPlan.None;
            if (!localities.Contains(locality))
            {
                localities.Add(locality);
            }
        }
        localities.Sort(LocalityPlan.Compare);
        var weights = new List<double>();
        var pickers = new List<IHostPicker>();
        foreach (var locality in localities)
        {
            var total = 0;
            uint weight = 0;
            foreach (var host in all)
            {
                if ((host.Locality ?? LocalityPlan.None).Equals(locality))
                {
                    total++;
                    weight = host.LocalityWeight;
                }
            }
            var members = new List<WeightedHost>();
            foreach (var host in eligible)
            {
                if ((host.Locality ?? LocalityPlan.None).Equals(locality))
                {
                    members.Add(host);
                }
            }
            var availability = Math.Min(1.0, overprovisioningFactor / 100.0 * members.Count / total);
            var effective = weight * availability;
            if (effective > 0)
            {
                weights.Add(effective);
                pickers.Add(factory.Create(members));
            }
        }
        return weights.Count == 0 ? null : new LocalityChooser([.. weights], [.. pickers], random);
    }

    /// <summary>A host of the next locality in the schedule.</summary>
    public WeightedHost? Pick(ulong? hash, int attempt)
    {
        int locality;
        lock (_lock)
        {
            locality = _edf.PickAndAdd(_weight);
        }
        return _pickers[locality].Pick(hash, attempt);
    }
}
