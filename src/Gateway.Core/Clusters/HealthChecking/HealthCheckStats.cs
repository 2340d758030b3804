using Gateway.Stats;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Envoy's <c>cluster.&lt;name&gt;.health_check.*</c> stats (HealthCheckerStats). As in Envoy they exist only
/// for clusters that have a health check: they are created with the cluster's checker.
/// </summary>
internal sealed class HealthCheckStats
{
    public HealthCheckStats(StatsStore store, string clusterName)
    {
        var prefix = "cluster." + clusterName + ".health_check.";
        Attempt = store.Counter(prefix + "attempt");
        Success = store.Counter(prefix + "success");
        Failure = store.Counter(prefix + "failure");
        PassiveFailure = store.Counter(prefix + "passive_failure");
        NetworkFailure = store.Counter(prefix + "network_failure");
        VerifyCluster = store.Counter(prefix + "verify_cluster");
        Healthy = store.Gauge(prefix + "healthy");
        Degraded = store.Gauge(prefix + "degraded");
        Healthy.Add(0);
        Degraded.Add(0);
    }

    /// <summary>Checks started.</summary>
    public Counter Attempt { get; }

    /// <summary>Checks that passed.</summary>
    public Counter Success { get; }

    /// <summary>Checks that failed, for any reason.</summary>
    public Counter Failure { get; }

    /// <summary>Failures reported passively (not produced by this gateway; stays 0).</summary>
    public Counter PassiveFailure { get; }

    /// <summary>Failures caused by the network (connect failure, reset, timeout).</summary>
    public Counter NetworkFailure { get; }

    /// <summary>Checks that verified the cluster name (service_name_matcher; not supported, stays 0).</summary>
    public Counter VerifyCluster { get; }

    /// <summary>Hosts the health checker considers healthy.</summary>
    public Gauge Healthy { get; }

    /// <summary>Hosts the health checker considers degraded (x-envoy-degraded is not supported; stays 0).</summary>
    public Gauge Degraded { get; }
}
