namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RouteAction</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction", NotSupported =
[
    "cluster_specifier_plugin", "inline_cluster_specifier_plugin",
    "early_data_policy", "retry_policy_typed_config",
    "rate_limits", "include_vh_rate_limits", "cors", "max_grpc_timeout", "grpc_timeout_offset",
    "internal_redirect_policy", "internal_redirect_action", "max_internal_redirects",
    "hedge_policy",
])]
public sealed class RouteAction : EnvoyMessage
{
    /// <summary>The upstream cluster.</summary>
    public string? Cluster { get; set; }

    /// <summary>The request header whose first value names the upstream cluster.</summary>
    public string? ClusterHeader { get; set; }

    /// <summary>The upstream cluster picked per request by weight.</summary>
    public WeightedClusters? WeightedClusters { get; set; }

    /// <summary>The reply when the cluster the route names (by header, or weighted) does not exist.</summary>
    public ClusterNotFoundResponseCode ClusterNotFoundResponseCode { get; set; }

    /// <summary>The subset load balancer's criteria: the <c>envoy.lb</c> namespace must match a subset of the cluster's endpoints.</summary>
    [ProtoField(4)]
    public Metadata? MetadataMatch { get; set; }

    /// <summary>Upstream timeout for the whole request; default 15s, 0 disables.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Set Host to the chosen endpoint's host name (DNS clusters, or endpoint <c>hostname</c>).</summary>
    public bool? AutoHostRewrite { get; set; }

    /// <summary>Set Host to this value.</summary>
    public string? HostRewriteLiteral { get; set; }

    /// <summary>Set Host to the first value of this request header (unchanged when it is absent or empty).</summary>
    [ProtoField(29, InOneOf = true)]
    public string? HostRewriteHeader { get; set; }

    /// <summary>Set Host to the path (without its query) with every match of the pattern replaced.</summary>
    [ProtoField(35, InOneOf = true)]
    public PathRegexRewrite? HostRewritePathRegex { get; set; }

    /// <summary>When the Host is rewritten, append the old one to <c>x-forwarded-host</c> (unless it is already the last value).</summary>
    [ProtoField(38)]
    [EnvoyField("append_x_forwarded_host")]
    public bool AppendXForwardedHost { get; set; }

    /// <summary>Replace the matched prefix (or path) with this.</summary>
    public string? PrefixRewrite { get; set; }

    /// <summary>Every match of the pattern in the path (not the query) replaced by the substitution.</summary>
    [ProtoField(32)]
    public PathRegexRewrite? RegexRewrite { get; set; }

    /// <summary>The upstream path from the route's URI template's variables (<c>envoy.path.rewrite.uri_template.uri_template_rewriter</c>).</summary>
    [ProtoField(41)]
    public PathRewritePolicy? PathRewritePolicy { get; set; }

    /// <summary>Which circuit-breaker thresholds of the cluster apply.</summary>
    public RoutingPriority Priority { get; set; }

    /// <summary>Retries; overrides the virtual host's.</summary>
    public RetryPolicy? RetryPolicy { get; set; }

    /// <summary>Shadow copies of the request; when empty the virtual host's (or route configuration's) apply.</summary>
    public List<RequestMirrorPolicy> RequestMirrorPolicies { get; set; } = [];

    /// <summary>How the request's hash key for RING_HASH/MAGLEV clusters is computed.</summary>
    [ProtoField(15)]
    public List<HashPolicy> HashPolicy { get; set; } = [];

    /// <summary>The stream idle timeout on this route (reset by body activity either way); 0 disables it.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>The route's override of the connection manager's upgrade decision, per upgrade type.</summary>
    [ProtoField(25)]
    public List<RouteUpgradeConfig> UpgradeConfigs { get; set; } = [];

    /// <summary>The stream's duration limit and the <c>grpc-timeout</c> header; when set, <c>timeout</c> does not apply (Envoy's "new timeouts").</summary>
    public MaxStreamDuration? MaxStreamDuration { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.ClusterNotFoundResponseCode</c>.</summary>
public enum ClusterNotFoundResponseCode
{
    /// <summary>SERVICE_UNAVAILABLE (503).</summary>
    ServiceUnavailable = 0,

    /// <summary>NOT_FOUND (404).</summary>
    NotFound = 1,

    /// <summary>INTERNAL_SERVER_ERROR (500).</summary>
    InternalServerError = 2,
}

/// <summary><c>envoy.config.route.v3.WeightedCluster</c>.</summary>
[EnvoyType("envoy.config.route.v3.WeightedCluster")]
public sealed class WeightedClusters : EnvoyMessage
{
    /// <summary>The clusters and their weights.</summary>
    public List<ClusterWeight> Clusters { get; set; } = [];

    /// <summary>Deprecated and ignored by Envoy (the weights' sum is the total).</summary>
    public uint? TotalWeight { get; set; }

    /// <summary>Runtime keys overriding the weights; there is no runtime layer, so the configured weights apply.</summary>
    public string? RuntimeKeyPrefix { get; set; }

    /// <summary>A request header holding the random value of the pick (a single unsigned integer; otherwise the stream's); one-of with <see cref="UseHashPolicy"/>.</summary>
    public string? HeaderName { get; set; }

    /// <summary>
    /// The route's <c>hash_policy</c> picks the entry (the same key, the same entry), the random value when it yields no hash;
    /// one-of with <see cref="HeaderName"/>.
    /// </summary>
    public bool? UseHashPolicy { get; set; }
}

/// <summary><c>envoy.config.route.v3.WeightedCluster.ClusterWeight</c>.</summary>
[EnvoyType("envoy.config.route.v3.WeightedCluster.ClusterWeight")]
public sealed class ClusterWeight : EnvoyMessage
{
    /// <summary>The cluster (one-of with <c>cluster_header</c>).</summary>
    public string? Name { get; set; }

    /// <summary>The request header whose first value names this entry's cluster (one-of with <c>name</c>).</summary>
    public string? ClusterHeader { get; set; }

    /// <summary>Its weight (0: never picked).</summary>
    public uint? Weight { get; set; }

    /// <summary>The subset criteria (<c>envoy.lb</c>) for this entry, merged over the route's (the entry's keys win).</summary>
    [ProtoField(3)]
    public Metadata? MetadataMatch { get; set; }

    /// <summary>Headers added to requests sent to this entry's cluster (before the route's, virtual host's and route configuration's).</summary>
    public List<HeaderValueOption> RequestHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from requests sent to this entry's cluster (before the other levels' mutations).</summary>
    public List<string> RequestHeadersToRemove { get; set; } = [];

    /// <summary>Headers added to responses from this entry's cluster (before the other levels' mutations).</summary>
    public List<HeaderValueOption> ResponseHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from responses from this entry's cluster (before the other levels' mutations).</summary>
    public List<string> ResponseHeadersToRemove { get; set; } = [];

    /// <summary>Per-filter configuration on this entry, more specific than the route's (<c>typed_per_filter_config</c>).</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The Host of requests sent to this entry's cluster (set before the route's own host rewrite, which replaces it).</summary>
    public string? HostRewriteLiteral { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.MaxStreamDuration</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.MaxStreamDuration")]
public sealed class MaxStreamDuration : EnvoyMessage
{
    /// <summary>The limit from the stream's start; 0 disables it.</summary>
    [EnvoyField("max_stream_duration")]
    public TimeSpan? Limit { get; set; }

    /// <summary>With it, a <c>grpc-timeout</c> header is the limit, capped at this (0: no cap).</summary>
    public TimeSpan? GrpcTimeoutHeaderMax { get; set; }

    /// <summary>Subtracted from the <c>grpc-timeout</c> header's value.</summary>
    public TimeSpan? GrpcTimeoutHeaderOffset { get; set; }
}

/// <summary><c>envoy.config.route.v3.DirectResponseAction</c>.</summary>
[EnvoyType("envoy.config.route.v3.DirectResponseAction")]
public sealed class DirectResponseAction : EnvoyMessage
{
    /// <summary>Status code, 200-599.</summary>
    public uint Status { get; set; }

    /// <summary>Response body.</summary>
    public DataSource? Body { get; set; }
}

/// <summary><c>envoy.config.core.v3.DataSource</c>.</summary>
[EnvoyType("envoy.config.core.v3.DataSource", NotSupported = ["watched_directory"])]
public sealed class DataSource : EnvoyMessage
{
    /// <summary>Read from this file when the config is loaded.</summary>
    public string? Filename { get; set; }

    /// <summary>Base64 bytes.</summary>
    [ProtoBytes]
    public string? InlineBytes { get; set; }

    /// <summary>Literal text.</summary>
    public string? InlineString { get; set; }

    /// <summary>Read from this environment variable when the config is loaded.</summary>
    public string? EnvironmentVariable { get; set; }
}

/// <summary><c>envoy.config.route.v3.RedirectAction</c>: answer with a redirect to a URL made from the request's.</summary>
[EnvoyType("envoy.config.route.v3.RedirectAction")]
public sealed class RedirectAction : EnvoyMessage
{
    /// <summary>The scheme of the location (one-of with <c>scheme_redirect</c>): https.</summary>
    [ProtoField(4, InOneOf = true)]
    public bool HttpsRedirect { get; set; }

    /// <summary>The scheme of the location (one-of with <c>https_redirect</c>).</summary>
    [ProtoField(7, InOneOf = true)]
    public string? SchemeRedirect { get; set; }

    /// <summary>The host of the location; the request's Host when empty.</summary>
    [ProtoField(1)]
    public string? HostRedirect { get; set; }

    /// <summary>The port of the location; the request's (unless dropped) when 0.</summary>
    [ProtoField(8)]
    public uint PortRedirect { get; set; }

    /// <summary>The path of the location (one-of with <c>prefix_rewrite</c>); a query in it replaces the request's.</summary>
    [ProtoField(2, InOneOf = true)]
    public string? PathRedirect { get; set; }

    /// <summary>Replaces the matched prefix (or path) of the request's path (one-of with <c>path_redirect</c>).</summary>
    [ProtoField(5, InOneOf = true)]
    public string? PrefixRewrite { get; set; }

    /// <summary>Every match in the request's path replaced (one-of with <c>path_redirect</c> and <c>prefix_rewrite</c>).</summary>
    [ProtoField(9, InOneOf = true)]
    public PathRegexRewrite? RegexRewrite { get; set; }

    /// <summary>The redirect's status.</summary>
    [ProtoField(3)]
    public RedirectResponseCode ResponseCode { get; set; }

    /// <summary>Drop the request's query (not a <c>path_redirect</c>'s own).</summary>
    [ProtoField(6)]
    public bool StripQuery { get; set; }
}

/// <summary><c>envoy.config.route.v3.RedirectAction.RedirectResponseCode</c>.</summary>
public enum RedirectResponseCode
{
    /// <summary>301.</summary>
    MovedPermanently = 0,

    /// <summary>302.</summary>
    Found = 1,

    /// <summary>303.</summary>
    SeeOther = 2,

    /// <summary>307.</summary>
    TemporaryRedirect = 3,

    /// <summary>308.</summary>
    PermanentRedirect = 4,
}

/// <summary>
/// <c>envoy.type.matcher.v3.RegexMatchAndSubstitute</c> as the routes use it (<c>regex_rewrite</c>): every match of the RE2
/// pattern in the path replaced by the substitution (<c>\1</c> … for capture groups).
/// </summary>
[EnvoyType("envoy.type.matcher.v3.RegexMatchAndSubstitute")]
public sealed class PathRegexRewrite : EnvoyMessage
{
    /// <summary>The pattern (RE2).</summary>
    [ProtoField(1)]
    public RegexMatcher? Pattern { get; set; }

    /// <summary>The replacement.</summary>
    [ProtoField(2)]
    public string? Substitution { get; set; }
}
