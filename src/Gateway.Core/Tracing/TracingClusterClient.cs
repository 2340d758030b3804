namespace Gateway.Tracing;

/// <summary>
/// The seam through which tracers reach their collector cluster (<see cref="TracerContext.ClusterClient"/>): the
/// gateway's async cluster client (<see cref="Clusters.ClusterClients"/>: hosts, load balancing, circuit breakers and
/// stats of the cluster) unless a service of this type is registered (tests); a runtime built without either gets
/// <see cref="TracerManager.UnwiredClusterClient"/>, which refuses.
/// </summary>
/// <param name="ForCluster">An HTTP client for a cluster by name; the request URI's authority is replaced by the chosen host.</param>
internal sealed record TracingClusterClient(Func<string, HttpMessageInvoker> ForCluster);
