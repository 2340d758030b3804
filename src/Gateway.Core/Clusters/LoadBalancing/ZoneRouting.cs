using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's HostsPerLocality: a host set split by locality, the local locality (<c>node.locality</c>) first when the set
/// has hosts there, then the others in LocalityLess order (PriorityStateManager::updateClusterPrioritySet). A
/// <see cref="Filter"/>ed copy keeps every group, empty ones included, so indexes stay aligned across health.
/// </summary>
internal sealed class HostsPerLocality
{
    private HostsPerLocality(LocalityPlan[] localities, WeightedHost[][] groups, bool hasLocalLocality)
    {
        Localities = localities;
        Groups = groups;
        HasLocalLocality = hasLocalLocality;
    }

    /// <summary>The locality of each group.</summary>
    public LocalityPlan[] Localities { get; }

    /// <summary>The hosts of each locality.</summary>
    public WeightedHost[][] Groups { get; }

    /// <summary>True when group 0 is the local locality.</summary>
    public bool HasLocalLocality { get; }

    /// <summary>Groups <paramref name="hosts"/>; without <paramref name="local"/> (no <c>node.locality</c>) there is no local group.</summary>
    public static HostsPerLocality Build(IReadOnlyList<WeightedHost> hosts, LocalityPlan? local)
    {
        var localities = new List<LocalityPlan>();
        for (var i = 0; i < hosts.Count; i++)
        {
            var locality = hosts[i].Locality ?? LocalityPlan.None;
            if (!localities.Contains(locality))
            {
                localities.Add(locality);
            }
        }
        localities.Sort(LocalityPlan.Compare);
        var hasLocal = local is not null && localities.Remove(local);
        if (hasLocal)
        {
            localities.Insert(0, local!);
        }
        var groups = new WeightedHost[localities.Count][];
        for (var g = 0; g < groups.Length; g++)
        {
            var members = new List<WeightedHost>();
            for (var i = 0; i < hosts.Count; i++)
            {
                if ((hosts[i].Locality ?? LocalityPlan.None).Equals(localities[g]))
                {
                    members.Add(hosts[i]);
                }
            }
            groups[g] = [.. members];
        }
        return new HostsPerLocality([.. localities], groups, hasLocal);
    }

    /// <summary>The same groups with only the hosts of <paramref name="health"/>.</summary>
    public HostsPerLocality Filter(HostHealth health)
    {
        var groups = new WeightedHost[Groups.Length][];
        for (var g = 0; g < groups.Length; g++)
        {
            groups[g] = Array.FindAll(Groups[g], h => h.Health == health);
        }
        return new HostsPerLocality(Localities, groups, HasLocalLocality);
    }

    /// <summary>The number of hosts in every group (read when the structures are rebuilt, not per pick).</summary>
    public int Count => Groups.Sum(group => group.Length);
}

/// <summary>One upstream locality's share of the local cluster's and of the upstream cluster's hosts, in 1/10000.</summary>
internal readonly record struct LocalityPercentages(ulong Local, ulong Upstream);

/// <summary>How priority 0 routes by zone (Envoy's LocalityRoutingState).</summary>
internal enum LocalityRoutingMode
{
    /// <summary>No zone-aware routing: the level's hosts as they are.</summary>
    NoLocalityRouting,

    /// <summary>Every request to the local zone.</summary>
    LocalityDirect,

    /// <summary>A share to the local zone, the rest to the zones with residual capacity.</summary>
    LocalityResidual,
}

/// <summary>The <c>cluster.&lt;name&gt;.lb_*zone*</c> counters zone-aware routing feeds (Envoy's ClusterLbStats).</summary>
internal sealed class ZoneRoutingStats(StatsStore store, string prefix)
{
    public Counter RecalculateZoneStructures { get; } = store.Counter(prefix + "lb_recalculate_zone_structures");

    public Counter LocalClusterNotOk { get; } = store.Counter(prefix + "lb_local_cluster_not_ok");

    public Counter ZoneClusterTooSmall { get; } = store.Counter(prefix + "lb_zone_cluster_too_small");

    public Counter ZoneRoutingAllDirectly { get; } = store.Counter(prefix + "lb_zone_routing_all_directly");

    public Counter ZoneRoutingSampled { get; } = store.Counter(prefix + "lb_zone_routing_sampled");

    public Counter ZoneRoutingCrossZone { get; } = store.Counter(prefix + "lb_zone_routing_cross_zone");

    public Counter ZoneNoCapacityLeft { get; } = store.Counter(prefix + "lb_zone_no_capacity_left");

    public static ZoneRoutingStats For(ClusterStats stats) => new(stats.Store, stats.Prefix);
}

/// <summary>
/// Envoy's per-priority locality routing structures (ZoneAwareLoadBalancerBase::regenerateLocalityRoutingStructures,
/// earlyExitNonLocalityRouting, calculateLocalityPercentages), computed for priority 0 from its hosts and the local
/// cluster's whenever either changes; immutable, so a pick reads it without locks.
/// </summary>
internal sealed class ZoneRoutingState
{
    private static readonly ZoneRoutingState None = new(LocalityRoutingMode.NoLocalityRouting, 0, [], false);

    private ZoneRoutingState(LocalityRoutingMode mode, ulong localPercentToRoute, ulong[] residualCapacity, bool localClusterInPanic)
    {
        Mode = mode;
        LocalPercentToRoute = localPercentToRoute;
        ResidualCapacity = residualCapacity;
        LocalClusterInPanic = localClusterInPanic;
    }

    public LocalityRoutingMode Mode { get; }

    /// <summary>In <see cref="LocalityRoutingMode.LocalityResidual"/>: the share (of 10000) of requests the local zone takes.</summary>
    public ulong LocalPercentToRoute { get; }

    /// <summary>Per upstream locality, the accumulated capacity left beyond the local cluster's share (of 10000).</summary>
    public ulong[] ResidualCapacity { get; }

    /// <summary>The local cluster's hosts are in panic under the upstream cluster's threshold: no zone routing per pick.</summary>
    public bool LocalClusterInPanic { get; }

    /// <summary>
    /// The structures for priority 0 (<paramref name="upstream"/>: all its hosts by locality) against
    /// <paramref name="localHosts"/> (the local cluster's hosts) with the local zone <paramref name="local"/>.
    /// </summary>
    public static ZoneRoutingState Compute(HostsPerLocality upstream, IReadOnlyList<WeightedHost> localHosts, LocalityPlan? local, ZoneAwarePlan settings, double panicThreshold, ZoneRoutingStats stats)
    {
        stats.RecalculateZoneStructures.Increment();
        var upstreamHealthy = upstream.Filter(HostHealth.Healthy);
        var localAll = HostsPerLocality.Build(localHosts, local);
        if (upstreamHealthy.Groups.Length < 2)
        {
            return None;
        }
        // Too few local zones for zone routing to matter (unless the local zone is forced).
        if (settings.ForceLocalZoneMinSize is null && localAll.Groups.Length < 2)
        {
            return None;
        }
        // The local cluster must have hosts in this gateway's own zone, or it says nothing about where traffic comes from.
        if (!localAll.HasLocalLocality || localAll.Groups[0].Length == 0)
        {
            stats.LocalClusterNotOk.Increment();
            return None;
        }
        if ((ulong)upstreamHealthy.Count < settings.MinClusterSize)
        {
            stats.ZoneClusterTooSmall.Increment();
            return None;
        }
        var inPanic = InPanic(localHosts, panicThreshold);
        var percentages = CalculateLocalityPercentages(localAll.Filter(HostHealth.Healthy), upstreamHealthy, settings.WeightBasis);
        if (upstreamHealthy.HasLocalLocality
            && ((percentages[0].Upstream > 0 && percentages[0].Upstream >= percentages[0].Local)
                || (settings.ForceLocalZoneMinSize is { } force && (ulong)upstreamHealthy.Groups[0].Length >= force)))
        {
            return new ZoneRoutingState(LocalityRoutingMode.LocalityDirect, 0, [], inPanic);
        }
        // The local zone takes what its share of upstream capacity allows (20% local hosts, 10% upstream: half of the requests).
        var localPercent = upstreamHealthy.HasLocalLocality && percentages[0].Local > 0
            ? percentages[0].Upstream * 10000 / percentages[0].Local
            : 0;
        // The rest goes to the other zones in proportion to the capacity they have beyond their local share, accumulated
        // so a draw finds its zone by a scan.
        var residual = new ulong[percentages.Length];
        for (var i = 0; i < residual.Length; i++)
        {
            var last = i > 0 ? residual[i - 1] : 0;
            var spare = (i == 0 && upstreamHealthy.HasLocalLocality) || percentages[i].Upstream <= percentages[i].Local
                ? 0
                : percentages[i].Upstream - percentages[i].Local;
            residual[i] = last + spare;
        }
        return new ZoneRoutingState(LocalityRoutingMode.LocalityResidual, localPercent, residual, inPanic);
    }

    /// <summary>
    /// Per upstream locality (in <paramref name="upstream"/>'s order): its share of the local cluster's healthy hosts and of
    /// the upstream's healthy hosts, by count or by weight, in 1/10000 (truncated, as Envoy's integer arithmetic).
    /// </summary>
    public static LocalityPercentages[] CalculateLocalityPercentages(HostsPerLocality local, HostsPerLocality upstream, bool weightBasis)
    {
        ulong totalLocal = 0;
        foreach (var group in local.Groups)
        {
            totalLocal += Weight(group, weightBasis);
        }
        ulong totalUpstream = 0;
        foreach (var group in upstream.Groups)
        {
            totalUpstream += Weight(group, weightBasis);
        }
        var percentages = new LocalityPercentages[upstream.Groups.Length];
        for (var i = 0; i < percentages.Length; i++)
        {
            if (upstream.Groups[i].Length == 0)
            {
                continue;
            }
            ulong localWeight = 0;
            for (var g = 0; g < local.Groups.Length; g++)
            {
                if (local.Groups[g].Length > 0 && local.Localities[g].Equals(upstream.Localities[i]))
                {
                    localWeight = Weight(local.Groups[g], weightBasis);
                }
            }
            percentages[i] = new LocalityPercentages(
                totalLocal > 0 ? 10000UL * localWeight / totalLocal : 0,
                totalUpstream > 0 ? 10000UL * Weight(upstream.Groups[i], weightBasis) / totalUpstream : 0);
        }
        return percentages;
    }

    private static ulong Weight(WeightedHost[] hosts, bool weightBasis)
    {
        if (!weightBasis)
        {
            return (ulong)hosts.Length;
        }
        ulong weight = 0;
        foreach (var host in hosts)
        {
            weight += host.Weight;
        }
        return weight;
    }

    /// <summary>Envoy's LoadBalancerBase::isHostSetInPanic over the local cluster's hosts.</summary>
    private static bool InPanic(IReadOnlyList<WeightedHost> hosts, double threshold)
    {
        var usable = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            usable += hosts[i].Health == HostHealth.Unhealthy ? 0 : 1;
        }
        var percent = hosts.Count == 0 ? 0.0 : 100.0 * usable / hosts.Count;
        return percent < Math.Min(100.0, threshold);
    }
}

/// <summary>
/// Zone-aware routing of priority 0's picks (ZoneAwareLoadBalancerBase::hostSourceToUse after the level was chosen and
/// found not in panic): <c>routing_enabled</c> percent of the picks go by zone, unless the local cluster is in panic;
/// then the locality is the local one (directly, or sampled by its share) or, across zones, one drawn by residual
/// capacity (tryChooseLocalLocalityHosts), and the host is the policy's pick among that locality's hosts.
/// </summary>
internal sealed class ZoneRouter(ZoneRoutingState state, IHostPicker[] healthy, IHostPicker[] degraded, ZoneAwarePlan settings, ZoneRoutingStats stats, LbRandom random)
{
    /// <summary>The structures this router follows.</summary>
    public ZoneRoutingState State => state;

    /// <summary>
    /// True when zone routing decided the pick: <paramref name="host"/> is then the chosen locality's host, or null when
    /// the local cluster is in panic and <c>fail_traffic_on_panic</c> is set. False: pick from the whole level.
    /// </summary>
    public bool TryPick(bool degradedHosts, ulong? hash, int attempt, out WeightedHost? host)
    {
        host = null;
        if (state.Mode == LocalityRoutingMode.NoLocalityRouting)
        {
            return false;
        }
        // Envoy's runtime featureEnabled: draw % 100 < percent (100 always passes, so no draw is spent on it).
        if (settings.RoutingEnabled < 100 && random.Next() % 100 >= settings.RoutingEnabled)
        {
            return false;
        }
        if (state.LocalClusterInPanic)
        {
            stats.LocalClusterNotOk.Increment();
            return settings.FailTrafficOnPanic;
        }
        var locality = ChooseLocality();
        host = (degradedHosts ? degraded : healthy)[locality].Pick(hash, attempt);
        return true;
    }

    /// <summary>Envoy's tryChooseLocalLocalityHosts: the index of the locality a zone-routed pick uses.</summary>
    public int ChooseLocality()
    {
        if (state.Mode == LocalityRoutingMode.LocalityDirect)
        {
            stats.ZoneRoutingAllDirectly.Increment();
            return 0;
        }
        if (random.Next() % 10000 < state.LocalPercentToRoute)
        {
            stats.ZoneRoutingSampled.Increment();
            return 0;
        }
        stats.ZoneRoutingCrossZone.Increment();
        var residual = state.ResidualCapacity;
        var total = residual[^1];
        if (total == 0)
        {
            // Rounding left no zone with spare capacity: any zone.
            stats.ZoneNoCapacityLeft.Increment();
            return (int)(random.Next() % (ulong)residual.Length);
        }
        var threshold = random.Next() % total;
        var i = 0;
        while (threshold >= residual[i])
        {
            i++;
        }
        return i;
    }

    /// <summary>
    /// The router for priority 0 when its structures route by zone, else null: per-locality pickers over the level's
    /// healthy and degraded hosts from <paramref name="factory"/>.
    /// </summary>
    public static ZoneRouter? Create(WeightedHost[] level, IReadOnlyList<WeightedHost> localHosts, LocalityPlan? local, ZoneAwarePlan settings, double panicThreshold,
        IHostPickerFactory factory, ZoneRoutingStats stats, LbRandom random)
    {
        var upstream = HostsPerLocality.Build(level, local);
        var state = ZoneRoutingState.Compute(upstream, localHosts, local, settings, panicThreshold, stats);
        if (state.Mode == LocalityRoutingMode.NoLocalityRouting)
        {
            return null;
        }
        var healthyGroups = upstream.Filter(HostHealth.Healthy).Groups;
        var degradedGroups = upstream.Filter(HostHealth.Degraded).Groups;
        var healthy = new IHostPicker[healthyGroups.Length];
        var degraded = new IHostPicker[degradedGroups.Length];
        for (var i = 0; i < healthy.Length; i++)
        {
            healthy[i] = factory.Create(healthyGroups[i]);
            degraded[i] = factory.Create(degradedGroups[i]);
        }
        return new ZoneRouter(state, healthy, degraded, settings, stats, random);
    }
}

/// <summary>Where a cluster's zone-aware routing reads the local cluster's hosts (with their health now) and counts its stats.</summary>
internal sealed record ZoneRoutingSource(Func<IReadOnlyList<WeightedHost>> LocalHosts, ZoneRoutingStats Stats);
