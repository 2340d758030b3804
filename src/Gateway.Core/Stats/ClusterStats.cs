namespace Gateway.Stats;

/// <summary>
/// The <c>cluster.&lt;name&gt;.*</c> stats (docs: cluster_stats.rst). Every name Envoy creates for a
/// cluster exists from the start, at 0 until its event happens, so dashboards and scripts find them;
/// the handles the gateway feeds are properties, resolved once per cluster.
/// </summary>
public sealed class ClusterStats
{
    private static readonly string[] OtherCounters =
    [
        "upstream_cx_http2_total", "upstream_cx_http3_total", "upstream_cx_connect_with_0_rtt", "upstream_cx_idle_timeout",
        "upstream_cx_max_duration_reached",
        "upstream_cx_destroy_with_active_rq", "upstream_cx_destroy_local_with_active_rq", "upstream_cx_destroy_remote_with_active_rq",
        "upstream_cx_close_notify", "upstream_cx_pool_overflow", "upstream_cx_max_requests",
        "upstream_rq_pending_total", "upstream_rq_pending_failure_eject", "upstream_rq_maintenance_mode",
        "upstream_rq_max_duration_reached",
        
        "upstream_flow_control_paused_reading_total", "upstream_flow_control_resumed_reading_total",
        "upstream_flow_control_backed_up_total", "upstream_flow_control_drained_total",
        "upstream_internal_redirect_failed_total", "upstream_internal_redirect_succeeded_total",
        "config_reload", "update_attempt", "update_success", "update_failure", "update_empty",
        "update_no_rebuild", "bind_errors", "assignment_timeout_received", "assignment_stale",
        "lb_local_cluster_not_ok", "lb_recalculate_zone_structures", "lb_zone_cluster_too_small",
        "lb_zone_no_capacity_left", "lb_zone_number_differs", "lb_zone_routing_all_directly", "lb_zone_routing_cross_zone", "lb_zone_routing_sampled",
        "original_dst_host_invalid",
    ];

    private static readonly string[] OtherGauges =
    [
        "upstream_cx_rx_bytes_buffered", "upstream_cx_tx_bytes_buffered", "upstream_rq_pending_active",
        "membership_degraded", "membership_excluded", "version", "max_host_weight",
    ];

    /// <summary>Resolves (or creates) the handles for one cluster.</summary>
    public ClusterStats(StatsStore store, string clusterName)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = "cluster." + clusterName + ".";
        Prefix = prefix;
        Store = store;
        foreach (var name in OtherCounters)
        {
            store.Counter(prefix + name);
        }
        foreach (var name in OtherGauges)
        {
            store.Gauge(prefix + name);
        }
        UpstreamRqTotal = store.Counter(prefix + "upstream_rq_total");
        UpstreamRqPerTryTimeout = store.Counter(prefix + "upstream_rq_per_try_timeout");
        UpstreamRqRetry = store.Counter(prefix + "upstream_rq_retry");
        UpstreamRqRetryBackoffExponential = store.Counter(prefix + "upstream_rq_retry_backoff_exponential");
        UpstreamRqRetryBackoffRateLimited = store.Counter(prefix + "upstream_rq_retry_backoff_ratelimited");
        UpstreamRqRetryLimitExceeded = store.Counter(prefix + "upstream_rq_retry_limit_exceeded");
        UpstreamRqRetrySuccess = store.Counter(prefix + "upstream_rq_retry_success");
        UpstreamRqRetryOverflow = store.Counter(prefix + "upstream_rq_retry_overflow");
        RetryOrShadowAbandoned = store.Counter(prefix + "retry_or_shadow_abandoned");
        CircuitBreakers = [new CircuitBreakerStats(store, prefix + "circuit_breakers.default."), new CircuitBreakerStats(store, prefix + "circuit_breakers.high.")];
        UpstreamRqPendingOverflow = store.Counter(prefix + "upstream_rq_pending_overflow");
        RetryCodes = new HttpCodeStats(store, prefix + "retry.");
        UpstreamRqActive = store.Gauge(prefix + "upstream_rq_active");
        UpstreamRqTimeout = store.Counter(prefix + "upstream_rq_timeout");
        UpstreamRqCancelled = store.Counter(prefix + "upstream_rq_cancelled");
        UpstreamRqRxReset = store.Counter(prefix + "upstream_rq_rx_reset");
        UpstreamCxTotal = store.Counter(prefix + "upstream_cx_total");
        UpstreamCxHttp1Total = store.Counter(prefix + "upstream_cx_http1_total");
        UpstreamCxHttp2Total = store.Counter(prefix + "upstream_cx_http2_total");
        UpstreamCxActive = store.Gauge(prefix + "upstream_cx_active");
        UpstreamCxConnectFail = store.Counter(prefix + "upstream_cx_connect_fail");
        UpstreamCxProtocolError = store.Counter(prefix + "upstream_cx_protocol_error");
        UpstreamRqTxReset = store.Counter(prefix + "upstream_rq_tx_reset");
        UpstreamCxOverflow = store.Counter(prefix + "upstream_cx_overflow");
        UpstreamCxConnectTimeout = store.Counter(prefix + "upstream_cx_connect_timeout");
        UpstreamCxNoneHealthy = store.Counter(prefix + "upstream_cx_none_healthy");
        UpstreamCxConnectAttemptsExceeded = store.Counter(prefix + "upstream_cx_connect_attempts_exceeded");
        UpstreamCxDestroy = store.Counter(prefix + "upstream_cx_destroy");
        UpstreamCxDestroyLocal = store.Counter(prefix + "upstream_cx_destroy_local");
        UpstreamCxDestroyRemote = store.Counter(prefix + "upstream_cx_destroy_remote");
        UpstreamCxRxBytesTotal = store.Counter(prefix + "upstream_cx_rx_bytes_total");
        UpstreamCxTxBytesTotal = store.Counter(prefix + "upstream_cx_tx_bytes_total");
        UpstreamCxConnectMs = store.Histogram(prefix + "upstream_cx_connect_ms");
        UpstreamCxLengthMs = store.Histogram(prefix + "upstream_cx_length_ms");
        MembershipTotal = store.Gauge(prefix + "membership_total");
        MembershipHealthy = store.Gauge(prefix + "membership_healthy");
        MembershipDegraded = store.Gauge(prefix + "membership_degraded");
        MembershipChange = store.Counter(prefix + "membership_change");
        LbHealthyPanic = store.Counter(prefix + "lb_healthy_panic");
        LbSubsetsActive = store.Gauge(prefix + "lb_subsets_active");
        LbSubsetsCreated = store.Counter(prefix + "lb_subsets_created");
        LbSubsetsRemoved = store.Counter(prefix + "lb_subsets_removed");
        LbSubsetsSelected = store.Counter(prefix + "lb_subsets_selected");
        LbSubsetsFallback = store.Counter(prefix + "lb_subsets_fallback");
        LbSubsetsFallbackPanic = store.Counter(prefix + "lb_subsets_fallback_panic");
        Codes = new HttpCodeStats(store, prefix);
        ExternalCodes = new HttpCodeStats(store, prefix + "external.");
        InternalCodes = new HttpCodeStats(store, prefix + "internal.");
    }

    /// <summary>Subsets of the subset load balancer now (Envoy's ALL_CLUSTER_LB_STATS, present for every cluster).</summary>
    public Gauge LbSubsetsActive { get; }

    /// <summary>Subsets created.</summary>
    public Counter LbSubsetsCreated { get; }

    /// <summary>Subsets removed because no host is left in them.</summary>
    public Counter LbSubsetsRemoved { get; }

    /// <summary>Picks from the subset the request's criteria matched.</summary>
    public Counter LbSubsetsSelected { get; }

    /// <summary>Picks by the cluster's <c>fallback_policy</c>.</summary>
    public Counter LbSubsetsFallback { get; }

    /// <summary>Picks by <c>panic_mode_any</c> after the fallback found no host.</summary>
    public Counter LbSubsetsFallbackPanic { get; }

    /// <summary><c>cluster.&lt;name&gt;.</c></summary>
    public string Prefix { get; }

    /// <summary>The store the cluster's stats live in (the load balancers' own gauges are made on demand).</summary>
    public StatsStore Store { get; }

    /// <summary>Every upstream attempt.</summary>
    public Counter UpstreamRqTotal { get; }

    /// <summary>Attempts that hit <c>per_try_timeout</c>.</summary>
    public Counter UpstreamRqPerTryTimeout { get; }

    /// <summary>Retries scheduled.</summary>
    public Counter UpstreamRqRetry { get; }

    /// <summary>Retries that waited an exponential back-off.</summary>
    public Counter UpstreamRqRetryBackoffExponential { get; }

    /// <summary>Retries that waited the back-off a rate-limited response asked for.</summary>
    public Counter UpstreamRqRetryBackoffRateLimited { get; }

    /// <summary>Retriable outcomes with no retries left.</summary>
    public Counter UpstreamRqRetryLimitExceeded { get; }

    /// <summary>Retried requests that then got a non-retriable answer.</summary>
    public Counter UpstreamRqRetrySuccess { get; }

    /// <summary>Retries refused because the cluster's retry limit was reached.</summary>
    public Counter UpstreamRqRetryOverflow { get; }

    /// <summary>Retries given up because the request body could not be replayed.</summary>
    public Counter RetryOrShadowAbandoned { get; }

    /// <summary><c>circuit_breakers.&lt;default|high&gt;.*</c>, indexed by routing priority.</summary>
    public IReadOnlyList<CircuitBreakerStats> CircuitBreakers { get; }

    /// <summary>Requests refused by the max_requests or max_pending_requests circuit breaker.</summary>
    public Counter UpstreamRqPendingOverflow { get; }

    /// <summary>Response codes that triggered a retry, under <c>retry.</c>.</summary>
    public HttpCodeStats RetryCodes { get; }

    /// <summary>Attempts in flight.</summary>
    public Gauge UpstreamRqActive { get; }

    /// <summary>Requests that hit the route timeout.</summary>
    public Counter UpstreamRqTimeout { get; }

    /// <summary>Requests the client cancelled before the upstream answered.</summary>
    public Counter UpstreamRqCancelled { get; }

    /// <summary>Upstream resets (disconnect before a complete response).</summary>
    public Counter UpstreamRqRxReset { get; }

    /// <summary>Connections created (failed connects included, as in Envoy).</summary>
    public Counter UpstreamCxTotal { get; }

    /// <summary>HTTP/1 connections established.</summary>
    public Counter UpstreamCxHttp1Total { get; }

    /// <summary>HTTP/2 connections established.</summary>
    public Counter UpstreamCxHttp2Total { get; }

    /// <summary>Connections open now.</summary>
    public Gauge UpstreamCxActive { get; }

    /// <summary>Times a request needed a new connection but <c>max_connections</c> were open.</summary>
    public Counter UpstreamCxOverflow { get; }

    /// <summary>Connection attempts that failed.</summary>
    public Counter UpstreamCxConnectFail { get; }

    /// <summary>Responses the upstream codec refused (malformed response, invalid header value).</summary>
    public Counter UpstreamCxProtocolError { get; }

    /// <summary>Requests the gateway reset on their upstream connection.</summary>
    public Counter UpstreamRqTxReset { get; }

    /// <summary>Connection attempts that timed out (also counted as failures).</summary>
    public Counter UpstreamCxConnectTimeout { get; }

    /// <summary>Requests that found no host to send to.</summary>
    public Counter UpstreamCxNoneHealthy { get; }

    /// <summary>TCP proxy connections that gave up after <c>max_connect_attempts</c> failed connects.</summary>
    public Counter UpstreamCxConnectAttemptsExceeded { get; }

    /// <summary>Connections closed.</summary>
    public Counter UpstreamCxDestroy { get; }

    /// <summary>Connections closed by the gateway.</summary>
    public Counter UpstreamCxDestroyLocal { get; }

    /// <summary>Connections closed by the upstream.</summary>
    public Counter UpstreamCxDestroyRemote { get; }

    /// <summary>Bytes received from upstreams.</summary>
    public Counter UpstreamCxRxBytesTotal { get; }

    /// <summary>Bytes sent to upstreams.</summary>
    public Counter UpstreamCxTxBytesTotal { get; }

    /// <summary>Connect time.</summary>
    public Histogram UpstreamCxConnectMs { get; }

    /// <summary>Connection lifetime.</summary>
    public Histogram UpstreamCxLengthMs { get; }

    /// <summary>Hosts in the cluster.</summary>
    public Gauge MembershipTotal { get; }

    /// <summary>Healthy hosts in the cluster.</summary>
    public Gauge MembershipHealthy { get; }

    /// <summary>Degraded hosts in the cluster (configured <c>health_status: DEGRADED</c>).</summary>
    public Gauge MembershipDegraded { get; }

    /// <summary>Host selections made in panic mode (too few healthy hosts, all of them used).</summary>
    public Counter LbHealthyPanic { get; }

    /// <summary>Times the host set changed.</summary>
    public Counter MembershipChange { get; }

    /// <summary><c>upstream_rq_&lt;code&gt;</c>, <c>_&lt;N&gt;xx</c>, <c>_completed</c>, <c>_time</c> of final responses.</summary>
    public HttpCodeStats Codes { get; }

    /// <summary>The same under <c>external.</c> (requests without <c>x-envoy-internal: true</c>).</summary>
    public HttpCodeStats ExternalCodes { get; }

    /// <summary>The same per-code stats for internal requests, under <c>internal.</c>.</summary>
    public HttpCodeStats InternalCodes { get; }

    /// <summary>The <c>internal.</c> or <c>external.</c> set, by where the request came from.</summary>
    public HttpCodeStats CodesFor(bool internalRequest) => internalRequest ? InternalCodes : ExternalCodes;

    private Gateway.Grpc.GrpcClusterStats? _grpc;

    /// <summary>
    /// The cluster's gRPC stats (<c>cluster.&lt;name&gt;.grpc.*</c>, <c>grpc-web.*</c>: Envoy's Grpc::Context charges), made
    /// when a gRPC filter first charges the cluster; the filters reach it through the routed cluster.
    /// </summary>
    internal Gateway.Grpc.GrpcClusterStats Grpc
    {
        get
        {
            var grpc = Volatile.Read(ref _grpc);
            if (grpc is null)
            {
                grpc = new Gateway.Grpc.GrpcClusterStats(Store, Prefix);
                grpc = Interlocked.CompareExchange(ref _grpc, grpc, null) ?? grpc;
            }
            return grpc;
        }
    }
}

/// <summary>One priority's <c>circuit_breakers.&lt;priority&gt;.*</c> gauges (1 while a limit is reached; remaining_* with track_remaining).</summary>
public sealed class CircuitBreakerStats
{
    private readonly StatsStore _store;
    private readonly string _prefix;

    /// <summary>Creates the gauges under <paramref name="prefix"/> (ends with a dot).</summary>
    public CircuitBreakerStats(StatsStore store, string prefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _prefix = prefix;
        CxOpen = store.Gauge(prefix + "cx_open");
        store.Gauge(prefix + "cx_pool_open");
        RqPendingOpen = store.Gauge(prefix + "rq_pending_open");
        RqOpen = store.Gauge(prefix + "rq_open");
        RqRetryOpen = store.Gauge(prefix + "rq_retry_open");
    }

    /// <summary>1 while max_connections is reached.</summary>
    public Gauge CxOpen { get; }

    /// <summary>1 while max_pending_requests is reached.</summary>
    public Gauge RqPendingOpen { get; }

    /// <summary>1 while max_requests is reached.</summary>
    public Gauge RqOpen { get; }

    /// <summary>1 while max_retries is reached.</summary>
    public Gauge RqRetryOpen { get; }

    private RemainingGauges? _remaining;

    /// <summary>The <c>remaining_*</c> gauges, made the first time a configuration asks to track them (then reused: no lookups per request).</summary>
    public RemainingGauges Remaining()
    {
        var remaining = Volatile.Read(ref _remaining);
        if (remaining is null)
        {
            remaining = new RemainingGauges(_store.Gauge(_prefix + "remaining_cx"), _store.Gauge(_prefix + "remaining_pending"), _store.Gauge(_prefix + "remaining_rq"), _store.Gauge(_prefix + "remaining_retries"));
            Volatile.Write(ref _remaining, remaining);
        }
        return remaining;
    }
}

/// <summary>One priority's <c>remaining_cx</c>, <c>remaining_pending</c>, <c>remaining_rq</c> and <c>remaining_retries</c>.</summary>
public sealed record RemainingGauges(Gauge Cx, Gauge Pending, Gauge Rq, Gauge Retries)
{
}
