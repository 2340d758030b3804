namespace Gateway.Stats;

/// <summary>
/// The <c>http.&lt;stat_prefix&gt;.*</c> stats of one HTTP connection manager (router stats live in the
/// same tree), plus the per-listener <c>listener.&lt;addr&gt;.http.&lt;stat_prefix&gt;.*</c> copies.
/// </summary>
public sealed class ConnectionManagerStats
{
    private static readonly string[] OtherCounters =
    [
        "downstream_cx_http3_total",
        "downstream_cx_rx_bytes_total", "downstream_cx_tx_bytes_total", "downstream_cx_drain_close", "downstream_cx_idle_timeout",
        "downstream_cx_overload_disable_keepalive",
        "downstream_flow_control_paused_reading_total", "downstream_flow_control_resumed_reading_total",
        "downstream_rq_http3_total", "downstream_rq_rejected_via_ip_detection",
        "downstream_rq_overload_close",
    ];

    private static readonly string[] OtherGauges =
    [
        "downstream_cx_http3_active",
        "downstream_cx_rx_bytes_buffered", "downstream_cx_tx_bytes_buffered",
    ];

    private readonly Counter[] _downstreamRqClass = new Counter[6];

    /// <summary>The <c>tracing.*</c> counters (charged through <see cref="Gateway.Tracing.TracingStats.Charge"/>).</summary>
    internal Gateway.Tracing.TracingStats Tracing { get; }
    private readonly Counter[] _listenerRqClass = new Counter[6];

    /// <summary>Resolves the handles for one connection manager on one listener.</summary>
    /// <param name="store">Where the stats live.</param>
    /// <param name="statPrefix">The HCM's <c>stat_prefix</c>.</param>
    /// <param name="listenerScope">The listener's stat scope.</param>
    /// <param name="publishTracing">False for the admin: Envoy keeps the admin's tracing counters in a no-op store, so /stats has no <c>http.admin.tracing.*</c>.</param>
    public ConnectionManagerStats(StatsStore store, string statPrefix, string listenerScope, bool publishTracing = true)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = "http." + statPrefix + ".";
        foreach (var name in OtherCounters)
        {
            store.Counter(prefix + name);
        }
        foreach (var name in OtherGauges)
        {
            store.Gauge(prefix + name);
        }
        Tracing = new Gateway.Tracing.TracingStats(publishTracing ? store : new StatsStore(), prefix);
        DownstreamCxDestroy = store.Counter(prefix + "downstream_cx_destroy");
        DownstreamCxSslTotal = store.Counter(prefix + "downstream_cx_ssl_total");
        DownstreamCxSslActive = store.Gauge(prefix + "downstream_cx_ssl_active");
        DownstreamCxHttp1Total = store.Counter(prefix + "downstream_cx_http1_total");
        DownstreamCxHttp2Total = store.Counter(prefix + "downstream_cx_http2_total");
        DownstreamCxHttp1Active = store.Gauge(prefix + "downstream_cx_http1_active");
        DownstreamCxHttp2Active = store.Gauge(prefix + "downstream_cx_http2_active");
        DownstreamCxLengthMs = store.Histogram(prefix + "downstream_cx_length_ms");
        DownstreamRqTime = store.Histogram(prefix + "downstream_rq_time");
        DownstreamCxTotal = store.Counter(prefix + "downstream_cx_total");
        DownstreamCxActive = store.Gauge(prefix + "downstream_cx_active");
        DownstreamRqTotal = store.Counter(prefix + "downstream_rq_total");
        DownstreamRqHttp1Total = store.Counter(prefix + "downstream_rq_http1_total");
        DownstreamRqHttp2Total = store.Counter(prefix + "downstream_rq_http2_total");
        DownstreamRqActive = store.Gauge(prefix + "downstream_rq_active");
        DownstreamRqCompleted = store.Counter(prefix + "downstream_rq_completed");
        DownstreamRqRxReset = store.Counter(prefix + "downstream_rq_rx_reset");
        DownstreamRqTxReset = store.Counter(prefix + "downstream_rq_tx_reset");
        DownstreamCxProtocolError = store.Counter(prefix + "downstream_cx_protocol_error");
        DownstreamCxDestroyLocal = store.Counter(prefix + "downstream_cx_destroy_local");
        DownstreamRqIdleTimeout = store.Counter(prefix + "downstream_rq_idle_timeout");
        DownstreamCxMaxRequestsReached = store.Counter(prefix + "downstream_cx_max_requests_reached");
        DownstreamCxMaxDurationReached = store.Counter(prefix + "downstream_cx_max_duration_reached");
        DownstreamCxDelayedCloseTimeout = store.Counter(prefix + "downstream_cx_delayed_close_timeout");
        DownstreamRqMaxDurationReached = store.Counter(prefix + "downstream_rq_max_duration_reached");
        DownstreamRqTimeout = store.Counter(prefix + "downstream_rq_timeout");
        DownstreamRqHeaderTimeout = store.Counter(prefix + "downstream_rq_header_timeout");
        DownstreamCxDestroyRemote = store.Counter(prefix + "downstream_cx_destroy_remote");
        DownstreamCxDestroyActiveRq = store.Counter(prefix + "downstream_cx_destroy_active_rq");
        DownstreamCxDestroyLocalActiveRq = store.Counter(prefix + "downstream_cx_destroy_local_active_rq");
        DownstreamCxDestroyRemoteActiveRq = store.Counter(prefix + "downstream_cx_destroy_remote_active_rq");
        DownstreamRqNonRelativePath = store.Counter(prefix + "downstream_rq_non_relative_path");
        DownstreamRqFailedPathNormalization = store.Counter(prefix + "downstream_rq_failed_path_normalization");
        DownstreamRqRedirectedWithNormalizedPath = store.Counter(prefix + "downstream_rq_redirected_with_normalized_path");
        DownstreamRqRejectedViaIpDetection = store.Counter(prefix + "downstream_rq_rejected_via_ip_detection");
        DownstreamRqResponseBeforeRqComplete = store.Counter(prefix + "downstream_rq_response_before_rq_complete");
        DownstreamRqWsOnNonWsRoute = store.Counter(prefix + "downstream_rq_ws_on_non_ws_route");
        DownstreamCxUpgradesTotal = store.Counter(prefix + "downstream_cx_upgrades_total");
        DownstreamCxUpgradesActive = store.Gauge(prefix + "downstream_cx_upgrades_active");
        DownstreamRqTooLarge = store.Counter(prefix + "downstream_rq_too_large");
        RsTooLarge = store.Counter(prefix + "rs_too_large");
        var listenerPrefix = listenerScope + ".http." + statPrefix + ".";
        ListenerRqCompleted = store.Counter(listenerPrefix + "downstream_rq_completed");
        for (var i = 1; i <= 5; i++)
        {
            _downstreamRqClass[i] = store.Counter($"{prefix}downstream_rq_{i}xx");
            _listenerRqClass[i] = store.Counter($"{listenerPrefix}downstream_rq_{i}xx");
        }
    }

    /// <summary>Connections accepted.</summary>
    public Counter DownstreamCxTotal { get; }

    /// <summary>Connections open.</summary>
    public Gauge DownstreamCxActive { get; }

    /// <summary>Connections closed.</summary>
    public Counter DownstreamCxDestroy { get; }

    /// <summary>HTTP/1 connections accepted.</summary>
    public Counter DownstreamCxHttp1Total { get; }

    /// <summary>HTTP/2 connections accepted.</summary>
    public Counter DownstreamCxHttp2Total { get; }

    /// <summary>HTTP/1 connections open.</summary>
    public Gauge DownstreamCxHttp1Active { get; }

    /// <summary>HTTP/2 connections open.</summary>
    public Gauge DownstreamCxHttp2Active { get; }

    /// <summary>Connection lifetime.</summary>
    public Histogram DownstreamCxLengthMs { get; }

    /// <summary>Request time, from arrival to the end of the response.</summary>
    public Histogram DownstreamRqTime { get; }

    /// <summary>Requests received.</summary>
    public Counter DownstreamRqTotal { get; }

    /// <summary>HTTP/1 requests received.</summary>
    public Counter DownstreamRqHttp1Total { get; }

    /// <summary>HTTP/2 requests received.</summary>
    public Counter DownstreamRqHttp2Total { get; }

    /// <summary>Requests in flight.</summary>
    public Gauge DownstreamRqActive { get; }

    /// <summary>Requests that got a response.</summary>
    public Counter DownstreamRqCompleted { get; }

    /// <summary>Requests the client reset before the response was complete.</summary>
    public Counter DownstreamRqRxReset { get; }

    /// <summary>Connections closed for a codec (protocol) error.</summary>
    public Counter DownstreamCxProtocolError { get; }

    /// <summary>Connections the gateway closed.</summary>
    public Counter DownstreamCxDestroyLocal { get; }

    /// <summary>Connections the client closed.</summary>
    public Counter DownstreamCxDestroyRemote { get; }

    /// <summary>Connections closed with a request in flight.</summary>
    public Counter DownstreamCxDestroyActiveRq { get; }

    /// <summary>Connections the gateway closed with a request in flight.</summary>
    public Counter DownstreamCxDestroyLocalActiveRq { get; }

    /// <summary>Connections the client closed with a request in flight.</summary>
    public Counter DownstreamCxDestroyRemoteActiveRq { get; }

    /// <summary>Requests whose <c>:path</c> does not start with '/' (404).</summary>
    public Counter DownstreamRqNonRelativePath { get; }

    /// <summary>Requests refused by path normalization, a fragment in the path included (400).</summary>
    public Counter DownstreamRqFailedPathNormalization { get; }

    /// <summary>Requests redirected to their normalized path (307, <c>UNESCAPE_AND_REDIRECT</c>).</summary>
    public Counter DownstreamRqRedirectedWithNormalizedPath { get; }

    /// <summary>Requests an <c>original_ip_detection_extensions</c> entry refused.</summary>
    public Counter DownstreamRqRejectedViaIpDetection { get; }
    /// <summary>Local replies sent before the request was read to its end (codec errors, replies to upgrades and CONNECT).</summary>
    public Counter DownstreamRqResponseBeforeRqComplete { get; }

    /// <summary>Streams the gateway reset before a response.</summary>
    public Counter DownstreamRqTxReset { get; }

    /// <summary>Connections that reached <c>max_connection_duration</c>.</summary>
    public Counter DownstreamCxMaxDurationReached { get; }

    /// <summary><c>downstream_cx_delayed_close_timeout</c>: connections closed because the client did not close within <c>delayed_close_timeout</c>.</summary>
    public Counter DownstreamCxDelayedCloseTimeout { get; }

    /// <summary>Streams at or past <c>max_requests_per_connection</c> on their connection.</summary>
    public Counter DownstreamCxMaxRequestsReached { get; }

    /// <summary>Streams closed by the stream idle timeout (<c>stream timeout</c>).</summary>
    public Counter DownstreamRqIdleTimeout { get; }

    /// <summary>Requests a route's <c>max_stream_duration</c> ended.</summary>
    public Counter DownstreamRqMaxDurationReached { get; }

    /// <summary>Requests <c>request_timeout</c> ended before they arrived in full.</summary>
    public Counter DownstreamRqTimeout { get; }

    /// <summary>Requests whose headers did not arrive within <c>request_headers_timeout</c> (Kestrel's 408).</summary>
    public Counter DownstreamRqHeaderTimeout { get; }

    /// <summary>Upgrade requests refused because their route allows no upgrade.</summary>
    public Counter DownstreamRqWsOnNonWsRoute { get; }

    /// <summary>Upgrades (WebSocket, CONNECT) accepted by the upgrade configuration (Envoy counts them as the upgrade filter chain is made).</summary>
    public Counter DownstreamCxUpgradesTotal { get; }

    /// <summary>Accepted upgrades whose stream is not over yet.</summary>
    public Gauge DownstreamCxUpgradesActive { get; }

    /// <summary>Requests answered 413 because a filter buffering the body found it over the buffer limit.</summary>
    public Counter DownstreamRqTooLarge { get; }

    /// <summary>Responses answered 500 because a filter buffering the body found it over the buffer limit.</summary>
    public Counter RsTooLarge { get; }

    /// <summary><c>listener.&lt;addr&gt;.http.&lt;prefix&gt;.downstream_rq_completed</c>.</summary>
    public Counter ListenerRqCompleted { get; }

    /// <summary>TLS connections accepted (their handshake completed).</summary>
    public Counter DownstreamCxSslTotal { get; }

    /// <summary>TLS connections open.</summary>
    public Gauge DownstreamCxSslActive { get; }

    /// <summary>Counts a connection opening on <paramref name="listener"/>; pass the result to <see cref="ConnectionClosed"/>.</summary>
    /// <param name="listener">The listener's stats.</param>
    /// <param name="http2">The codec, or null when it is not known yet (TLS: <see cref="CodecCreated"/> once ALPN chose).</param>
    public long ConnectionOpened(ListenerStats listener, bool? http2)
    {
        ArgumentNullException.ThrowIfNull(listener);
        listener.DownstreamCxTotal.Increment();
        listener.DownstreamCxActive.Increment();
        DownstreamCxTotal.Increment();
        DownstreamCxActive.Increment();
        if (http2 is { } codec)
        {
            CodecCreated(codec);
        }
        return System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Counts the connection's codec (Envoy creates it on the first bytes after the handshake).</summary>
    public void CodecCreated(bool http2)
    {
        (http2 ? DownstreamCxHttp2Total : DownstreamCxHttp1Total).Increment();
        (http2 ? DownstreamCxHttp2Active : DownstreamCxHttp1Active).Increment();
    }

    /// <summary>Counts a connection closing, with its length, who closed it and whether a request was in flight.</summary>
    public void ConnectionClosed(ListenerStats listener, bool? http2, long opened, bool remote, bool activeRequest)
    {
        (remote ? DownstreamCxDestroyRemote : DownstreamCxDestroyLocal).Increment();
        if (activeRequest)
        {
            DownstreamCxDestroyActiveRq.Increment();
            (remote ? DownstreamCxDestroyRemoteActiveRq : DownstreamCxDestroyLocalActiveRq).Increment();
        }
        ArgumentNullException.ThrowIfNull(listener);
        var length = System.Diagnostics.Stopwatch.GetElapsedTime(opened).TotalMilliseconds;
        listener.DownstreamCxActive.Decrement();
        listener.DownstreamCxDestroy.Increment();
        listener.DownstreamCxLengthMs.Record(length);
        DownstreamCxActive.Decrement();
        DownstreamCxDestroy.Increment();
        DownstreamCxLengthMs.Record(length);
        if (http2 is { } codec)
        {
            (codec ? DownstreamCxHttp2Active : DownstreamCxHttp1Active).Decrement();
        }
    }

    /// <summary>
    /// Counts a request the server's codec refused before the connection manager saw it (Kestrel's own
    /// 400/408/414/431): a request and its response, and a protocol error unless it was a timeout.
    /// </summary>
    public void CodecRejected(int statusCode, bool http2)
    {
        DownstreamRqTotal.Increment();
        (http2 ? DownstreamRqHttp2Total : DownstreamRqHttp1Total).Increment();
        if (statusCode != 408)
        {
            DownstreamCxProtocolError.Increment();
        }
        else
        {
            // Kestrel's only 408 before the connection manager: the request headers did not arrive in time.
            DownstreamRqHeaderTimeout.Increment();
        }
        ChargeResponse(statusCode);
    }

    /// <summary>Counts a codec refusal of a request already counted (its body): a protocol error unless it was a timeout.</summary>
    public void CodecErrorAfterRequest(int statusCode)
    {
        if (statusCode != 408)
        {
            DownstreamCxProtocolError.Increment();
        }
    }

    /// <summary>Counts a request arriving.</summary>
    public void RequestStarted(bool http2)
    {
        DownstreamRqTotal.Increment();
        (http2 ? DownstreamRqHttp2Total : DownstreamRqHttp1Total).Increment();
        DownstreamRqActive.Increment();
    }

    /// <summary>Counts a request ending: its time, and its response class, or a reset if the client went away.</summary>
    public void RequestFinished(int statusCode, bool clientAborted, double milliseconds, bool healthCheck = false, bool resetLocally = false)
    {
        DownstreamRqActive.Decrement();
        DownstreamRqTime.Record(milliseconds);
        if (resetLocally)
        {
            // The gateway reset the stream before any response (a codec refusal over HTTP/2).
            DownstreamRqTxReset.Increment();
        }
        else if (clientAborted)
        {
            DownstreamRqRxReset.Increment();
        }
        else if (!healthCheck)
        {
            // A health check is not a completed response in Envoy's stats (ActiveStream::chargeStats returns early).
            ChargeResponse(statusCode);
        }
    }

    /// <summary>Counts a response sent downstream.</summary>
    public void ChargeResponse(int statusCode)
    {
        DownstreamRqCompleted.Increment();
        ListenerRqCompleted.Increment();
        var codeClass = StatNames.CodeClass(statusCode);
        if (codeClass != 0)
        {
            _downstreamRqClass[codeClass].Increment();
            _listenerRqClass[codeClass].Increment();
        }
    }
}

/// <summary>The router's stats, in the connection manager's tree (<c>http.&lt;stat_prefix&gt;.rq_total</c>, …); the admin listener has none.</summary>
public sealed class RouterStats
{
    /// <summary>Resolves the handles for the router of one connection manager.</summary>
    public RouterStats(StatsStore store, string statPrefix)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = "http." + statPrefix + ".";
        RqTotal = store.Counter(prefix + "rq_total");
        NoRoute = store.Counter(prefix + "no_route");
        NoCluster = store.Counter(prefix + "no_cluster");
        RqDirectResponse = store.Counter(prefix + "rq_direct_response");
        RqResetAfterDownstreamResponseStarted = store.Counter(prefix + "rq_reset_after_downstream_response_started");
        store.Counter(prefix + "rq_redirect");
        store.Counter(prefix + "rq_overload_local_reply");
    }

    /// <summary>Requests routed.</summary>
    public Counter RqTotal { get; }

    /// <summary>Requests with no matching route.</summary>
    public Counter NoRoute { get; }

    /// <summary>Requests whose cluster does not exist.</summary>
    public Counter NoCluster { get; }

    /// <summary>Direct responses.</summary>
    public Counter RqDirectResponse { get; }

    /// <summary>Upstream failures after the response to the client had started.</summary>
    public Counter RqResetAfterDownstreamResponseStarted { get; }
}

/// <summary>The <c>listener.&lt;addr&gt;.*</c> stats.</summary>
public sealed class ListenerStats
{
    /// <summary>Resolves the handles for one listener scope (see <see cref="StatNames.ListenerScope"/>).</summary>
    public ListenerStats(StatsStore store, string scope)
    {
        ArgumentNullException.ThrowIfNull(store);
        Scope = scope;
        DownstreamCxTotal = store.Counter(scope + ".downstream_cx_total");
        DownstreamCxDestroy = store.Counter(scope + ".downstream_cx_destroy");
        DownstreamCxActive = store.Gauge(scope + ".downstream_cx_active");
        DownstreamCxLengthMs = store.Histogram(scope + ".downstream_cx_length_ms");
        NoFilterChainMatch = store.Counter(scope + ".no_filter_chain_match");
        DownstreamPreCxTimeout = store.Counter(scope + ".downstream_pre_cx_timeout");
        DownstreamPreCxActive = store.Gauge(scope + ".downstream_pre_cx_active");
        DownstreamListenerFilterRemoteClose = store.Counter(scope + ".downstream_listener_filter_remote_close");
        DownstreamListenerFilterError = store.Counter(scope + ".downstream_listener_filter_error");
        foreach (var name in OtherCounters)
        {
            store.Counter(scope + "." + name);
        }
    }

    private static readonly string[] OtherCounters =
    [
        "downstream_cx_transport_socket_connect_timeout", "downstream_cx_overflow", "downstream_cx_overload_reject",
        "downstream_global_cx_overflow", "extension_config_missing",
        "network_extension_config_missing", "global_cx_overflow",
    ];

    /// <summary>Connections closed because no filter chain matched them (and there is no default chain).</summary>
    public Counter NoFilterChainMatch { get; }

    /// <summary>Connections whose listener filters ran past <c>listener_filters_timeout</c>.</summary>
    public Counter DownstreamPreCxTimeout { get; }

    /// <summary>Connections in their listener filters now.</summary>
    public Gauge DownstreamPreCxActive { get; }

    /// <summary>Connections the client closed while a listener filter waited for data.</summary>
    public Counter DownstreamListenerFilterRemoteClose { get; }

    /// <summary>Connections a listener filter closed (e.g. a ClientHello over 64 KiB).</summary>
    public Counter DownstreamListenerFilterError { get; }

    /// <summary>Connection lifetime.</summary>
    public Histogram DownstreamCxLengthMs { get; }

    /// <summary>The scope, e.g. <c>listener.0.0.0.0_15001</c>.</summary>
    public string Scope { get; }

    /// <summary>Connections accepted.</summary>
    public Counter DownstreamCxTotal { get; }

    /// <summary>Connections closed.</summary>
    public Counter DownstreamCxDestroy { get; }

    /// <summary>Connections open.</summary>
    public Gauge DownstreamCxActive { get; }
}
