using System.Text.Json.Nodes;
using Gateway.Configuration;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters;

/// <summary>
/// One request as the filters of its chain see it (Envoy's filter callbacks and stream info). The gateway makes one
/// per request and reuses it for every filter; what it returns for <see cref="RouteConfig{T}"/> depends on the
/// filter being called.
/// </summary>
public abstract class HttpFilterContext
{
    /// <summary>The request and response. Headers may be read and changed; the body is the chain's to stream or buffer.</summary>
    public abstract HttpContext HttpContext { get; }

    /// <summary>The route the request matched, or null when none did. After <see cref="ClearRouteCache"/> it is matched again on the current headers.</summary>
    public abstract IHttpRoute? Route { get; }

    /// <summary>Forgets the selected route, so the next read of <see cref="Route"/> (and the router) match again: call it after changing what routing reads.</summary>
    public abstract void ClearRouteCache();

    /// <summary>
    /// The calling filter's most specific per-route configuration (route, then virtual host, then route configuration
    /// <c>typed_per_filter_config</c>), as its factory compiled it; null when none applies.
    /// </summary>
    public abstract T? RouteConfig<T>() where T : class;

    /// <summary>What is known about the stream: request id, timing, flags, dynamic metadata.</summary>
    public abstract HttpStreamInfo StreamInfo { get; }

    /// <summary>The gateway's clock.</summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>
    /// The request body, in a filter's <see cref="IHttpFilter.OnRequestBodyAsync"/>; setting it replaces what the
    /// upstream (and the filters after this one) receive, with <c>content-length</c> set to match.
    /// </summary>
    public abstract ReadOnlyMemory<byte> RequestBody { get; set; }

    /// <summary>
    /// The most bytes a buffered request body may hold before the request is answered 413 (Envoy's decoder buffer
    /// limit: 1 MiB, the default <c>per_connection_buffer_limit_bytes</c>). A filter may change it in its request-headers
    /// hook, as Envoy's buffer filter does with <c>setDecoderBufferLimit</c>; it applies to every filter that buffers the body.
    /// </summary>
    public abstract long RequestBufferLimit { get; set; }

    /// <summary>
    /// Called from a filter's request-headers hook: this filter does not need this request's body, so its
    /// <see cref="IHttpFilter.OnRequestBodyAsync"/> is not called and, unless another filter asks for the body, the body
    /// streams to the upstream (Envoy: a filter that lets data through without buffering, such as a buffer filter disabled per route).
    /// </summary>
    public abstract void SkipRequestBody();

    /// <summary>The response body, in a filter's <see cref="IHttpFilter.OnResponseBodyAsync"/>; setting it replaces what the client receives.</summary>
    public abstract ReadOnlyMemory<byte> ResponseBody { get; set; }

    /// <summary>
    /// Answers the request from the gateway (Envoy's sendLocalReply), through the same path as the gateway's own
    /// replies (server header, request id echo, encoders of the filters that already ran). Returns
    /// <see cref="FilterStatus.StopIteration"/> for the hook to return.
    /// </summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="body">A <c>text/plain</c> body, or null for none.</param>
    /// <param name="details">Envoy's response code details (e.g. <c>local_rate_limited</c>), kept in <see cref="HttpStreamInfo.ResponseCodeDetails"/>.</param>
    /// <param name="modifyHeaders">Adds or changes headers of the reply before it is sent.</param>
    /// <param name="grpcStatus">
    /// For a gRPC request, the <c>grpc-status</c> of the reply (which is then Envoy's trailers-only form, the body as
    /// <c>grpc-message</c>); null maps <paramref name="statusCode"/> as Envoy's httpToGrpcStatus. Ignored for other requests.
    /// </param>
    public abstract FilterStatus SendLocalReply(int statusCode, string? body, string details, Action<IHeaderDictionary>? modifyHeaders = null, int? grpcStatus = null);
}

/// <summary>A matched route, read-only.</summary>
public interface IHttpRoute
{
    /// <summary>The route's <c>name</c>, or null.</summary>
    string? Name { get; }

    /// <summary>The virtual host's <c>name</c>.</summary>
    string VirtualHostName { get; }

    /// <summary>The target cluster, or null for a direct response.</summary>
    string? ClusterName { get; }

    /// <summary>True for a <c>direct_response</c> route.</summary>
    bool IsDirectResponse { get; }

    /// <summary>The route's <c>metadata</c> (empty when it has none).</summary>
    EnvoyMetadata Metadata { get; }

    /// <summary>Its virtual host's <c>metadata</c>.</summary>
    EnvoyMetadata VirtualHostMetadata { get; }

    /// <summary>Its route configuration's <c>metadata</c>.</summary>
    EnvoyMetadata RouteConfigurationMetadata { get; }

    /// <summary>The target cluster's <c>metadata</c> (empty for a direct response).</summary>
    EnvoyMetadata ClusterMetadata { get; }
}

/// <summary>
/// Envoy's response flags (<c>%RESPONSE_FLAGS%</c> of access logs, the <c>response_flags</c> span tag): one bit per
/// <c>StreamInfo::ResponseFlag</c>, in Envoy's order, which is also the order they are printed in.
/// </summary>
[Flags]
public enum ResponseFlags : long
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>LH: the local health check failed (the health_check filter answered 503).</summary>
    FailedLocalHealthCheck = 1L << 0,

    /// <summary>UH: no healthy upstream host.</summary>
    NoHealthyUpstream = 1L << 1,

    /// <summary>UT: upstream request timeout.</summary>
    UpstreamRequestTimeout = 1L << 2,

    /// <summary>LR: connection local reset.</summary>
    LocalReset = 1L << 3,

    /// <summary>UR: upstream remote reset.</summary>
    UpstreamRemoteReset = 1L << 4,

    /// <summary>UF: upstream connection failure.</summary>
    UpstreamConnectionFailure = 1L << 5,

    /// <summary>UC: upstream connection termination.</summary>
    UpstreamConnectionTermination = 1L << 6,

    /// <summary>UO: upstream overflow (circuit breaking).</summary>
    UpstreamOverflow = 1L << 7,

    /// <summary>NR: no route.</summary>
    NoRouteFound = 1L << 8,

    /// <summary>DI: the request was delayed by the fault filter.</summary>
    DelayInjected = 1L << 9,

    /// <summary>FI: the request was aborted by the fault filter.</summary>
    FaultInjected = 1L << 10,

    /// <summary>RL: rate limited.</summary>
    RateLimited = 1L << 11,

    /// <summary>UAEX: refused by an external authorization service.</summary>
    UnauthorizedExternalService = 1L << 12,

    /// <summary>RLSE: the rate limit service failed.</summary>
    RateLimitServiceError = 1L << 13,

    /// <summary>DC: downstream connection termination.</summary>
    DownstreamConnectionTermination = 1L << 14,

    /// <summary>URX: the retry or connect attempt limit was reached.</summary>
    UpstreamRetryLimitExceeded = 1L << 15,

    /// <summary>SI: stream idle timeout.</summary>
    StreamIdleTimeout = 1L << 16,

    /// <summary>IH: an x-envoy-* request header had an invalid value.</summary>
    InvalidEnvoyRequestHeaders = 1L << 17,

    /// <summary>DPE: downstream protocol error.</summary>
    DownstreamProtocolError = 1L << 18,

    /// <summary>UMSDR: the upstream request reached max_stream_duration.</summary>
    UpstreamMaxStreamDurationReached = 1L << 19,

    /// <summary>RFCF: the response came from the cache filter.</summary>
    ResponseFromCacheFilter = 1L << 20,

    /// <summary>NFCF: no filter configuration was found (ECDS).</summary>
    NoFilterConfigFound = 1L << 21,

    /// <summary>DT: max_connection_duration or max_downstream_connection_duration reached.</summary>
    DurationTimeout = 1L << 22,

    /// <summary>UPE: upstream protocol error.</summary>
    UpstreamProtocolError = 1L << 23,

    /// <summary>NC: the route's cluster does not exist.</summary>
    NoClusterFound = 1L << 24,

    /// <summary>OM: the overload manager ended the request.</summary>
    OverloadManager = 1L << 25,

    /// <summary>DF: DNS resolution failed.</summary>
    DnsResolutionFailed = 1L << 26,

    /// <summary>DO: dropped by the cluster's drop_overload.</summary>
    DropOverload = 1L << 27,

    /// <summary>DR: the downstream reset the stream.</summary>
    DownstreamRemoteReset = 1L << 28,

    /// <summary>UDO: dropped unconditionally by a drop_overload of 100 %.</summary>
    UnconditionalDropOverload = 1L << 29,
}

/// <summary>What is known about one stream (Envoy's StreamInfo), as far as filters need it.</summary>
public abstract class HttpStreamInfo
{
    /// <summary>The request's <c>x-request-id</c> (after the connection manager set it), or null.</summary>
    public abstract string? RequestId { get; }

    /// <summary>When the request arrived, on the gateway's clock.</summary>
    public abstract DateTimeOffset StartTime { get; }

    /// <summary>When the request arrived, as a <see cref="TimeProvider"/> timestamp.</summary>
    public abstract long StartTimestamp { get; }

    /// <summary>True when the request is internal (<c>x-envoy-internal: true</c> was set by the connection manager).</summary>
    public abstract bool IsInternal { get; }

    /// <summary>The response flags set so far.</summary>
    public abstract ResponseFlags ResponseFlags { get; }

    /// <summary>Adds a response flag.</summary>
    public abstract void SetResponseFlag(ResponseFlags flag);

    /// <summary>The upstream host the router sent the (last) attempt to, as <c>address:port</c>; null before one was chosen.</summary>
    public abstract string? UpstreamHost { get; }

    /// <summary>That host's endpoint <c>metadata</c> (<c>lb_endpoints[].metadata</c>); null before a host was chosen.</summary>
    public abstract EnvoyMetadata? UpstreamHostMetadata { get; }

    /// <summary>
    /// True once a filter marked the request as a health check (Envoy's <c>StreamInfo::healthCheck()</c>): the
    /// connection manager then leaves it out of <c>downstream_rq_completed</c> and <c>downstream_rq_&lt;code&gt;</c>,
    /// and the router out of the cluster's <c>upstream_rq_&lt;code&gt;</c> stats.
    /// </summary>
    public abstract bool IsHealthCheck { get; }

    /// <summary>Marks the request as a health check (the health_check filter does, for requests its headers match).</summary>
    public abstract void SetHealthCheck();

    /// <summary>Envoy's response code details of a local reply (e.g. <c>route_not_found</c>), or null.</summary>
    public abstract string? ResponseCodeDetails { get; }

    /// <summary>
    /// Dynamic metadata: per namespace (usually a filter name) a <c>google.protobuf.Struct</c>, written by filters
    /// (<c>set_metadata</c>, <c>header_to_metadata</c>) and read by later filters and access logs. Created on first write.
    /// </summary>
    public abstract JsonObject DynamicMetadata(string filterNamespace);

    /// <summary>The dynamic metadata namespace if any filter wrote to it, else null (reading never creates it).</summary>
    public abstract JsonObject? FindDynamicMetadata(string filterNamespace);

    /// <summary>Every namespace written so far (for access logs and tests).</summary>
    public abstract IReadOnlyDictionary<string, JsonObject> AllDynamicMetadata { get; }
}
