using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters;

/// <summary>
/// What host selection asks of the request it picks a host for (Envoy's Upstream::LoadBalancerContext,
/// which the router implements): the retry host predicate and how often to re-pick.
/// </summary>
internal interface ILoadBalancerContext
{
    /// <summary>The cluster the request goes to.</summary>
    ClusterRuntime Cluster { get; }

    /// <summary>How many times a pick the predicate rejects is made again (<c>host_selection_retry_max_attempts</c>; 0 when nothing is to be avoided).</summary>
    int HostSelectionRetryCount { get; }

    /// <summary>Envoy's shouldSelectAnotherHost: the <c>previous_hosts</c> predicate.</summary>
    bool ShouldSelectAnotherHost(DestinationState host);

    /// <summary>
    /// Envoy's computeHashKey: the hash of the route's <c>hash_policy</c> for this request, or null when it has
    /// none or no policy yielded a hash. Computed once per request.
    /// </summary>
    ulong? ComputeHashKey();

    /// <summary>
    /// Envoy's metadataMatchCriteria: the subset criteria of the route (or its weighted cluster entry) with the request's
    /// <c>envoy.lb</c> dynamic metadata merged over them; null when there are none. Computed once per request.
    /// </summary>
    LoadBalancing.SubsetCriteria? MetadataMatchCriteria { get; }

    /// <summary>
    /// The host the attempt goes to. False when the attempt may not go (the cluster's circuit breakers refused it,
    /// as Envoy's connection pool does after the host was chosen): the pipeline then ends without forwarding.
    /// </summary>
    bool OnHostSelected(DestinationState host);
}
