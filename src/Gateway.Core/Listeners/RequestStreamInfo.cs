using System.Text.Json.Nodes;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tracing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's StreamInfo for one downstream request: made by the connection manager for every request (an HttpContext
/// feature) and the one source of what is known about it: route, upstream host, attempts, response flags and code
/// details, timing and byte counts. Filters see it as <see cref="HttpStreamInfo"/>; access logs, the tracer's span tags,
/// the local reply and the stats read the same values.
/// </summary>
internal sealed class RequestStreamInfo : HttpStreamInfo
{
    private readonly HttpContext? _context;
    private readonly TimeProvider _time;
    private Dictionary<string, JsonObject>? _metadata;
    private ResponseFlags _flags;
    private bool _healthCheck;
    private long _lastDownstreamRx;
    private long _firstUpstreamTx;
    private long _firstUpstreamRx;
    private long _lastUpstreamRx;
    private long _firstDownstreamTx;
    private long _end;
    private int _attemptResponseCode = -1;
    private long _attemptStart;
    private TimeSpan? _attemptDuration;
    private readonly long _connectionId;

    public RequestStreamInfo(HttpContext context, TimeProvider time, long startTimestamp)
    {
        _context = context;
        _time = time;
        StartTimestamp = startTimestamp;
        StartTime = time.GetUtcNow();
    }

    /// <summary>
    /// The stream info of a downstream connection (Envoy's connection-level StreamInfo, which the listener's access logs
    /// read): no request, so request fields are absent and the response code is 0; it starts when the connection is
    /// accepted and <see cref="Complete"/> ends it when the connection closes.
    /// </summary>
    private RequestStreamInfo(TimeProvider time, long startTimestamp, long connectionId)
    {
        _connectionId = connectionId;
        _time = time;
        StartTimestamp = startTimestamp;
        StartTime = time.GetUtcNow();
    }

    /// <summary>A connection's stream info, started now.</summary>
    public static RequestStreamInfo ForConnection(TimeProvider time, long connectionId, string? filterChainName)
        => new(time, time.GetTimestamp(), connectionId) { FilterChainName = filterChainName };

    /// <summary>
    /// The downstream connection's number (<c>%CONNECTION_ID%</c>, Envoy's connectionID()); 0 when the request's
    /// connection is not a listener's (read from the connection only when a format asks).
    /// </summary>
    public long ConnectionId => _context is null ? _connectionId : _context.Features.Get<DownstreamConnection>()?.Id ?? 0;

    /// <summary>
    /// The downstream connection's TLS facts (<c>%DOWNSTREAM_PEER_*%</c>, <c>%DOWNSTREAM_TLS_*%</c>); null in plain text.
    /// A request's come from its connection; a connection entry's are set when it is logged.
    /// </summary>
    public Gateway.Tls.DownstreamTlsInfo? DownstreamTls => _context is null ? ConnectionTls : _context.Features.Get<Gateway.Tls.DownstreamTlsInfo>();

    /// <summary>A connection's stream info: its TLS facts (<see cref="DownstreamTls"/>).</summary>
    internal Gateway.Tls.DownstreamTlsInfo? ConnectionTls { get; set; }

    /// <summary>The name of the filter chain that took the connection (<c>%FILTER_CHAIN_NAME%</c>), or null when it has none.</summary>
    public string? FilterChainName { get; init; }

    /// <summary>The stream's random value (Envoy's stream id, drawn once by the connection manager): <c>runtime_fraction</c> route matches decide on it.</summary>
    public ulong RandomValue { get; init; }

    /// <summary>True for a connection's stream info (<see cref="ForConnection"/>), which has no <see cref="HttpContext"/>.</summary>
    public bool IsConnection => _context is null;

    /// <summary>The request; not to be read on a connection's stream info (<see cref="IsConnection"/>).</summary>
    public HttpContext HttpContext => _context ?? throw new InvalidOperationException("a connection's stream info has no request");

    /// <inheritdoc/>
    public override string? RequestId
    {
        get
        {
            if (_context is null)
            {
                return null;
            }
            var value = _context.Request.Headers[EnvoyHeaders.RequestId];
            return value.Count == 0 ? null : value[0];
        }
    }

    /// <inheritdoc/>
    public override DateTimeOffset StartTime { get; }

    /// <inheritdoc/>
    public override long StartTimestamp { get; }

    /// <inheritdoc/>
    public override bool IsInternal => Internal;

    /// <summary>Set by the connection manager once it has decided.</summary>
    public bool Internal { get; set; }

    /// <summary>
    /// The trusted client address when the connection manager took it from <c>x-forwarded-for</c> (Envoy's stream
    /// downstream remote address, port 0: <c>%DOWNSTREAM_REMOTE_ADDRESS%</c>); null when it is the connection's peer,
    /// which <c>%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%</c> always prints.
    /// </summary>
    public System.Net.IPAddress? ForwardedRemoteAddress { get; set; }

    /// <summary>The filter chain of the request, when its listener has filters.</summary>
    public FilterChainStream? Filters { get; set; }

    /// <summary>The stream's periodic access log entries (<c>access_log_flush_interval</c>, <c>upstream_log_flush_interval</c>), or null when its connection manager has none.</summary>
    internal AccessLog.PeriodicAccessLog? Periodic { get; set; }

    /// <summary>The router's state for the request once it went to a cluster.</summary>
    public Router.UpstreamRequest? Upstream { get; set; }

    /// <summary>The route selected (last), or null when none matched.</summary>
    public RouteRuntime? Route { get; set; }

    /// <summary>The route's <c>name</c> (<c>%ROUTE_NAME%</c>), or null.</summary>
    public string? RouteName => Route?.Plan.RouteName;

    /// <summary>The gateway reset the stream before any response (Kestrel cancels RequestAborted later, on the thread pool).</summary>
    internal bool ResetBeforeResponse { get; set; }

    /// <summary>The stream's timers (idle, duration, request), or null when it has none; body activity either way restarts the idle one.</summary>
    internal StreamTimers? Timers { get; set; }

    /// <summary>Envoy's resetIdleTimer: request body read or response body written.</summary>
    internal void OnStreamActivity() => Timers?.OnActivity();

    /// <summary>The response started or a body chunk went (Envoy's encodeHeaders/encodeData): activity, and <c>request_timeout</c> no longer applies.</summary>
    internal void OnResponseActivity()
    {
        if (Timers is { } timers)
        {
            timers.OnActivity();
            timers.DisarmRequestTimer();
        }
    }

    /// <summary>
    /// A read of the client's bytes (request body or tunnel) returned <paramref name="read"/> of <paramref name="asked"/>:
    /// counted as received and as activity, or, at the end of the stream, the last downstream byte. Returns <paramref name="read"/>.
    /// </summary>
    internal int OnDownstreamRead(int read, int asked)
    {
        if (read > 0)
        {
            BytesReceived += read;
            OnStreamActivity();
        }
        else if (asked > 0)
        {
            OnLastDownstreamRxByteReceived();
        }
        return read;
    }

    /// <summary>A write of <paramref name="length"/> bytes to the client (response body or tunnel): counted as sent and as activity.</summary>
    internal void OnDownstreamWrite(int length)
    {
        BytesSent += length;
        OnResponseActivity();
    }

    /// <summary>The request's virtual cluster (<c>%VIRTUAL_CLUSTER_NAME%</c>), set by the router; null when its virtual host has none.</summary>
    public string? VirtualClusterName { get; set; }

    /// <summary>The cluster the router sent the request to (<c>%UPSTREAM_CLUSTER%</c>), or null.</summary>
    public ClusterRuntime? UpstreamCluster { get; set; }

    /// <summary>The host of the last upstream attempt, or null.</summary>
    public UpstreamHost? Host { get; set; }

    /// <inheritdoc/>
    public override string? UpstreamHost => Host?.Address;

    /// <inheritdoc/>
    public override EnvoyMetadata? UpstreamHostMetadata => Host?.Metadata;

    /// <summary>Upstream attempts made (<c>%UPSTREAM_REQUEST_ATTEMPT_COUNT%</c>); 0 when none.</summary>
    public int AttemptCount { get; set; }

    /// <summary>Why the last upstream connection failed (<c>%UPSTREAM_TRANSPORT_FAILURE_REASON%</c>), e.g. <c>delayed connect error: 111</c>.</summary>
    public string? UpstreamTransportFailureReason { get; set; }

    /// <summary>Request body bytes received from the client (<c>%BYTES_RECEIVED%</c>), when the connection manager counts them.</summary>
    public long BytesReceived { get; set; }

    /// <summary>Response body bytes sent to the client (<c>%BYTES_SENT%</c>), when the connection manager counts them.</summary>
    public long BytesSent { get; set; }

    /// <summary>The downstream span (Envoy's active span), or <see cref="NullSpan.Instance"/> when the request is not traced.</summary>
    public ISpan Span { get; set; } = NullSpan.Instance;

    /// <summary>The route decorator's operation the response reports in <c>x-envoy-decorator-operation</c> (ingress), or null.</summary>
    public string? DecoratedOperation { get; set; }

    /// <summary>The connection manager's tracing decision (<c>traceable_filter</c> reads it).</summary>
    public TracingDecision TracingDecision { get; set; }

    /// <inheritdoc/>
    public override ResponseFlags ResponseFlags => _flags;

    /// <inheritdoc/>
    public override void SetResponseFlag(ResponseFlags flag) => _flags |= flag;

    /// <inheritdoc/>
    public override string? ResponseCodeDetails => Details;

    /// <summary>Envoy's response code details: <c>via_upstream</c> for a proxied response, the local reply's reason otherwise.</summary>
    public string? Details { get; set; }

    /// <summary>The response status once the response started (0 before; <c>%RESPONSE_CODE%</c> prints 0 then, as Envoy).</summary>
    public int ResponseCode => _attemptResponseCode >= 0 ? _attemptResponseCode
        : _context is null ? 0
        : _context.Response.HasStarted || _end != 0 || _localReplyCode ? _context.Response.StatusCode : 0;

    private bool _localReplyCode;

    /// <summary>A local reply's status is decided (Envoy's rewrite sets the stream info's response code before it runs the mappers).</summary>
    public void LocalReplyCodeSet() => _localReplyCode = true;

    /// <summary>
    /// While the router's upstream loggers run: Envoy formats them with the attempt's own StreamInfo, whose response
    /// code is the upstream's (0 when none came), not the one the client gets. Ended by <see cref="EndUpstreamLog"/>.
    /// </summary>
    /// <remarks><see cref="Duration"/> is the attempt's then (from <see cref="OnAttemptStarted"/>), as the attempt's stream info ends with it.</remarks>
    public void BeginUpstreamLog(int upstreamResponseCode)
    {
        _attemptResponseCode = upstreamResponseCode;
        _attemptDuration = _attemptStart == 0 ? null : _time.GetElapsedTime(_attemptStart);
    }

    /// <summary>Ends <see cref="BeginUpstreamLog"/>.</summary>
    public void EndUpstreamLog()
    {
        _attemptResponseCode = -1;
        _attemptDuration = null;
    }

    /// <summary>Marks the start of an upstream attempt, for the upstream log's <see cref="Duration"/>.</summary>
    public void OnAttemptStarted() => _attemptStart = _time.GetTimestamp();

    /// <inheritdoc/>
    public override bool IsHealthCheck => _healthCheck;

    /// <inheritdoc/>
    public override void SetHealthCheck() => _healthCheck = true;

    /// <inheritdoc/>
    public override JsonObject DynamicMetadata(string filterNamespace)
    {
        _metadata ??= new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (!_metadata.TryGetValue(filterNamespace, out var value))
        {
            value = [];
            _metadata[filterNamespace] = value;
        }
        return value;
    }

    /// <inheritdoc/>
    public override JsonObject? FindDynamicMetadata(string filterNamespace)
        => _metadata is not null && _metadata.TryGetValue(filterNamespace, out var value) ? value : null;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, JsonObject> AllDynamicMetadata
        => (IReadOnlyDictionary<string, JsonObject>?)_metadata ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, JsonObject>.Empty;

    // Timing (Envoy's TimingUtility): each is the time from the start of the request, or null when it did not happen.

    /// <summary>The whole request had been read (<c>%REQUEST_DURATION%</c>).</summary>
    public TimeSpan? LastDownstreamRxByteReceived => Since(_lastDownstreamRx);

    /// <summary>The first attempt went to an upstream connection (<c>%REQUEST_TX_DURATION%</c> is measured to the last, here the same).</summary>
    public TimeSpan? FirstUpstreamTxByteSent => Since(_firstUpstreamTx);

    /// <summary>Upstream response headers arrived (<c>%RESPONSE_DURATION%</c>).</summary>
    public TimeSpan? FirstUpstreamRxByteReceived => Since(_firstUpstreamRx);

    /// <summary>The upstream response ended.</summary>
    public TimeSpan? LastUpstreamRxByteReceived => Since(_lastUpstreamRx);

    /// <summary>The response started towards the client.</summary>
    public TimeSpan? FirstDownstreamTxByteSent => Since(_firstDownstreamTx);

    /// <summary>The request is over: the response was sent or the stream reset (Envoy's requestComplete).</summary>
    public TimeSpan? Duration => _attemptDuration ?? Since(_end);

    /// <summary>
    /// <c>%DURATION%</c> and <c>duration_filter</c> (Envoy's currentDuration): <see cref="Duration"/> once the request is over,
    /// the time so far before (a <c>DownstreamStart</c> or periodic entry).
    /// </summary>
    public TimeSpan? CurrentDuration => _attemptDuration ?? (_end != 0 ? Since(_end) : _time.GetElapsedTime(StartTimestamp));

    /// <summary>Marks the end of reading the request.</summary>
    public void OnLastDownstreamRxByteReceived()
    {
        _lastDownstreamRx = _time.GetTimestamp();
        Timers?.DisarmRequestTimer();
    }

    /// <summary>Marks an attempt reaching an upstream connection (the first one counts).</summary>
    public void OnUpstreamTxStarted()
    {
        if (_firstUpstreamTx == 0)
        {
            _firstUpstreamTx = _time.GetTimestamp();
        }
    }

    /// <summary>Marks upstream response headers (of the attempt whose response is used: a retried one is replaced).</summary>
    public void OnFirstUpstreamRxByteReceived() => _firstUpstreamRx = _time.GetTimestamp();

    /// <summary>Marks the end of the upstream response.</summary>
    public void OnLastUpstreamRxByteReceived() => _lastUpstreamRx = _time.GetTimestamp();

    /// <summary>Marks the start of the response to the client.</summary>
    public void OnFirstDownstreamTxByteSent()
    {
        if (_firstDownstreamTx == 0)
        {
            _firstDownstreamTx = _time.GetTimestamp();
        }
    }

    /// <summary>The request is over: fixes <see cref="Duration"/>. Called once by the connection manager.</summary>
    public void Complete()
    {
        if (_end == 0)
        {
            _end = _time.GetTimestamp();
        }
    }

    private TimeSpan? Since(long timestamp) => timestamp == 0 ? null : _time.GetElapsedTime(StartTimestamp, timestamp);
}
