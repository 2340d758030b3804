namespace Gateway.Stats;

/// <summary>
/// Envoy's stats of one class of requests under a virtual host: a virtual cluster (<c>vhost.&lt;vh&gt;.vcluster.&lt;vc&gt;.</c>,
/// Envoy's VirtualClusterStats) or a route with a <c>stat_prefix</c> (<c>vhost.&lt;vh&gt;.route.&lt;prefix&gt;.</c>, RouteStats).
/// Both hold the same counters, made when the configuration is applied, and the response codes and
/// <c>upstream_rq_time</c> that Envoy's CodeStatsImpl charges there, made on first use.
/// </summary>
internal sealed class RequestClassStats
{
    public RequestClassStats(StatsStore store, string prefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        Prefix = prefix;
        UpstreamRqRetry = store.Counter(prefix + "upstream_rq_retry");
        UpstreamRqRetryLimitExceeded = store.Counter(prefix + "upstream_rq_retry_limit_exceeded");
        UpstreamRqRetryOverflow = store.Counter(prefix + "upstream_rq_retry_overflow");
        UpstreamRqRetrySuccess = store.Counter(prefix + "upstream_rq_retry_success");
        UpstreamRqTimeout = store.Counter(prefix + "upstream_rq_timeout");
        UpstreamRqTotal = store.Counter(prefix + "upstream_rq_total");
        Codes = new HttpCodeStats(store, prefix);
    }

    /// <summary>The prefix, ending with a dot.</summary>
    public string Prefix { get; }

    /// <summary>Retries scheduled.</summary>
    public Counter UpstreamRqRetry { get; }

    /// <summary>Retriable outcomes with no retries left.</summary>
    public Counter UpstreamRqRetryLimitExceeded { get; }

    /// <summary>Retries refused by the cluster's retry circuit breaker.</summary>
    public Counter UpstreamRqRetryOverflow { get; }

    /// <summary>Retried requests that then got a non-retriable answer.</summary>
    public Counter UpstreamRqRetrySuccess { get; }

    /// <summary>Requests that hit the route timeout.</summary>
    public Counter UpstreamRqTimeout { get; }

    /// <summary>Attempts on an upstream connection (charged with the cluster's <c>upstream_rq_total</c>).</summary>
    public Counter UpstreamRqTotal { get; }

    /// <summary><c>upstream_rq_completed</c>, <c>upstream_rq_&lt;N&gt;xx</c>, <c>upstream_rq_&lt;code&gt;</c>, <c>upstream_rq_time</c>.</summary>
    public HttpCodeStats Codes { get; }
}
