using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>A host a load balancer may pick, with its <c>load_balancing_weight</c> (1 when not configured).</summary>
internal readonly record struct WeightedHost(DestinationState Destination, UpstreamHost Host, uint Weight);

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
