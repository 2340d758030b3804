namespace Gateway.Configuration;

/// <summary><c>envoy.config.cluster.v3.CircuitBreakers</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.CircuitBreakers", NotSupported = ["per_host_thresholds"])]
public sealed class CircuitBreakers : EnvoyMessage
{
    /// <summary>Limits per routing priority; the first entry for a priority wins.</summary>
    public List<CircuitBreakerThresholds> Thresholds { get; set; } = [];
}

/// <summary><c>envoy.config.cluster.v3.CircuitBreakers.Thresholds</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.CircuitBreakers.Thresholds", NotSupported = ["max_connection_pools"])]
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

    /// <summary>Retries in flight; default 3. A <see cref="RetryBudget"/> replaces it.</summary>
    public uint? MaxRetries { get; set; }

    /// <summary>Limits concurrent retries relative to the requests in flight; when set it overrides <see cref="MaxRetries"/>.</summary>
    public CircuitBreakerRetryBudget? RetryBudget { get; set; }

    /// <summary>Publish <c>remaining_*</c> gauges.</summary>
    public bool TrackRemaining { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget")]
public sealed class CircuitBreakerRetryBudget : EnvoyMessage
{
    /// <summary>Concurrent retries as a percentage of the active plus pending requests; default 20%.</summary>
    public Percent? BudgetPercent { get; set; }

    /// <summary>The retry concurrency the budget never goes below; default 3.</summary>
    public uint? MinRetryConcurrency { get; set; }
}

/// <summary><c>envoy.config.core.v3.RoutingPriority</c>.</summary>
public enum RoutingPriority
{
    /// <summary>DEFAULT.</summary>
    Default = 0,

    /// <summary>HIGH.</summary>
    High = 1,
}
