using Gateway.Translation;
using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// A host a load balancer may pick, with its <c>load_balancing_weight</c> (1 when not configured) and what Envoy's
/// priority set knows of it: its priority level, its health, its locality and that locality's weight. The cluster
/// passes all its hosts (a subset load balancer a subset of them) to <see cref="IHostPickerFactory.Create"/>;
/// <see cref="PrioritySetPickerFactory"/> groups them.
/// </summary>
internal readonly record struct WeightedHost(DestinationState Destination, UpstreamHost Host, uint Weight)
{
    /// <summary>The priority level (0 the highest).</summary>
    public int Priority { get; init; }

    /// <summary>Healthy, degraded or unhealthy (Envoy's coarse host health).</summary>
    public HostHealth Health { get; init; }

    /// <summary>The host's locality; null when it has none.</summary>
    public LocalityPlan? Locality { get; init; }

    /// <summary>The locality's <c>load_balancing_weight</c> (0 when not set).</summary>
    public uint LocalityWeight { get; init; }

    /// <summary>
    /// True on the hosts of a priority level the load balancer uses in panic mode (all its hosts, healthy or not):
    /// a pick that returns one counts <c>lb_healthy_panic</c>.
    /// </summary>
    public bool Panic { get; init; }

    /// <summary>
    /// Envoy's excluded host (awaiting its first health check with <c>ignore_new_hosts_until_first_hc</c>): not counted
    /// in its level's host total when the priority loads and panic are computed; still picked in panic, like any host.
    /// </summary>
    public bool Excluded { get; init; }
}

/// <summary>Envoy's coarse host health (<c>Host::Health</c>).</summary>
internal enum HostHealth
{
    /// <summary>Healthy.</summary>
    Healthy,

    /// <summary>Degraded: used only when the healthy hosts cannot take the load.</summary>
    Degraded,

    /// <summary>Unhealthy: used only in panic mode.</summary>
    Unhealthy,
}

/// <summary>
/// One load-balancing algorithm over one fixed list of hosts (Envoy's per-priority, per-locality load
/// balancer, or a thread-aware one's table). Built by an <see cref="IHostPickerFactory"/> whenever the
/// list changes, never per request; <see cref="Pick"/> runs per request and must not allocate.
/// </summary>
internal interface IHostPicker
{
    /// <summary>
    /// Picks a host. <paramref name="hash"/> is the request's hash key (the route's <c>hash_policy</c>; null
    /// when it has none); <paramref name="attempt"/> is 0 for the first pick and n for the n-th re-pick after
    /// the retry host predicate rejected one (hash-based algorithms use it as Envoy does). Null when the list is empty.
    /// </summary>
    WeightedHost? Pick(ulong? hash, int attempt);
}

/// <summary>Builds a cluster's <see cref="IHostPicker"/> for a list of hosts; one factory per cluster configuration.</summary>
internal interface IHostPickerFactory
{
    /// <summary>A picker over <paramref name="hosts"/> (the list is copied or consumed; the caller does not change it afterwards).</summary>
    IHostPicker Create(IReadOnlyList<WeightedHost> hosts);
}
