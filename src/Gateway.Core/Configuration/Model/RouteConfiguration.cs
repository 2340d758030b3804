namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RouteConfiguration</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteConfiguration", NotSupported =
[
    "vhds", "internal_only_headers", "response_headers_to_add", "response_headers_to_remove",
    "request_headers_to_add", "request_headers_to_remove", "most_specific_header_mutations_wins",
    "validate_clusters", "cluster_specifier_plugins",
    "request_mirror_policies", "ignore_port_in_host_matching", "ignore_path_parameters_in_path_matching",
])]
public sealed class RouteConfiguration : EnvoyMessage
{
    /// <summary>Name of the route table.</summary>
    public string? Name { get; set; }

    /// <summary>Virtual hosts, chosen by the request's authority.</summary>
    public List<VirtualHost> VirtualHosts { get; set; } = [];

    /// <summary>Per-filter configuration by filter name (<c>typed_per_filter_config</c>); values are per-route filter configurations or <see cref="FilterConfig"/>.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Opaque metadata for filters (on every route of the table).</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>The largest <c>direct_response</c> body in bytes; Envoy's default is 4096.</summary>
    [ProtoField(11)]
    public uint? MaxDirectResponseBodySizeBytes { get; set; }
}

/// <summary><c>envoy.config.route.v3.VirtualHost</c>.</summary>
[EnvoyType("envoy.config.route.v3.VirtualHost", NotSupported =
[
    "matcher", "require_tls", "virtual_clusters", "rate_limits", "request_headers_to_add",
    "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "cors",
    "retry_policy_typed_config", "hedge_policy", "include_is_timeout_retry_header",
    "per_request_buffer_limit_bytes", "request_body_buffer_limit", "request_mirror_policies",
])]
public sealed class VirtualHost : EnvoyMessage
{
    /// <summary>Name, used in stats.</summary>
    public string? Name { get; set; }

    /// <summary>Host names: exact, <c>*.suffix</c>, <c>prefix*</c> or <c>*</c>.</summary>
    public List<string> Domains { get; set; } = [];

    /// <summary>Routes, tried in order; the first match wins.</summary>
    public List<Route> Routes { get; set; } = [];

    /// <summary>Retries for routes that have none of their own.</summary>
    public RetryPolicy? RetryPolicy { get; set; }

    /// <summary>Send <c>x-envoy-attempt-count</c> to the upstream.</summary>
    public bool IncludeRequestAttemptCount { get; set; }

    /// <summary>Send <c>x-envoy-attempt-count</c> to the client.</summary>
    public bool IncludeAttemptCountInResponse { get; set; }

    /// <summary>Per-filter configuration by filter name (<c>typed_per_filter_config</c>); values are per-route filter configurations or <see cref="FilterConfig"/>.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Opaque metadata for filters (on every route of the virtual host).</summary>
    public Metadata? Metadata { get; set; }
}

/// <summary><c>envoy.config.route.v3.Route</c>.</summary>
[EnvoyType("envoy.config.route.v3.Route", NotSupported =
[
    "redirect", "filter_action", "non_forwarding_action",
    "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
    "per_request_buffer_limit_bytes", "stat_prefix", "request_body_buffer_limit",
])]
public sealed class Route : EnvoyMessage
{
    /// <summary>Name of the route.</summary>
    public string? Name { get; set; }

    /// <summary>What requests this route takes.</summary>
    public RouteMatch? Match { get; set; }

    /// <summary>Forward to a cluster (the <c>route</c> field).</summary>
    [EnvoyField("route")]
    public RouteAction? Action { get; set; }

    /// <summary>Answer directly, without an upstream.</summary>
    public DirectResponseAction? DirectResponse { get; set; }

    /// <summary>Per-filter configuration by filter name (<c>typed_per_filter_config</c>); values are per-route filter configurations or <see cref="FilterConfig"/>.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Opaque metadata for filters.</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>The span name of requests on this route.</summary>
    [ProtoField(5)]
    public Decorator? Decorator { get; set; }

    /// <summary>The route's tracing sampling and tags.</summary>
    [ProtoField(15)]
    public RouteTracing? Tracing { get; set; }
}

/// <summary>
/// <c>envoy.config.route.v3.FilterConfig</c>: a <c>typed_per_filter_config</c> value that can also enable or disable the
/// filter on the route (or virtual host, or route configuration).
/// </summary>
[EnvoyType("envoy.config.route.v3.FilterConfig")]
public sealed class FilterConfig : EnvoyMessage
{
    /// <summary>The filter's per-route configuration; <c>{}</c> enables the filter without one.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public EnvoyMessage? Config { get; set; }

    /// <summary>When true, a per-route configuration of a filter this gateway does not know is ignored.</summary>
    public bool IsOptional { get; set; }

    /// <summary>Disables the filter here (the configuration, if any, is ignored).</summary>
    public bool Disabled { get; set; }
}
