namespace Gateway.Configuration;

/// <summary><c>envoy.config.cluster.v3.CircuitBreakers</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.CircuitBreakers", NotSupported = ["per_host_thresholds"])]
public sealed class CircuitBreakers : EnvoyMessage
{
    /// <summary>Limits per routing priority; the first entry for a priority wins.</summary>
    public List<CircuitBreakerThresholds> Thresholds { get; set; } = [];
}

/// <summary><c>envoy.config.cluster.v3.CircuitBreakers.Thresholds</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.CircuitBreakers.Thresholds", NotSupported = ["retry_budget", "max_connection_pools"])]
public sealed class CircuitBreakerThresholds : EnvoyMessage
{
    /// <summary>Which routing priority these limits are for.</summary>
    public RoutingPriority Priority { get; set; }

    /// <summary>Connections to the cluster; default 1024.</summary>
    public uint? MaxConnections { get; set; }

    /// <summary>Requests waiting for a connection; default 1024.</summary>
    public uint? MaxPendingRequests { get; set; }

    /// <summary>Requests in flight; default 1024.</summary>
    public uint? MaxRequests { get; set; }

    /// <summary>Retries in flight; default 3.</summary>
    public uint? MaxRetries { get; set; }

    /// <summary>Publish <c>remaining_*</c> gauges.</summary>
    public bool TrackRemaining { get; set; }
}

/// <summary><c>envoy.config.core.v3.RoutingPriority</c>.</summary>
public enum RoutingPriority
{
    /// <summary>DEFAULT.</summary>
    Default = 0,

    /// <summary>HIGH.</summary>
    High = 1,
}
