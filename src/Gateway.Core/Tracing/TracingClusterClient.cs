namespace Gateway.Tracing;

/// <summary>
/// The seam through which tracers reach their collector cluster (<see cref="TracerContext.ClusterClient"/>): registered
/// as a service, it is what the gateway's tracers use; unregistered, <see cref="TracerManager.UnwiredClusterClient"/>
/// refuses. The gateway's async cluster client (hosts, load balancing, circuit breakers and stats of the cluster)
/// registers itself here.
/// </summary>
/// <param name="ForCluster">An HTTP client for a cluster by name; the request URI's authority is replaced by the chosen host.</param>
internal sealed record TracingClusterClient(Func<string, HttpMessageInvoker> ForCluster);
