using System.Text.Json.Serialization;
using Gateway.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Translation;

/// <summary>
/// What an Envoy bootstrap becomes: YARP routes and clusters for YARP to own (destinations, load
/// balancing, forwarding), plus the listener, route and cluster settings YARP has no field for.
/// Produced by <see cref="EnvoyTranslator"/>, a pure function.
/// </summary>
public sealed record GatewayPlan(
    AdminPlan? Admin,
    IReadOnlyList<ListenerPlan> Listeners,
    IReadOnlyList<RouteConfig> Routes,
    IReadOnlyList<ClusterConfig> Clusters,
    IReadOnlyList<ClusterPlan> ClusterPlans)
{
    /// <summary>The local node (<c>node.id</c>, <c>node.cluster</c>, zone) for tracers and span tags.</summary>
    internal Gateway.Tracing.LocalNode Node { get; init; } = new(string.Empty, string.Empty, string.Empty);
}

/// <summary>Where the admin API listens.</summary>
public sealed record AdminPlan(string Address, int Port)
{
    /// <summary>The admin's compiled access logs (<c>access_log</c>, then <c>access_log_path</c>); empty when none.</summary>
    internal IReadOnlyList<AccessLog.AccessLogPlan> AccessLogs { get; init; } = [];
}

/// <summary>
/// One Envoy listener: a Kestrel endpoint (speaking <paramref name="Protocols"/>, every chain's) whose connections each
/// get one of <paramref name="FilterChains"/>, chosen by its <c>filter_chain_match</c>.
/// </summary>
public sealed record ListenerPlan(
    string Name,
    string Address,
    int Port,
    HttpProtocols Protocols,
    string StatScope,
    IReadOnlyList<FilterChainPlan> FilterChains)
{
    /// <summary>The listener's <c>access_log</c>: one entry per closed downstream connection.</summary>
    internal IReadOnlyList<AccessLog.AccessLogPlan> AccessLogs { get; init; } = [];

    /// <summary>
    /// The identity of the listener's definition (compared by reference only): two plans with the same one were made
    /// from an unchanged listener, so its connections move to the rebuilt chains instead of draining.
    /// </summary>
    internal object? Definition { get; init; }

    /// <summary>True for a listener LDS gave: its Kestrel endpoint is bound and unbound while the server runs.</summary>
    internal bool FromLds { get; init; }

    /// <summary>What the listener's Kestrel endpoint is bound with (address, protocols, whether it has a TLS step): a change needs a new endpoint.</summary>
    internal string Binding => $"{Address}|{Port}|{Protocols}|{AnyTls}";

    /// <summary>The chain of a connection no chain's match takes (<c>default_filter_chain</c>); null: such a connection is closed.</summary>
    public FilterChainPlan? DefaultFilterChain { get; init; }

    /// <summary>
    /// Whether the listener runs the <c>envoy.filters.listener.tls_inspector</c> listener filter; without it a connection's
    /// transport protocol is <c>raw_buffer</c>, with no SNI or ALPN. Its one setting, <c>initial_read_buffer_size</c>, only
    /// sizes Envoy's first read (the ClientHello may take 64 KiB either way); here Kestrel's pipe sizes reads.
    /// </summary>
    internal bool TlsInspector { get; init; }

    /// <summary><c>tcp_backlog_size</c>; null: the kernel's limit (<c>net.core.somaxconn</c>), Envoy's default on Linux.</summary>
    public int? TcpBacklogSize { get; init; }

    /// <summary><c>socket_options</c> (validated): set on the listening socket before or after it is bound.</summary>
    public IReadOnlyList<SocketOptionPlan> SocketOptions { get; init; } = [];

    /// <summary><c>listener_filters_timeout</c> (15 s by default; zero: no limit).</summary>
    public TimeSpan ListenerFiltersTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary><c>continue_on_listener_filters_timeout</c>: a timed-out inspection chooses a chain with what it has.</summary>
    public bool ContinueOnListenerFiltersTimeout { get; init; }

    /// <summary>True when any chain (or the default one) terminates TLS.</summary>
    internal bool AnyTls
    {
        get
        {
            foreach (var chain in AllChains())
            {
                if (chain.Tls is not null)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Every chain, the default one last.</summary>
    public IEnumerable<FilterChainPlan> AllChains()
    {
        foreach (var chain in FilterChains)
        {
            yield return chain;
        }
        if (DefaultFilterChain is not null)
        {
            yield return DefaultFilterChain;
        }
    }
}

/// <summary>The HTTP connection manager settings of a filter chain.</summary>
public sealed record ConnectionManagerPlan(
    string StatPrefix,
    string ServerName,
    ServerHeaderTransformation ServerHeaderTransformation,
    bool GenerateRequestId,
    bool PreserveExternalRequestId,
    bool AlwaysSetRequestIdInResponse,
    bool SuppressEnvoyHeaders,
    string RouteConfigName,
    IReadOnlyList<RoutePlan> Routes)
{
    /// <summary>
    /// <c>internal_address_config.cidr_ranges</c> as <c>address/length</c>: a request whose
    /// <c>x-forwarded-for</c> holds one address in these ranges is internal.
    /// </summary>
    public IReadOnlyList<string> InternalAddressRanges { get; init; } = [];

    /// <summary><c>use_remote_address</c>: the downstream connection's address is the client's (default false: it comes from <c>x-forwarded-for</c>).</summary>
    public bool UseRemoteAddress { get; init; }

    /// <summary><c>xff_num_trusted_hops</c>: trusted proxies in front of this one that appended to <c>x-forwarded-for</c>.</summary>
    public uint XffNumTrustedHops { get; init; }

    /// <summary><c>skip_xff_append</c>: with <see cref="UseRemoteAddress"/>, leave <c>x-forwarded-for</c> as it came.</summary>
    public bool SkipXffAppend { get; init; }

    /// <summary>Envoy's default <c>common_http_protocol_options.idle_timeout</c>.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromHours(1);

    /// <summary><c>common_http_protocol_options.idle_timeout</c> (default 1 h; zero: none), Kestrel's keep-alive timeout (server-wide, agreed by validation).</summary>
    public TimeSpan IdleTimeout { get; init; } = DefaultIdleTimeout;

    /// <summary><c>common_http_protocol_options.max_headers_count</c> (default 100), Kestrel's header count limit (server-wide, agreed by validation).</summary>
    public int MaxHeadersCount { get; init; } = Listeners.DownstreamRequestValidator.MaxRequestHeadersCount;

    /// <summary><c>http2_protocol_options</c>' settings Kestrel applies to every HTTP/2 connection (server-wide, agreed by validation).</summary>
    public DownstreamHttp2Plan Http2 { get; init; } = DownstreamHttp2Plan.Default;

    /// <summary>Envoy's default <c>per_connection_buffer_limit_bytes</c>.</summary>
    public const int DefaultBufferLimit = 1024 * 1024;

    /// <summary>
    /// The listener's <c>per_connection_buffer_limit_bytes</c> (default 1 MiB; 0: none): how much of a stream's body the
    /// filters that buffer it, a retry's replay and a mirror's copy may keep, as Envoy's decoder and encoder buffer limits.
    /// </summary>
    public int BufferLimit { get; init; } = DefaultBufferLimit;

    /// <summary><c>original_ip_detection_extensions</c>, in order; null: the client's address comes from <c>x-forwarded-for</c> with <see cref="XffNumTrustedHops"/>.</summary>
    public IReadOnlyList<OriginalIpDetectionPlan>? OriginalIpDetection { get; init; }

    /// <summary><c>http_protocol_options.accept_http_10</c>: HTTP/1.0 requests are served (else Envoy's 426).</summary>
    public bool AcceptHttp10 { get; init; }

    /// <summary><c>http_protocol_options.default_host_for_http_10</c>: the Host of an HTTP/1.0 request without one; null: such a request gets 400.</summary>
    public string? DefaultHostForHttp10 { get; init; }

    /// <summary><c>http_protocol_options.allow_chunked_length</c>: chunked framing wins over a <c>content-length</c> sent with it.</summary>
    public bool AllowChunkedLength { get; init; }

    /// <summary><c>http_protocol_options.header_key_format.proper_case_words</c>: HTTP/1 response header names in Proper-Case.</summary>
    public bool ProperCaseHeaders { get; init; }

    /// <summary><c>http2_protocol_options.allow_connect</c>: an RFC 8441 extended CONNECT (WebSocket over HTTP/2) is accepted; otherwise its stream is reset.</summary>
    public bool AllowExtendedConnect { get; init; }

    /// <summary><c>common_http_protocol_options.max_connection_duration</c>: a connection drains this long after it opened; null: never.</summary>
    public TimeSpan? MaxConnectionDuration { get; init; }

    /// <summary><c>common_http_protocol_options.max_requests_per_connection</c>: the connection closes after this many requests; 0: no limit.</summary>
    public uint MaxRequestsPerConnection { get; init; }

    /// <summary><c>common_http_protocol_options.max_stream_duration</c>: every stream's limit unless its route sets one; null: none.</summary>
    public TimeSpan? MaxStreamDuration { get; init; }

    /// <summary><c>common_http_protocol_options.headers_with_underscores_action</c>: what a request header name with '_' gets.</summary>
    public Configuration.HeadersWithUnderscoresAction HeadersWithUnderscores { get; init; }

    /// <summary><c>scheme_header_transformation.scheme_to_overwrite</c>: the <c>:scheme</c> and <c>x-forwarded-proto</c> of every request; null: as they came.</summary>
    public string? SchemeToOverwrite { get; init; }

    /// <summary><c>append_x_forwarded_port</c>: <c>x-forwarded-port</c> is the listener's port unless a trusted hop set one.</summary>
    public bool AppendXForwardedPort { get; init; }

    /// <summary><c>add_user_agent</c>: the downstream service cluster and node headers (the node from the bootstrap, bound at build).</summary>
    public bool AddUserAgent { get; init; }

    /// <summary><c>proxy_100_continue</c>: <c>Expect: 100-continue</c> is forwarded and the upstream's 100 reaches the client.</summary>
    public bool Proxy100Continue { get; init; }

    /// <summary><c>local_reply_config</c>, compiled; null: local replies are sent as made.</summary>
    internal Listeners.LocalReplyRewriter? LocalReply { get; init; }

    /// <summary><c>forward_client_cert_details</c>: what happens to <c>x-forwarded-client-cert</c>.</summary>
    internal ForwardClientCertDetails ForwardClientCert { get; init; }

    /// <summary><c>set_current_client_cert_details</c>: what this hop's <c>x-forwarded-client-cert</c> element holds.</summary>
    internal Gateway.Tls.ClientCertDetails ClientCertDetails { get; init; }

    /// <summary><c>via</c>, appended to the <c>via</c> of requests and responses; empty for none.</summary>
    public string Via { get; init; } = string.Empty;

    /// <summary>The UUID request id extension's <c>pack_trace_reason</c> (default true).</summary>
    public bool PackTraceReason { get; init; } = true;

    /// <summary>The UUID request id extension's <c>use_request_id_for_trace_sampling</c> (default true).</summary>
    public bool UseRequestIdForTraceSampling { get; init; } = true;


    /// <summary>
    /// False when <c>http_filters</c> is empty: no filter (not even the router) answers a request, so it
    /// waits for the stream idle timeout as in Envoy.
    /// </summary>
    public bool HasRouter { get; init; } = true;

    /// <summary><c>normalize_path</c> (default false): RFC 3986 normalization of the path before routing.</summary>
    public bool NormalizePath { get; init; }

    /// <summary><c>merge_slashes</c>: adjacent slashes collapsed before routing.</summary>
    public bool MergeSlashes { get; init; }

    /// <summary><c>strip_trailing_host_dot</c>.</summary>
    internal bool StripTrailingHostDot { get; init; }

    /// <summary><c>strip_matching_host_port</c> / <c>strip_any_host_port</c>.</summary>
    internal Listeners.StripPortMode StripPort { get; init; }

    /// <summary><c>path_with_escaped_slashes_action</c>, never <c>IMPLEMENTATION_SPECIFIC_DEFAULT</c> (that is <c>KEEP_UNCHANGED</c>).</summary>
    public PathWithEscapedSlashesAction PathWithEscapedSlashesAction { get; init; } = PathWithEscapedSlashesAction.KeepUnchanged;

    /// <summary>
    /// Whether request and response body bytes are counted into the stream info (<c>%BYTES_RECEIVED%</c>, <c>%BYTES_SENT%</c>,
    /// the span's <c>request_size</c>/<c>response_size</c>): only when an access log reads them, as counting wraps both
    /// bodies (the connection manager also counts the requests whose span is sampled). Derived from the access logs, so not part of the golden plan files.
    /// </summary>
    [JsonIgnore]
    public bool CountsBodyBytes { get; init; }

    /// <summary>Envoy's default <c>stream_idle_timeout</c> (5 minutes).</summary>
    public static readonly TimeSpan DefaultStreamIdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary><c>stream_idle_timeout</c>: a stream's idle limit unless its route sets <c>idle_timeout</c>; zero: none.</summary>
    public TimeSpan StreamIdleTimeout { get; init; } = DefaultStreamIdleTimeout;

    /// <summary><c>request_timeout</c>: how long the whole request may take to arrive; zero: no limit.</summary>
    public TimeSpan RequestTimeout { get; init; }

    /// <summary><c>request_headers_timeout</c>: how long the headers may take from their first byte (Kestrel's, server-wide); zero: no limit.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; }

    /// <summary>Envoy's default <c>delayed_close_timeout</c>.</summary>
    public static readonly TimeSpan DefaultDelayedCloseTimeout = TimeSpan.FromSeconds(1);

    /// <summary><c>delayed_close_timeout</c>: how long a connection the gateway closes waits for the client's FIN; zero: closed at once.</summary>
    public TimeSpan DelayedCloseTimeout { get; init; } = DefaultDelayedCloseTimeout;

    /// <summary>Envoy's default <c>drain_timeout</c>.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary><c>drain_timeout</c>: how long a connection that reached <c>max_connection_duration</c> drains before it is closed.</summary>
    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    /// <summary>Envoy's default <c>max_request_headers_kb</c>.</summary>
    public const uint DefaultMaxRequestHeadersKb = 60;

    /// <summary><c>max_request_headers_kb</c> in bytes (default 60 KiB): the request URL plus every header name and value.</summary>
    public int MaxRequestHeadersBytes { get; init; } = (int)DefaultMaxRequestHeadersKb * 1024;

    /// <summary>The route table as configured; compiled into a matcher by the runtime.</summary>
    [JsonIgnore]
    public RouteConfiguration RouteConfig { get; init; } = new();

    /// <summary>The HTTP filters before the router, in <c>http_filters</c> order (the router, always last, is implied by <see cref="HasRouter"/>).</summary>
    public IReadOnlyList<HttpFilterPlan> HttpFilters { get; init; } = [];

    /// <summary><c>upgrade_configs</c>: the upgrade types proxied by default; null when none (every upgrade is refused with 403 unless a route allows it).</summary>
    public IReadOnlyList<UpgradePlan>? Upgrades { get; init; }

    /// <summary>The route configuration's <c>metadata</c>, frozen; null when it has none.</summary>
    public EnvoyMetadata? RouteConfigMetadata { get; init; }

    /// <summary>The route configuration's <c>internal_only_headers</c>, lower-cased: removed from requests that are not internal.</summary>
    [JsonIgnore]
    internal IReadOnlyList<string> InternalOnlyHeaders { get; init; } = [];

    /// <summary>The compiled <c>tracing</c>, or null when the connection manager does not trace.</summary>
    [JsonIgnore]
    internal Gateway.Tracing.ConnectionManagerTracingPlan? Tracing { get; init; }

    /// <summary>The router's <c>start_child_span</c>.</summary>
    [JsonIgnore]
    internal bool StartChildSpan { get; init; }

    /// <summary>The compiled <c>access_log</c> entries (empty when none).</summary>
    internal IReadOnlyList<AccessLog.AccessLogPlan> AccessLogs { get; init; } = [];

    /// <summary><c>access_log_options.flush_access_log_on_new_request</c> (or its deprecated twin), with access logs to write.</summary>
    internal bool FlushAccessLogOnNewRequest { get; init; }

    /// <summary><c>access_log_options.flush_log_on_tunnel_successfully_established</c>, with access logs to write.</summary>
    internal bool FlushLogOnTunnelEstablished { get; init; }

    /// <summary>The router's compiled <c>upstream_log</c> entries (empty when none).</summary>
    internal IReadOnlyList<AccessLog.AccessLogPlan> UpstreamLogs { get; init; } = [];

    /// <summary>
    /// <c>access_log_options.access_log_flush_interval</c> (or its deprecated twin) in whole milliseconds, as Envoy keeps it,
    /// with access logs to write; null otherwise (no periodic entries, no timer).
    /// </summary>
    internal TimeSpan? AccessLogFlushInterval { get; init; }

    /// <summary>The router's <c>upstream_log_options.upstream_log_flush_interval</c> in whole milliseconds, with upstream logs to write; else null.</summary>
    internal TimeSpan? UpstreamLogFlushInterval { get; init; }

    /// <summary>The router's <c>upstream_log_options.flush_upstream_log_on_upstream_stream</c>, with upstream logs to write.</summary>
    internal bool FlushUpstreamLogOnUpstreamStream { get; init; }

    /// <summary>Whether a stream needs the periodic entries' timers (<see cref="AccessLog.PeriodicAccessLog"/>).</summary>
    internal bool HasPeriodicLogs => AccessLogFlushInterval is not null || UpstreamLogFlushInterval is not null;
}

/// <summary>One HTTP filter of a connection manager's chain, before it is compiled for the listener.</summary>
/// <param name="Name">The <c>name</c> in <c>http_filters</c> (the key of <c>typed_per_filter_config</c>).</param>
/// <param name="Extension">The factory's extension name, e.g. <c>envoy.filters.http.cors</c>.</param>
/// <param name="Disabled">Off unless a route enables it.</param>
public sealed record HttpFilterPlan(string Name, string Extension, bool Disabled)
{
    /// <summary>The factory that compiles <see cref="Config"/>.</summary>
    [JsonIgnore]
    public Filters.IHttpFilterFactory Factory { get; init; } = null!;

    /// <summary>The validated configuration.</summary>
    [JsonIgnore]
    public EnvoyMessage Config { get; init; } = null!;
}

/// <summary>One filter's state on one route: the most specific enable/disable and per-route configuration.</summary>
/// <param name="Disabled">The most specific <c>FilterConfig.disabled</c> (a plain configuration counts as enabled), or null for the filter's default.</param>
/// <param name="ConfigType">The per-route configuration's model type (for plans printed in tests).</param>
public sealed record PerFilterConfigPlan(bool? Disabled, string? ConfigType)
{
    /// <summary>The most specific per-route configuration, or null.</summary>
    [JsonIgnore]
    public EnvoyMessage? Config { get; init; }

    /// <summary>
    /// Every level's per-route configuration, most specific first (route, virtual host, route configuration; Envoy's
    /// getAllPerFilterConfig, reversed as its CORS filter reads it); empty when none. <see cref="Config"/> is the first.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<EnvoyMessage> Configs { get; init; } = [];
}

/// <summary>What one Envoy route does once it matched.</summary>
public sealed record RoutePlan(
    string VirtualHost,
    int RouteIndex,
    string? RouteName,
    string? Cluster,
    TimeSpan Timeout,
    HostRewriteMode HostRewrite,
    string? HostRewriteLiteral,
    string? PrefixRewrite,
    DirectResponsePlan? DirectResponse,
    RetryPlan? Retry,
    Configuration.RoutingPriority Priority = Configuration.RoutingPriority.Default)
{
    /// <summary>The route as configured (the key the runtime attaches this plan to).</summary>
    [JsonIgnore]
    public Route? Source { get; init; }

    /// <summary>The virtual host's <c>include_request_attempt_count</c>: <c>x-envoy-attempt-count</c> towards the upstream.</summary>
    public bool IncludeRequestAttemptCount { get; init; }

    /// <summary>The virtual host's <c>include_attempt_count_in_response</c>: <c>x-envoy-attempt-count</c> towards the client.</summary>
    public bool IncludeAttemptCountInResponse { get; init; }

    /// <summary>Per filter of the chain (same positions as <see cref="ConnectionManagerPlan.HttpFilters"/>), its state on this route; null when no per-route configuration applies.</summary>
    public IReadOnlyList<PerFilterConfigPlan>? FilterConfigs { get; init; }

    /// <summary>The route's <c>metadata</c>, frozen; null when it has none.</summary>
    public EnvoyMetadata? Metadata { get; init; }

    /// <summary>The route action's <c>upgrade_configs</c>, overriding the connection manager's per type; null when it has none.</summary>
    public IReadOnlyList<UpgradePlan>? Upgrades { get; init; }

    /// <summary>The virtual host's <c>metadata</c> (one instance shared by its routes); null when it has none.</summary>
    public EnvoyMetadata? VirtualHostMetadata { get; init; }

    /// <summary>The route's <c>idle_timeout</c> (the stream idle timeout on this route); null: the connection manager's <c>stream_idle_timeout</c>; zero: none.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>The route's <c>max_stream_duration</c>, or null when it has none (then <see cref="RoutePlan.Timeout"/> applies).</summary>
    public StreamDurationPlan? StreamDuration { get; init; }

    /// <summary>The route's <c>stat_prefix</c>: its stats go under <c>vhost.&lt;vh&gt;.route.&lt;prefix&gt;.</c>; null when empty.</summary>
    public string? StatPrefix { get; init; }

    /// <summary>The route's decorator and <c>tracing</c>, compiled; null when it has neither.</summary>
    [JsonIgnore]
    internal Gateway.Tracing.RouteTracingPlan? Tracing { get; init; }

    /// <summary>
    /// The mirror policies in force: the route action's, else its virtual host's, else the route configuration's
    /// (Envoy takes the most specific non-empty list, never merging); null when there are none.
    /// </summary>
    public IReadOnlyList<MirrorPolicyPlan>? Mirrors { get; init; }

    /// <summary>The route's <c>hash_policy</c> entries, in order; null when it has none.</summary>
    public IReadOnlyList<HashPolicyPlan>? HashPolicies { get; init; }

    /// <summary>The request header naming the cluster (<c>cluster_header</c>); null when the route names it otherwise.</summary>
    public string? ClusterHeader { get; init; }

    /// <summary>The <c>weighted_clusters</c>; null when the route names its cluster otherwise.</summary>
    public WeightedClustersPlan? WeightedClusters { get; init; }

    /// <summary>The status of the reply when the named cluster does not exist (<c>cluster_not_found_response_code</c>); null for a fixed <c>cluster</c>, which always exists.</summary>
    public int? ClusterNotFoundStatus { get; init; }

    /// <summary>The header mutations of the route, its virtual host and route configuration; null when no level has any.</summary>
    [JsonIgnore]
    internal Gateway.Routing.HeaderMutationPlan? Headers { get; init; }

    /// <summary>The request header whose first value becomes the Host (<see cref="HostRewriteMode.Header"/>).</summary>
    public string? HostRewriteHeader { get; init; }

    /// <summary>The path rewrite that becomes the Host (<see cref="HostRewriteMode.PathRegex"/>).</summary>
    public RegexRewritePlan? HostRewritePathRegex { get; init; }

    /// <summary><c>append_x_forwarded_host</c>: a rewritten Host's old value is appended to <c>x-forwarded-host</c>.</summary>
    public bool AppendXForwardedHost { get; init; }

    /// <summary>The route action's <c>regex_rewrite</c>; null when it has none.</summary>
    public RegexRewritePlan? RegexRewrite { get; init; }

    /// <summary>
    /// The route action's <c>path_rewrite_policy</c> (<c>path_template_rewrite</c>) and the match's <c>path_template</c> whose
    /// variables it uses; null when it has none.
    /// </summary>
    public PathTemplateRewritePlan? PathTemplateRewrite { get; init; }

    /// <summary>The route's <c>redirect</c> (then <see cref="DirectResponse"/> is its status with no body); null when it has none.</summary>
    public RedirectPlan? Redirect { get; init; }

    /// <summary>The route's subset criteria (<c>metadata_match</c>, <c>envoy.lb</c>); null when it has none.</summary>
    [JsonIgnore]
    internal Clusters.LoadBalancing.SubsetCriteria? MetadataMatch { get; init; }
}

/// <summary><c>weighted_clusters</c>: the entries in order, and the header carrying the pick's random value (null: the stream's).</summary>
public sealed record WeightedClustersPlan(IReadOnlyList<WeightedClusterPlan> Clusters, string? RandomValueHeader)
{
    /// <summary><c>use_hash_policy</c>: the route's <c>hash_policy</c> hash, when it yields one, picks the entry instead of the random value.</summary>
    public bool UseHashPolicy { get; init; }
}

/// <summary>
/// One <c>weighted_clusters.clusters</c> entry (Envoy's WeightedClustersConfigEntry): its cluster by <see cref="Name"/>
/// or, per request, by the first value of <see cref="ClusterHeader"/>, its weight, and what it adds to the route.
/// </summary>
public sealed record WeightedClusterPlan(string? Name, uint Weight)
{
    /// <summary>The request header naming the entry's cluster (<c>cluster_header</c>); null when it has a <see cref="Name"/>.</summary>
    public string? ClusterHeader { get; init; }

    /// <summary>The entry's <c>host_rewrite_literal</c>; null when it has none.</summary>
    public string? HostRewriteLiteral { get; init; }

    /// <summary>
    /// Per filter of the chain, its state with the entry's <c>typed_per_filter_config</c> as the most specific level (then the
    /// route's, virtual host's, route configuration's); null when the entry configures no filter (the route's states apply).
    /// </summary>
    public IReadOnlyList<PerFilterConfigPlan>? FilterConfigs { get; init; }

    /// <summary>The entry, when it has header mutations (compiled with the listener, as the route's are); null otherwise.</summary>
    [JsonIgnore]
    internal Configuration.ClusterWeight? HeaderSource { get; init; }

    /// <summary>The entry's subset criteria (its <c>metadata_match</c> over the route's); null when there are none.</summary>
    [JsonIgnore]
    internal Clusters.LoadBalancing.SubsetCriteria? MetadataMatch { get; init; }
}

/// <summary>
/// A route's <c>redirect</c> as Envoy's Utility::RedirectConfig holds it: the scheme (null: the request's), host (null: the
/// request's), port as <c>:N</c> (null: none), the path (null: the request's, after <see cref="PrefixRewrite"/>) and whether it
/// carries its own query, and <c>strip_query</c>.
/// </summary>
public sealed record RedirectPlan(string? Scheme, string? Host, string? Port, string? Path, bool PathHasQuery, string? PrefixRewrite, bool StripQuery)
{
    /// <summary>The redirect's <c>regex_rewrite</c> of the request's path; null when it has none.</summary>
    public RegexRewritePlan? RegexRewrite { get; init; }
}

/// <summary>A <c>path_rewrite_policy</c>: the new path made from <paramref name="Rewrite"/> and the variables <paramref name="MatchTemplate"/> captured.</summary>
public sealed record PathTemplateRewritePlan(string MatchTemplate, string Rewrite);

/// <summary>A <c>regex_rewrite</c>: every match of the RE2 pattern in the path (before <c>?</c>) replaced by the substitution.</summary>
public sealed record RegexRewritePlan(string Pattern, string Substitution);

/// <summary>
/// One <c>request_mirror_policies</c> entry: the shadow cluster (by name, or the request header naming it), the fraction of
/// requests shadowed (<c>runtime_fraction.default_value</c>; all when absent), the shadow span's sampling (null: the
/// request's) and whether Host keeps its value instead of getting <c>-shadow</c>.
/// </summary>
public sealed record MirrorPolicyPlan(string? Cluster, string? ClusterHeader, uint Numerator, Configuration.DenominatorType Denominator, bool? TraceSampled, bool DisableShadowHostSuffixAppend);

/// <summary>How the Host header is rewritten towards the upstream.</summary>
public enum HostRewriteMode
{
    /// <summary>Keep the client's Host (Envoy's default).</summary>
    None,

    /// <summary><c>auto_host_rewrite</c>: the chosen endpoint's host name.</summary>
    Auto,

    /// <summary><c>host_rewrite_literal</c>.</summary>
    Literal,

    /// <summary><c>host_rewrite_header</c>: the first value of a request header, when it has a non-empty one.</summary>
    Header,

    /// <summary><c>host_rewrite_path_regex</c>: the path (without its query) with the pattern's matches replaced.</summary>
    PathRegex,
}

/// <summary>
/// A route's <c>max_stream_duration</c> (Envoy's ActiveStream::refreshDurationTimeout): the limit (zero: none) and, when
/// <see cref="GrpcTimeoutHeaderMax"/> is set, the <c>grpc-timeout</c> header as the limit, capped (zero: no cap) and
/// lessened by the offset.
/// </summary>
public sealed record StreamDurationPlan(TimeSpan? MaxStreamDuration, TimeSpan? GrpcTimeoutHeaderMax, TimeSpan? GrpcTimeoutHeaderOffset);

/// <summary>A fixed response; the body is the exact bytes of the data source.</summary>
public sealed record DirectResponsePlan(int Status, byte[] Body);

/// <summary>Cluster settings YARP has no field for.</summary>
public sealed record ClusterPlan(
    string Name,
    DiscoveryType Type,
    LbPolicy LbPolicy,
    TimeSpan ConnectTimeout,
    DnsLookupFamily DnsLookupFamily,
    TimeSpan DnsRefreshRate,
    IReadOnlyList<EndpointPlan> Endpoints)
{
    /// <summary>Circuit-breaker thresholds, [0] DEFAULT and [1] HIGH (Envoy's defaults where not configured).</summary>
    public IReadOnlyList<ThresholdsPlan> Thresholds { get; init; } = [ThresholdsPlan.Defaults, ThresholdsPlan.Defaults];

    /// <summary>Envoy's default <c>common_lb_config.healthy_panic_threshold</c>, in percent.</summary>
    public const double DefaultHealthyPanicThreshold = 50;

    /// <summary>Below this percentage of healthy hosts the load balancer uses all hosts (0 disables panic mode).</summary>
    public double HealthyPanicThreshold { get; init; } = DefaultHealthyPanicThreshold;

    /// <summary>
    /// <c>common_lb_config.ignore_new_hosts_until_first_hc</c>: a host that joins after the health checker's first membership
    /// is excluded (Envoy's excluded hosts: out of the panic and priority denominators) while its first check is pending.
    /// </summary>
    public bool IgnoreNewHostsUntilFirstHc { get; init; }

    /// <summary>Envoy's default <c>overprovisioning_factor</c> (percent).</summary>
    public const uint DefaultOverprovisioningFactor = 140;

    /// <summary><c>load_assignment.policy.overprovisioning_factor</c>: how much a priority's or locality's healthy share is scaled.</summary>
    public uint OverprovisioningFactor { get; init; } = DefaultOverprovisioningFactor;

    /// <summary><c>locality_weighted_lb_config</c> (common, or the typed policy's <c>locality_lb_config</c>) is set: a locality is chosen by weight before a host.</summary>
    public bool LocalityWeighted { get; init; }

    /// <summary><c>load_assignment.policy.weighted_priority_health</c>: a priority's health is its healthy hosts' share of its weight.</summary>
    public bool WeightedPriorityHealth { get; init; }

    /// <summary>
    /// <c>load_assignment.policy.drop_overloads</c> (its one category): the share of requests, in [0, 1], the router drops
    /// before host selection (0: none).
    /// </summary>
    public double DropOverload { get; init; }

    /// <summary>The category of <see cref="DropOverload"/>; null when the cluster drops nothing.</summary>
    public string? DropCategory { get; init; }

    /// <summary><c>zone_aware_lb_config</c> (common, or the typed policy's <c>locality_lb_config</c>) with defaults applied; null when not set.</summary>
    public ZoneAwarePlan? ZoneAware { get; init; }

    /// <summary>
    /// <c>cluster_manager.local_cluster_name</c> when this cluster routes by zone against it (ROUND_ROBIN, LEAST_REQUEST,
    /// RANDOM; not the local cluster itself, as in Envoy, where its load balancer exists before the local priority set).
    /// </summary>
    public string? LocalCluster { get; init; }

    /// <summary><c>node.locality</c> (the local zone) when <see cref="LocalCluster"/> is set and the node has a locality.</summary>
    public LocalityPlan? NodeLocality { get; init; }

    /// <summary>Outlier detection with Envoy's defaults filled in; null when the cluster has none.</summary>
    public OutlierDetectionPlan? OutlierDetection { get; init; }

    /// <summary>The cluster's active health check (HTTP or TCP), or null when it has none.</summary>
    public HealthCheckPlan? HealthCheck { get; init; }

    /// <summary>The cluster's transport sockets (TLS) and what picks them; null when every endpoint is plain text.</summary>
    internal UpstreamTransportPlan? Transport { get; init; }

    /// <summary>The upstream HTTP version and connection pool settings (<c>typed_extension_protocol_options</c>).</summary>
    internal UpstreamProtocolPlan Protocol { get; init; } = UpstreamProtocolPlan.Default;

    /// <summary>The cluster's <c>metadata</c>, frozen; null when it has none.</summary>
    public EnvoyMetadata? Metadata { get; init; }

    /// <summary>RING_HASH or MAGLEV settings with Envoy's defaults; null for the other policies.</summary>
    public HashLbPlan? HashLb { get; init; }

    /// <summary>LEAST_REQUEST settings with Envoy's defaults (used only by that policy).</summary>
    public LeastRequestPlan LeastRequest { get; init; } = LeastRequestPlan.Defaults;

    /// <summary>The subset load balancer (<c>lb_subset_config</c> with selectors); null when it is off.</summary>
    public SubsetLbPlan? Subset { get; init; }

    /// <summary>ROUND_ROBIN's or LEAST_REQUEST's slow start; null when not configured or its window is 0 (disabled).</summary>
    public SlowStartPlan? SlowStart { get; init; }
}

/// <summary><c>least_request_lb_config</c>: <c>choice_count</c> (default 2) and <c>active_request_bias</c> (default 1.0).</summary>
public sealed record LeastRequestPlan(int ChoiceCount, double ActiveRequestBias)
{
    /// <summary>The typed policy's <c>selection_method: FULL_SCAN</c>: equal weights compare every host, not <see cref="ChoiceCount"/> random ones.</summary>
    public bool FullScan { get; init; }

    /// <summary>Envoy's defaults.</summary>
    public static readonly LeastRequestPlan Defaults = new(2, 1.0);
}

/// <summary>
/// One active health check with Envoy's defaults applied: <c>reuse_connection</c> true,
/// <c>no_traffic_interval</c> 60 s, <c>no_traffic_healthy_interval</c> = no_traffic_interval,
/// <c>unhealthy_interval</c> = interval, <c>unhealthy_edge_interval</c> = unhealthy_interval,
/// <c>healthy_edge_interval</c> = interval. An HTTP check (<see cref="Tcp"/> null) uses <see cref="Host"/>
/// (default the cluster name), <see cref="Path"/>, <see cref="Method"/> (default GET), the header and status
/// fields (expected statuses default [200, 201)); a TCP check uses <see cref="Tcp"/> and ignores them.
/// </summary>
public sealed record HealthCheckPlan(
    TimeSpan Timeout,
    TimeSpan Interval,
    int UnhealthyThreshold,
    int HealthyThreshold,
    string Host,
    string Path,
    string Method)
{
    /// <summary>Envoy's default <c>no_traffic_interval</c>.</summary>
    public static readonly TimeSpan DefaultNoTrafficInterval = TimeSpan.FromSeconds(60);

    public TimeSpan InitialJitter { get; init; }

    public TimeSpan IntervalJitter { get; init; }

    public int IntervalJitterPercent { get; init; }

    public bool ReuseConnection { get; init; } = true;

    public TimeSpan NoTrafficInterval { get; init; } = DefaultNoTrafficInterval;

    public TimeSpan NoTrafficHealthyInterval { get; init; } = DefaultNoTrafficInterval;

    public TimeSpan UnhealthyInterval { get; init; }

    public TimeSpan UnhealthyEdgeInterval { get; init; }

    public TimeSpan HealthyEdgeInterval { get; init; }

    /// <summary>Request headers removed (lower-case names).</summary>
    public IReadOnlyList<string> RequestHeadersToRemove { get; init; } = [];

    /// <summary>Half-open [start, end) ranges of passing statuses.</summary>
    public IReadOnlyList<StatusRange> ExpectedStatuses { get; init; } = [new(200, 201)];

    /// <summary>Half-open ranges of failing statuses that count towards the unhealthy threshold.</summary>
    public IReadOnlyList<StatusRange> RetriableStatuses { get; init; } = [];

    /// <summary>The TCP check (<c>tcp_health_check</c>); null for an HTTP check.</summary>
    public TcpHealthCheckPlan? Tcp { get; init; }

    /// <summary>
    /// The transport socket <c>transport_socket_match_criteria</c> picked (an index in <see cref="UpstreamTransportPlan.Sockets"/>);
    /// null: each host's own.
    /// </summary>
    internal int? TransportSocket { get; init; }

    /// <summary>Which kind of check this is.</summary>
    public HealthCheckKind Kind => Tcp is null ? HealthCheckKind.Http : HealthCheckKind.Tcp;
}

/// <summary>The kind of an active health check.</summary>
public enum HealthCheckKind
{
    /// <summary><c>http_health_check</c>.</summary>
    Http,

    /// <summary><c>tcp_health_check</c>.</summary>
    Tcp,
}

/// <summary>
/// A TCP health check: connect, write <see cref="Send"/>, pass once the received bytes contain every
/// <see cref="Receive"/> block in order. No receive blocks: connect-only (passes once connected; the
/// connection is closed and nothing is sent, as in Envoy).
/// </summary>
public sealed record TcpHealthCheckPlan(byte[] Send, IReadOnlyList<byte[]> Receive)
{
    /// <summary>True when the check only connects.</summary>
    public bool ConnectOnly => Receive.Count == 0;

    /// <summary>Structural equality (the record's arrays compare by reference).</summary>
    public bool SameAs(TcpHealthCheckPlan other)
        => Send.AsSpan().SequenceEqual(other.Send)
            && Receive.Count == other.Receive.Count
            && Receive.Zip(other.Receive).All(p => p.First.AsSpan().SequenceEqual(p.Second));
}

/// <summary>A half-open range of HTTP statuses, [Start, End).</summary>
public sealed record StatusRange(int Start, int End)
{
    /// <summary>True when <paramref name="status"/> is in one of <paramref name="ranges"/>.</summary>
    public static bool Contains(IReadOnlyList<StatusRange> ranges, int status)
    {
        foreach (var range in ranges)
        {
            if (status >= range.Start && status < range.End)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// One priority's circuit-breaker limits. With a <see cref="RetryBudget"/> the retry limit is the budget,
/// not <see cref="MaxRetries"/> (which then only drives the <c>rq_retry_open</c> gauge, as in Envoy).
/// </summary>
public sealed record ThresholdsPlan(int MaxConnections, int MaxPendingRequests, int MaxRequests, int MaxRetries, bool TrackRemaining, RetryBudgetPlan? RetryBudget = null)
{
    /// <summary>Envoy's defaults: 1024 / 1024 / 1024 / 3.</summary>
    public static ThresholdsPlan Defaults { get; } = new(1024, 1024, 1024, 3, false);

    /// <summary>
    /// The connection pool's limit per host: <see cref="MaxConnections"/>, but at least 1. Envoy's pool opens a
    /// connection to a host that has none even at the limit (ConnPoolImplBase::tryCreateNewConnection, counting
    /// <c>upstream_cx_overflow</c>), so <c>max_connections: 0</c> still serves requests over one connection.
    /// </summary>
    public int MaxConnectionsPerHost() => Math.Max(1, MaxConnections);

    /// <summary>The retry limit while <paramref name="activeRequests"/> requests are active or pending: the budget's, else <see cref="MaxRetries"/>.</summary>
    public long RetryLimit(long activeRequests) => RetryBudget is { } budget ? budget.Limit(activeRequests) : MaxRetries;
}

/// <summary>
/// <c>Thresholds.retry_budget</c> with Envoy's defaults applied (<c>budget_percent</c> 20,
/// <c>min_retry_concurrency</c> 3): concurrent retries may be <see cref="BudgetPercent"/> percent of the
/// active plus pending requests, never fewer than <see cref="MinRetryConcurrency"/>.
/// </summary>
public sealed record RetryBudgetPlan(double BudgetPercent, long MinRetryConcurrency)
{
    /// <summary>Envoy's default <c>budget_percent</c>.</summary>
    public const double DefaultBudgetPercent = 20;

    /// <summary>Envoy's default <c>min_retry_concurrency</c>.</summary>
    public const long DefaultMinRetryConcurrency = 3;

    /// <summary>
    /// The concurrent retries allowed while <paramref name="activeRequests"/> requests are active or pending
    /// (RetryBudgetImpl::max): <c>max(min_retry_concurrency, ⌊budget_percent / 100 × active⌋)</c>.
    /// </summary>
    public long Limit(long activeRequests)
    {
        // The same arithmetic as Envoy (percent / 100.0 * count, truncated) so edge values round alike.
        var budget = (long)(BudgetPercent / 100.0 * Math.Max(0, activeRequests));
        return Math.Max(budget, MinRetryConcurrency);
    }
}

/// <summary>One configured endpoint (before DNS resolution).</summary>
public sealed record EndpointPlan(string Address, int Port, string? Hostname)
{
    /// <summary>The <c>lb_endpoint</c>'s <c>metadata</c>, frozen (every host resolved from the endpoint carries it); null when it has none.</summary>
    public EnvoyMetadata? Metadata { get; init; }

    /// <summary>The <c>lb_endpoint</c>'s <c>load_balancing_weight</c> (1 when not set); every host resolved from the endpoint has it.</summary>
    public uint Weight { get; init; } = 1;

    /// <summary>The priority level of the endpoint's <c>locality_lb_endpoints</c> (0 the highest).</summary>
    public int Priority { get; init; }

    /// <summary>The endpoint's <c>locality</c>; <see cref="LocalityPlan.None"/> when it has none.</summary>
    public LocalityPlan Locality { get; init; } = LocalityPlan.None;

    /// <summary>The locality's <c>load_balancing_weight</c>; 0 when not set (no traffic under locality-weighted balancing, as in Envoy).</summary>
    public uint LocalityWeight { get; init; }

    /// <summary>The endpoint's <c>health_status</c> as the load balancer reads it.</summary>
    public EndpointHealth Health { get; init; }

    /// <summary>The index of the endpoint's transport socket in <see cref="UpstreamTransportPlan.Sockets"/> (0: the cluster's).</summary>
    internal int TransportSocket { get; init; }
}

/// <summary><c>envoy.config.core.v3.Locality</c> of an endpoint (empty strings when not set); compared by value.</summary>
public sealed record LocalityPlan(string Region, string Zone, string SubZone)
{
    /// <summary>No locality.</summary>
    public static readonly LocalityPlan None = new(string.Empty, string.Empty, string.Empty);

    /// <summary>True when region, zone and sub-zone are all empty.</summary>
    [JsonIgnore]
    public bool IsEmpty => Region.Length == 0 && Zone.Length == 0 && SubZone.Length == 0;

    /// <summary>Envoy's LocalityLess: by region, then zone, then sub-zone.</summary>
    public static int Compare(LocalityPlan x, LocalityPlan y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var byRegion = string.CompareOrdinal(x.Region, y.Region);
        if (byRegion != 0)
        {
            return byRegion;
        }
        var byZone = string.CompareOrdinal(x.Zone, y.Zone);
        return byZone != 0 ? byZone : string.CompareOrdinal(x.SubZone, y.SubZone);
    }
}

/// <summary>An endpoint's configured <c>health_status</c>, as Envoy's load balancer sees it.</summary>
public enum EndpointHealth
{
    /// <summary>HEALTHY or UNKNOWN.</summary>
    Healthy,

    /// <summary>UNHEALTHY, DRAINING or TIMEOUT (Envoy's <c>FAILED_EDS_HEALTH</c>).</summary>
    Unhealthy,

    /// <summary>DEGRADED (Envoy's <c>DEGRADED_EDS_HEALTH</c>).</summary>
    Degraded,
}

/// <summary>One of a connection manager's <c>original_ip_detection_extensions</c>.</summary>
/// <param name="HeaderName">The custom header (<c>envoy.http.original_ip_detection.custom_header</c>, lower-cased); null for <c>.xff</c>.</param>
/// <param name="AllowExtensionToSetAddressAsTrusted">The custom header's address may make the request internal.</param>
/// <param name="RejectWithStatus">The custom header's rejection status when it finds no address; null: go on.</param>
/// <param name="XffNumTrustedHops">The xff extension's trusted hops.</param>
public sealed record OriginalIpDetectionPlan(string? HeaderName, bool AllowExtensionToSetAddressAsTrusted, int? RejectWithStatus, uint XffNumTrustedHops);

/// <summary>One of a listener's <c>socket_options</c>: <c>setsockopt(level, name, &amp;value, sizeof(int))</c>.</summary>
/// <param name="Level">The option's level.</param>
/// <param name="Name">The option's name.</param>
/// <param name="Value">The <c>int</c> value.</param>
/// <param name="Bound">Set after <c>bind()</c> (<c>STATE_BOUND</c>) rather than before (<c>STATE_PREBIND</c>).</param>
public sealed record SocketOptionPlan(int Level, int Name, int Value, bool Bound);
