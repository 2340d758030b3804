namespace Gateway.Configuration;

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", NotSupported =
[
    "scoped_routes",
    "http3_protocol_options",
    "stream_flush_timeout", "drain_timeout_jitter",
    "early_header_mutation_extensions",
    "represent_ipv4_remote_address_as_ipv4_mapped_ipv6",
    "stream_error_on_invalid_http_message",
    "path_normalization_options", "proxy_status_config", "typed_header_validation_config",
    "append_local_overload", "add_proxy_protocol_connection_state",
    "max_requests_per_connection", "http1_safe_max_connection_duration", "server_name_transformation",
])]
public sealed class HttpConnectionManager : EnvoyMessage
{
    /// <summary>How the connection manager's local replies are rewritten (status, body, headers) before they are sent.</summary>
    [ProtoField(38)]
    public LocalReplyConfig? LocalReplyConfig { get; set; }

    /// <summary>Which HTTP versions the listener accepts.</summary>
    public CodecType CodecType { get; set; }

    /// <summary>Prefix of the <c>http.&lt;stat_prefix&gt;.*</c> stats; required.</summary>
    public string? StatPrefix { get; set; }

    /// <summary>The inline route table (one of <see cref="RouteConfig"/> and <see cref="Rds"/>).</summary>
    [ProtoField(4, InOneOf = true)]
    public RouteConfiguration? RouteConfig { get; set; }

    /// <summary>The route table from RDS (one of <see cref="RouteConfig"/> and <see cref="Rds"/>).</summary>
    [ProtoField(3, InOneOf = true)]
    public Rds? Rds { get; set; }

    /// <summary>HTTP filters, decoded in order; when not empty, the router must be last.</summary>
    public List<HttpFilter> HttpFilters { get; set; } = [];

    /// <summary>Value of the <c>server</c> response header; default <c>envoy</c>.</summary>
    public string? ServerName { get; set; }

    /// <summary>How the <c>server</c> header of upstream responses is treated.</summary>
    public ServerHeaderTransformation ServerHeaderTransformation { get; set; }

    /// <summary>Tracing of this connection manager's requests; absent: none.</summary>
    [ProtoField(7)]
    public HcmTracing? Tracing { get; set; }

    /// <summary>Whether to generate <c>x-request-id</c> when absent; default true.</summary>
    public bool? GenerateRequestId { get; set; }

    /// <summary>Keep an incoming <c>x-request-id</c> even on edge requests.</summary>
    public bool PreserveExternalRequestId { get; set; }

    /// <summary>Copy <c>x-request-id</c> into the response.</summary>
    public bool AlwaysSetRequestIdInResponse { get; set; }

    /// <summary>The request id extension (only <c>envoy.request_id.uuid</c>); absent means the UUID extension with its defaults.</summary>
    public RequestIdExtension? RequestIdExtension { get; set; }

    /// <summary>
    /// How the client's address is found without <c>use_remote_address</c> (the first extension that detects one wins;
    /// one may refuse the request): <c>envoy.http.original_ip_detection.custom_header</c> and <c>.xff</c>.
    /// </summary>
    [ProtoField(46)]
    public List<OriginalIpDetectionExtension> OriginalIpDetectionExtensions { get; set; } = [];

    /// <summary>
    /// Trust the downstream connection's address as the client address (append it to <c>x-forwarded-for</c>) instead of
    /// reading it from <c>x-forwarded-for</c>; default false.
    /// </summary>
    public bool? UseRemoteAddress { get; set; }

    /// <summary>How many proxies in front of this one appended to <c>x-forwarded-for</c> and are trusted; default 0.</summary>
    public uint XffNumTrustedHops { get; set; }

    /// <summary>With <c>use_remote_address</c>, do not append the downstream address to <c>x-forwarded-for</c>.</summary>
    public bool SkipXffAppend { get; set; }

    /// <summary>
    /// The connection options of HTTP/1 and HTTP/2 (<c>idle_timeout</c>, <c>max_headers_count</c>,
    /// <c>headers_with_underscores_action</c> here; the validator refuses the others by path).
    /// </summary>
    [ProtoField(35)]
    public CommonHttpProtocolOptions? CommonHttpProtocolOptions { get; set; }

    /// <summary>
    /// HTTP/2 downstream: <c>max_concurrent_streams</c>, the initial windows, <c>hpack_table_size</c> and
    /// <c>connection_keepalive</c> (Kestrel's server-wide HTTP/2 limits, so every connection manager must agree), and
    /// <c>allow_connect</c> (RFC 8441 extended CONNECT, per connection manager).
    /// </summary>
    [ProtoField(9)]
    public Http2ProtocolOptions? Http2ProtocolOptions { get; set; }

    /// <summary>HTTP/1 downstream: <c>accept_http_10</c>, <c>default_host_for_http_10</c>, <c>allow_chunked_length</c>, <c>header_key_format</c>.</summary>
    [ProtoField(8)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }

    /// <summary>Overwrites the request's <c>:scheme</c> and <c>x-forwarded-proto</c>; absent: they stay as they came.</summary>
    [ProtoField(48)]
    public SchemeHeaderTransformation? SchemeHeaderTransformation { get; set; }

    /// <summary>Set <c>x-forwarded-port</c> to the listener's port (the previous hop's is kept only when it is trusted).</summary>
    [ProtoField(51)]
    [EnvoyField("append_x_forwarded_port")]
    public bool AppendXForwardedPort { get; set; }

    /// <summary>
    /// Add <c>x-envoy-downstream-service-cluster</c> (<c>node.cluster</c>), <c>x-envoy-downstream-service-node</c>
    /// (<c>node.id</c>) and a <c>user-agent</c> (<c>node.cluster</c>) when the request has none; default false.
    /// </summary>
    [ProtoField(6)]
    public bool? AddUserAgent { get; set; }

    /// <summary><c>Expect: 100-continue</c> goes to the upstream and its 100 to the client, instead of the gateway answering it.</summary>
    [ProtoField(18)]
    [EnvoyField("proxy_100_continue")]
    public bool Proxy100Continue { get; set; }

    /// <summary>How <c>x-forwarded-client-cert</c> is treated; default <c>SANITIZE</c> (removed).</summary>
    [ProtoField(16)]
    public ForwardClientCertDetails ForwardClientCertDetails { get; set; }

    /// <summary>What of the client certificate <c>APPEND_FORWARD</c> and <c>SANITIZE_SET</c> put in <c>x-forwarded-client-cert</c>.</summary>
    [ProtoField(17)]
    public SetCurrentClientCertDetails? SetCurrentClientCertDetails { get; set; }

    /// <summary>The <c>via</c> value appended to requests and responses; empty (the default) adds none.</summary>
    public string? Via { get; set; }

    /// <summary>
    /// How long a stream may see no activity (headers or body either way) before it ends: 408 <c>stream timeout</c>
    /// before the response started, else a reset. Default 5 minutes; zero disables it (a route's <c>idle_timeout</c> still applies).
    /// </summary>
    [ProtoField(24)]
    public TimeSpan? StreamIdleTimeout { get; set; }

    /// <summary>How long the whole request may take to arrive (408 <c>request timeout</c>); absent or zero: no limit.</summary>
    [ProtoField(28)]
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>How long the request headers may take to arrive from their first byte; absent or zero: no limit.</summary>
    [ProtoField(41)]
    public TimeSpan? RequestHeadersTimeout { get; set; }

    /// <summary>
    /// After the gateway decides to close a connection, how long it waits for the client to close first (Envoy's
    /// FlushWriteAndDelay); default 1 s, zero closes at once.
    /// </summary>
    [ProtoField(26)]
    public TimeSpan? DelayedCloseTimeout { get; set; }

    /// <summary>How long a draining connection (<c>max_connection_duration</c> reached) keeps serving before it closes; default 5 s.</summary>
    [ProtoField(12)]
    public TimeSpan? DrainTimeout { get; set; }

    /// <summary>Limit on the request URL plus header names and values, in KiB (1–8192); default 60.</summary>
    public uint? MaxRequestHeadersKb { get; set; }

    /// <summary>Which client addresses make a request internal (none by default, as in Envoy 1.33 and later).</summary>
    public InternalAddressConfig? InternalAddressConfig { get; set; }

    /// <summary>Normalize the path (RFC 3986: dot segments, unreserved escapes) before routing and forwarding; default false.</summary>
    public bool? NormalizePath { get; set; }

    /// <summary>Collapse adjacent slashes in the path before routing and forwarding.</summary>
    public bool MergeSlashes { get; set; }

    /// <summary>Remove the Host header's port when it is the listener's own, before routing and forwarding.</summary>
    [ProtoField(39)]
    public bool StripMatchingHostPort { get; set; }

    /// <summary>Remove any port from the Host header before routing and forwarding.</summary>
    [ProtoField(42)]
    public bool StripAnyHostPort { get; set; }

    /// <summary>Remove a trailing dot from the Host header's name (<c>example.com.</c>) before routing and forwarding.</summary>
    [ProtoField(47)]
    public bool StripTrailingHostDot { get; set; }

    /// <summary>What to do with <c>%2F</c>, <c>%2f</c>, <c>%5C</c> and <c>%5c</c> in the path.</summary>
    public PathWithEscapedSlashesAction PathWithEscapedSlashesAction { get; set; }

    /// <summary>Access logs written when each request ends.</summary>
    [ProtoField(13)]
    public List<AccessLogConfig> AccessLog { get; set; } = [];

    /// <summary>Deprecated form of <see cref="HcmAccessLogOptions.FlushAccessLogOnNewRequest"/>.</summary>
    public bool FlushAccessLogOnNewRequest { get; set; }

    /// <summary>Deprecated form of <see cref="HcmAccessLogOptions.AccessLogFlushInterval"/> (at least 1 ms).</summary>
    public TimeSpan? AccessLogFlushInterval { get; set; }

    /// <summary>When the access logs are written besides the end of the stream.</summary>
    public HcmAccessLogOptions? AccessLogOptions { get; set; }

    /// <summary>The upgrade types (<c>websocket</c>, <c>CONNECT</c>) this connection manager proxies; none by default (403).</summary>
    [ProtoField(23)]
    public List<HcmUpgradeConfig> UpgradeConfigs { get; set; } = [];
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions")]
public sealed class HcmAccessLogOptions : EnvoyMessage
{
    /// <summary>Also write an entry (AccessLogType <c>DownstreamPeriodic</c>) every interval while a request is in flight (at least 1 ms).</summary>
    public TimeSpan? AccessLogFlushInterval { get; set; }

    /// <summary>Also write an entry (AccessLogType <c>DownstreamStart</c>) when a request's headers have been evaluated, before the filter chain.</summary>
    public bool FlushAccessLogOnNewRequest { get; set; }

    /// <summary>Also write an entry (AccessLogType <c>DownstreamTunnelSuccessfullyEstablished</c>) when an upgrade is answered 101 and the tunnel opens.</summary>
    public bool FlushLogOnTunnelSuccessfullyEstablished { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension")]
public sealed class RequestIdExtension : EnvoyMessage
{
    /// <summary>The extension's configuration (<c>envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig</c>).</summary>
    [AnyField(EnvoyTypeCategory.RequestId)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary>One of <c>original_ip_detection_extensions</c> (<c>envoy.config.core.v3.TypedExtensionConfig</c>).</summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class OriginalIpDetectionExtension : EnvoyMessage
{
    /// <summary>The extension's name (required).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary><see cref="CustomHeaderConfig"/> or <see cref="XffConfig"/>.</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.OriginalIpDetection)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig</c> (<c>envoy.request_id.uuid</c>).</summary>
[EnvoyType("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig")]
public sealed class UuidRequestIdConfig : EnvoyMessage
{
    /// <summary>Write the trace decision into the UUID's version nibble; default true.</summary>
    [ProtoField(1)]
    public bool? PackTraceReason { get; set; }

    /// <summary>Sample traces on the request id's value (the same decision on every hop); default true.</summary>
    [ProtoField(2)]
    public bool? UseRequestIdForTraceSampling { get; set; }
}

/// <summary><c>HttpConnectionManager.PathWithEscapedSlashesAction</c>.</summary>
public enum PathWithEscapedSlashesAction
{
    /// <summary>Envoy's default: <see cref="KeepUnchanged"/>.</summary>
    ImplementationSpecificDefault = 0,

    /// <summary>Leave escaped slashes as they are.</summary>
    KeepUnchanged = 1,

    /// <summary>Answer 400.</summary>
    RejectRequest = 2,

    /// <summary>Unescape them and redirect (307) to the normalized path.</summary>
    UnescapeAndRedirect = 3,

    /// <summary>Unescape them and go on with the request.</summary>
    UnescapeAndForward = 4,
}

/// <summary><c>HttpConnectionManager.InternalAddressConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig", NotSupported = ["unix_sockets"])]
public sealed class InternalAddressConfig : EnvoyMessage
{
    /// <summary>Address ranges considered internal.</summary>
    public List<CidrRange> CidrRanges { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.CidrRange</c>.</summary>
[EnvoyType("envoy.config.core.v3.CidrRange")]
public sealed class CidrRange : EnvoyMessage
{
    /// <summary>IPv4 or IPv6 address, e.g. <c>10.0.0.0</c>.</summary>
    public string? AddressPrefix { get; set; }

    /// <summary>Length of the prefix, e.g. 8.</summary>
    public uint? PrefixLen { get; set; }
}

/// <summary><c>HttpConnectionManager.ForwardClientCertDetails</c>.</summary>
public enum ForwardClientCertDetails
{
    /// <summary>Remove the header (the default).</summary>
    Sanitize = 0,

    /// <summary>On mutual TLS connections, forward it as it came; else remove it.</summary>
    ForwardOnly = 1,

    /// <summary>On mutual TLS connections, append this hop's element; else remove it.</summary>
    AppendForward = 2,

    /// <summary>On mutual TLS connections, replace it with this hop's element; else remove it.</summary>
    SanitizeSet = 3,

    /// <summary>Always forward it as it came, mutual TLS or not.</summary>
    AlwaysForwardOnly = 4,
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails")]
public sealed class SetCurrentClientCertDetails : EnvoyMessage
{
    /// <summary>Add <c>Subject="…"</c>.</summary>
    [ProtoField(1)]
    public bool? Subject { get; set; }

    /// <summary>Add <c>Cert="…"</c> (the URL-encoded PEM).</summary>
    [ProtoField(3)]
    public bool Cert { get; set; }

    /// <summary>Add <c>Chain="…"</c> (the URL-encoded PEM chain).</summary>
    [ProtoField(6)]
    public bool Chain { get; set; }

    /// <summary>Add <c>DNS=</c> for each DNS SAN.</summary>
    [ProtoField(4)]
    public bool Dns { get; set; }

    /// <summary>Add <c>URI=</c> for each URI SAN (<c>URI=</c> when there is none).</summary>
    [ProtoField(5)]
    public bool Uri { get; set; }
}

/// <summary><c>HttpConnectionManager.CodecType</c>.</summary>
public enum CodecType
{
    /// <summary>HTTP/1.1 and HTTP/2.</summary>
    Auto = 0,

    /// <summary>HTTP/1.1 only.</summary>
    Http1 = 1,

    /// <summary>HTTP/2 only (prior knowledge on plain text).</summary>
    Http2 = 2,

    /// <summary>HTTP/3 (not supported).</summary>
    Http3 = 3,
}

/// <summary><c>HttpConnectionManager.ServerHeaderTransformation</c>.</summary>
public enum ServerHeaderTransformation
{
    /// <summary>Always set <c>server</c> to <c>server_name</c>.</summary>
    Overwrite = 0,

    /// <summary>Set it only when the upstream sent none.</summary>
    AppendIfAbsent = 1,

    /// <summary>Leave the upstream's header (or none) alone.</summary>
    PassThrough = 2,
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", NotSupported =
    ["config_discovery"])]
public sealed class HttpFilter : EnvoyMessage
{
    /// <summary>Filter name, e.g. <c>envoy.filters.http.router</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The filter's configuration, typed by its <c>@type</c> (which, not the name, picks the filter).</summary>
    [AnyField(EnvoyTypeCategory.HttpFilter)]
    public EnvoyMessage? TypedConfig { get; set; }

    /// <summary>When true, a filter this gateway does not know is skipped instead of rejected.</summary>
    public bool IsOptional { get; set; }

    /// <summary>When true, the filter runs only on routes that enable it (<c>FilterConfig</c> in <c>typed_per_filter_config</c>).</summary>
    public bool Disabled { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.router.v3.Router</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.router.v3.Router", NotSupported =
[
    "dynamic_stats", "strict_check_headers",
    "respect_expected_rq_timeout", "suppress_grpc_request_failure_code_stats", "upstream_http_filters",
    "reject_connect_request_early_data",
])]
public sealed class RouterFilterConfig : EnvoyMessage
{
    /// <summary>When true, the router adds no <c>x-envoy-*</c> headers.</summary>
    public bool SuppressEnvoyHeaders { get; set; }

    /// <summary>A child span of the request's span for each upstream request (<c>router &lt;cluster&gt; egress</c>).</summary>
    [ProtoField(2)]
    public bool StartChildSpan { get; set; }

    /// <summary>Access logs written when each upstream attempt ends (AccessLogType <c>UpstreamEnd</c>).</summary>
    [ProtoField(3)]
    public List<AccessLogConfig> UpstreamLog { get; set; } = [];

    /// <summary>When the upstream logs are written besides the end of each attempt.</summary>
    public UpstreamAccessLogOptions? UpstreamLogOptions { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.router.v3.Router.UpstreamAccessLogOptions</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.router.v3.Router.UpstreamAccessLogOptions")]
public sealed class UpstreamAccessLogOptions : EnvoyMessage
{
    /// <summary>Also write an entry (AccessLogType <c>UpstreamPoolReady</c>) when an attempt gets its upstream connection.</summary>
    public bool FlushUpstreamLogOnUpstreamStream { get; set; }

    /// <summary>Also write an entry (AccessLogType <c>UpstreamPeriodic</c>) every interval while an attempt is in flight (at least 1 ms).</summary>
    public TimeSpan? UpstreamLogFlushInterval { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig")]
public sealed class LocalReplyConfig : EnvoyMessage
{
    /// <summary>Tried in order; the first whose filter matches rewrites the reply.</summary>
    [ProtoField(1)]
    public List<ResponseMapper> Mappers { get; set; } = [];

    /// <summary>The body's format when no mapper overrides it (<c>%LOCAL_REPLY_BODY%</c> is the reply's own body).</summary>
    [ProtoField(2)]
    public SubstitutionFormatString? BodyFormat { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper")]
public sealed class ResponseMapper : EnvoyMessage
{
    /// <summary>Which local replies this mapper rewrites (an access log filter over the request, the reply and its stream info).</summary>
    [ProtoField(1)]
    public AccessLogFilter? Filter { get; set; }

    /// <summary>The status the reply gets instead.</summary>
    [ProtoField(2)]
    public uint? StatusCode { get; set; }

    /// <summary>The body the reply gets instead (then <c>%LOCAL_REPLY_BODY%</c>).</summary>
    [ProtoField(3)]
    public DataSource? Body { get; set; }

    /// <summary>The body's format for this mapper, instead of <see cref="LocalReplyConfig.BodyFormat"/>.</summary>
    [ProtoField(4)]
    public SubstitutionFormatString? BodyFormatOverride { get; set; }

    /// <summary>Headers added to the reply (values are formats).</summary>
    [ProtoField(5)]
    public List<HeaderValueOption> HeadersToAdd { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.SchemeHeaderTransformation</c>.</summary>
[EnvoyType("envoy.config.core.v3.SchemeHeaderTransformation", NotSupported = ["match_upstream"])]
public sealed class SchemeHeaderTransformation : EnvoyMessage
{
    /// <summary>The scheme every request gets, <c>http</c> or <c>https</c> (the one-of's only member).</summary>
    [ProtoField(1, InOneOf = true)]
    public string? SchemeToOverwrite { get; set; }
}
