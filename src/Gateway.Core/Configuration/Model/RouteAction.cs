namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RouteAction</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction", NotSupported =
[
    "cluster_specifier_plugin", "inline_cluster_specifier_plugin", "metadata_match", "regex_rewrite", "path_rewrite_policy",
    "host_rewrite_header", "host_rewrite_path_regex", "append_x_forwarded_host",
    "early_data_policy", "retry_policy_typed_config",
    "rate_limits", "include_vh_rate_limits", "cors", "max_grpc_timeout", "grpc_timeout_offset",
    "upgrade_configs", "internal_redirect_policy", "internal_redirect_action", "max_internal_redirects",
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

    /// <summary>Upstream timeout for the whole request; default 15s, 0 disables.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Set Host to the chosen endpoint's host name (DNS clusters, or endpoint <c>hostname</c>).</summary>
    public bool? AutoHostRewrite { get; set; }

    /// <summary>Set Host to this value.</summary>
    public string? HostRewriteLiteral { get; set; }

    /// <summary>Replace the matched prefix (or path) with this.</summary>
    public string? PrefixRewrite { get; set; }

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
[EnvoyType("envoy.config.route.v3.WeightedCluster", NotSupported = ["use_hash_policy"])]
public sealed class WeightedClusters : EnvoyMessage
{
    /// <summary>The clusters and their weights.</summary>
    public List<ClusterWeight> Clusters { get; set; } = [];

    /// <summary>Deprecated and ignored by Envoy (the weights' sum is the total).</summary>
    public uint? TotalWeight { get; set; }

    /// <summary>Runtime keys overriding the weights; there is no runtime layer, so the configured weights apply.</summary>
    public string? RuntimeKeyPrefix { get; set; }

    /// <summary>A request header holding the random value of the pick (a single unsigned integer; otherwise the stream's).</summary>
    public string? HeaderName { get; set; }
}

/// <summary><c>envoy.config.route.v3.WeightedCluster.ClusterWeight</c>.</summary>
[EnvoyType("envoy.config.route.v3.WeightedCluster.ClusterWeight", NotSupported =
[
    "cluster_header", "metadata_match", "request_headers_to_add", "request_headers_to_remove",
    "response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config", "host_rewrite_literal",
])]
public sealed class ClusterWeight : EnvoyMessage
{
    /// <summary>The cluster.</summary>
    public string? Name { get; set; }

    /// <summary>Its weight (0: never picked).</summary>
    public uint? Weight { get; set; }
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
    public string? InlineBytes { get; set; }

    /// <summary>Literal text.</summary>
    public string? InlineString { get; set; }

    /// <summary>Read from this environment variable when the config is loaded.</summary>
    public string? EnvironmentVariable { get; set; }
}
