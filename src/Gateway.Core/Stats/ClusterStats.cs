namespace Gateway.Stats;

/// <summary>The <c>cluster.&lt;name&gt;.*</c> stats this gateway keeps, resolved once per cluster.</summary>
public sealed class ClusterStats
{
    /// <summary>Resolves (or creates) the handles for one cluster.</summary>
    public ClusterStats(StatsStore store, string clusterName)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = "cluster." + clusterName + ".";
        Prefix = prefix;
        UpstreamRqTotal = store.Counter(prefix + "upstream_rq_total");
        UpstreamRqActive = store.Gauge(prefix + "upstream_rq_active");
        UpstreamRqTimeout = store.Counter(prefix + "upstream_rq_timeout");
        UpstreamCxTotal = store.Counter(prefix + "upstream_cx_total");
        UpstreamCxActive = store.Gauge(prefix + "upstream_cx_active");
        UpstreamCxConnectFail = store.Counter(prefix + "upstream_cx_connect_fail");
        UpstreamCxConnectTimeout = store.Counter(prefix + "upstream_cx_connect_timeout");
        UpstreamCxNoneHealthy = store.Counter(prefix + "upstream_cx_none_healthy");
        UpstreamRqRxReset = store.Counter(prefix + "upstream_rq_rx_reset");
        MembershipTotal = store.Gauge(prefix + "membership_total");
        MembershipHealthy = store.Gauge(prefix + "membership_healthy");
        Codes = new HttpCodeStats(store, prefix);
        ExternalCodes = new HttpCodeStats(store, prefix + "external.");
    }

    /// <summary><c>cluster.&lt;name&gt;.</c></summary>
    public string Prefix { get; }

    /// <summary>Every upstream attempt.</summary>
    public Counter UpstreamRqTotal { get; }

    /// <summary>Attempts in flight.</summary>
    public Gauge UpstreamRqActive { get; }

    /// <summary>Requests that hit the route timeout.</summary>
    public Counter UpstreamRqTimeout { get; }

    /// <summary>Connections opened.</summary>
    public Counter UpstreamCxTotal { get; }

    /// <summary>Connections open now.</summary>
    public Gauge UpstreamCxActive { get; }

    /// <summary>Connection attempts that failed.</summary>
    public Counter UpstreamCxConnectFail { get; }

    /// <summary>Connection attempts that timed out (also counted as failures).</summary>
    public Counter UpstreamCxConnectTimeout { get; }

    /// <summary>Requests that found no host to send to.</summary>
    public Counter UpstreamCxNoneHealthy { get; }

    /// <summary>Upstream resets (disconnect before a complete response).</summary>
    public Counter UpstreamRqRxReset { get; }

    /// <summary>Hosts in the cluster.</summary>
    public Gauge MembershipTotal { get; }

    /// <summary>Healthy hosts in the cluster.</summary>
    public Gauge MembershipHealthy { get; }

    /// <summary><c>upstream_rq_&lt;code&gt;</c>, <c>_&lt;N&gt;xx</c>, <c>_completed</c> of final responses.</summary>
    public HttpCodeStats Codes { get; }

    /// <summary>The same under <c>external.</c> (requests without <c>x-envoy-internal: true</c>).</summary>
    public HttpCodeStats ExternalCodes { get; }
}
