using Gateway.Admin;
using Gateway.Clusters;

namespace Gateway.Hosting;

/// <summary>
/// The server's and the clusters' health, read-only, for filters that answer health checks (Envoy's
/// <c>ServerFactoryContext::healthCheckFailed</c> and the cluster manager's membership stats). A singleton service.
/// </summary>
public interface IGatewayHealth
{
    /// <summary>True after admin <c>/healthcheck/fail</c>, until <c>/healthcheck/ok</c>.</summary>
    bool HealthCheckFailed { get; }

    /// <summary>The bootstrap's <c>node.cluster</c> (Envoy's local cluster name), empty when not set.</summary>
    string LocalClusterName { get; }

    /// <summary>The cluster's membership, or null when no cluster has that name. Resolve it once (when a filter is built), not per request.</summary>
    IClusterHealth? FindCluster(string name);
}

/// <summary>A cluster's membership (<c>cluster.&lt;name&gt;.membership_*</c>).</summary>
public interface IClusterHealth
{
    /// <summary>The cluster's name.</summary>
    string Name { get; }

    /// <summary><c>membership_total</c>: the hosts in the cluster.</summary>
    long MembershipTotal { get; }

    /// <summary><c>membership_healthy</c>: the hosts passing active health checks and outlier detection.</summary>
    long MembershipHealthy { get; }

    /// <summary><c>membership_degraded</c>: always 0 here (no host is ever degraded).</summary>
    long MembershipDegraded { get; }
}

internal sealed class GatewayHealth(ServerState server, ClusterRegistry clusters, string localClusterName) : IGatewayHealth
{
    public bool HealthCheckFailed => server.HealthCheckFailed;

    public string LocalClusterName => localClusterName;

    public IClusterHealth? FindCluster(string name)
        => clusters.TryGet(name, out var cluster) && cluster.Plan is not null ? new ClusterHealth(cluster) : null;

    private sealed class ClusterHealth(ClusterRuntime cluster) : IClusterHealth
    {
        public string Name => cluster.Name;

        public long MembershipTotal => cluster.Stats.MembershipTotal.Value;

        public long MembershipHealthy => cluster.Stats.MembershipHealthy.Value;

        public long MembershipDegraded => 0;
    }
}
