namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RouteConfiguration</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteConfiguration", NotSupported =
[
    "vhds", "cluster_specifier_plugins",
    "ignore_path_parameters_in_path_matching",
])]
public sealed class RouteConfiguration : EnvoyMessage
{
    /// <summary>Name of the route table.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// Whether a route's cluster must exist when the table is loaded; unset: true for a table given in place, false for
    /// one from RDS (a route to a cluster that does not exist then answers 503 with <c>NC</c>).
    /// </summary>
    [ProtoField(7)]
    public bool? ValidateClusters { get; set; }

    /// <summary>Virtual hosts, chosen by the request's authority.</summary>
    public List<VirtualHost> VirtualHosts { get; set; } = [];

    /// <summary>Headers removed from requests that are not internal, before routing (<c>internal_only_headers</c>).</summary>
    public List<string> InternalOnlyHeaders { get; set; } = [];

    /// <summary>Headers added to every response; applied after the virtual host's and the route's.</summary>
    public List<HeaderValueOption> ResponseHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from every response.</summary>
    public List<string> ResponseHeadersToRemove { get; set; } = [];

    /// <summary>Headers added to every routed request; applied after the virtual host's and the route's.</summary>
    public List<HeaderValueOption> RequestHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from every routed request.</summary>
    public List<string> RequestHeadersToRemove { get; set; } = [];

    /// <summary>Evaluate the header mutations from the least specific level to the most specific (which then wins).</summary>
    public bool MostSpecificHeaderMutationsWins { get; set; }

    /// <summary>Per-filter configuration by filter name (<c>typed_per_filter_config</c>); values are per-route filter configurations or <see cref="FilterConfig"/>.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Opaque metadata for filters (on every route of the table).</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>Shadow copies of requests for routes and virtual hosts that have no mirror policies of their own.</summary>
    public List<RequestMirrorPolicy> RequestMirrorPolicies { get; set; } = [];

    /// <summary>Virtual hosts are chosen by the authority without its port (<c>host:port</c> → <c>host</c>).</summary>
    public bool IgnorePortInHostMatching { get; set; }

    /// <summary>The largest <c>direct_response</c> body in bytes; Envoy's default is 4096.</summary>
    [ProtoField(11)]
    public uint? MaxDirectResponseBodySizeBytes { get; set; }
}

/// <summary><c>envoy.config.route.v3.VirtualHost</c>.</summary>
[EnvoyType("envoy.config.route.v3.VirtualHost", NotSupported =
[
    "matcher", "rate_limits", "cors",
    "retry_policy_typed_config", "hedge_policy", "include_is_timeout_retry_header",
    "per_request_buffer_limit_bytes", "request_body_buffer_limit",
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

    /// <summary>Headers added to requests of the virtual host (after the route's, before the route configuration's).</summary>
    public List<HeaderValueOption> RequestHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from requests of the virtual host (after the route's, before the route configuration's).</summary>
    public List<string> RequestHeadersToRemove { get; set; } = [];

    /// <summary>Headers added to responses of the virtual host (after the route's, before the route configuration's).</summary>
    public List<HeaderValueOption> ResponseHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from responses of the virtual host (after the route's, before the route configuration's).</summary>
    public List<string> ResponseHeadersToRemove { get; set; } = [];

    /// <summary>Per-filter configuration by filter name (<c>typed_per_filter_config</c>); values are per-route filter configurations or <see cref="FilterConfig"/>.</summary>
    [AnyField(EnvoyTypeCategory.HttpFilterRouteConfig)]
    public Dictionary<string, EnvoyMessage> TypedPerFilterConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Opaque metadata for filters (on every route of the virtual host).</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>Shadow copies of requests for routes that have no mirror policies of their own.</summary>
    public List<RequestMirrorPolicy> RequestMirrorPolicies { get; set; } = [];

    /// <summary>Requests that must arrive over TLS (checked on <c>x-forwarded-proto</c>); the others get a 301 to https.</summary>
    public TlsRequirementType RequireTls { get; set; }

    /// <summary>Request classes with their own <c>vhost.&lt;vh&gt;.vcluster.&lt;name&gt;.*</c> stats; the first match wins.</summary>
    public List<VirtualCluster> VirtualClusters { get; set; } = [];
}

/// <summary><c>envoy.config.route.v3.VirtualHost.TlsRequirementType</c>.</summary>
public enum TlsRequirementType
{
    /// <summary>NONE: no requirement.</summary>
    None = 0,

    /// <summary>EXTERNAL_ONLY: external requests must use TLS; internal ones (<c>x-envoy-internal</c>) need not.</summary>
    ExternalOnly = 1,

    /// <summary>ALL: every request must use TLS.</summary>
    All = 2,
}

/// <summary><c>envoy.config.route.v3.VirtualCluster</c>: a class of requests, by headers, counted on its own.</summary>
[EnvoyType("envoy.config.route.v3.VirtualCluster")]
public sealed class VirtualCluster : EnvoyMessage
{
    /// <summary>All must match (<c>:method</c> and <c>:path</c> included).</summary>
    public List<HeaderMatcher> Headers { get; set; } = [];

    /// <summary>The name in stats.</summary>
    public string? Name { get; set; }
}

/// <summary><c>envoy.config.route.v3.Route</c>.</summary>
[EnvoyType("envoy.config.route.v3.Route", NotSupported =
[
    "filter_action", "non_forwarding_action", "per_request_buffer_limit_bytes", "request_body_buffer_limit",
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

    /// <summary>Answer with a redirect (a direct response with a <c>location</c>).</summary>
    public RedirectAction? Redirect { get; set; }

    /// <summary>Headers added to requests matching this route (before the virtual host's and the route configuration's).</summary>
    public List<HeaderValueOption> RequestHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from requests matching this route (before the virtual host's and the route configuration's).</summary>
    public List<string> RequestHeadersToRemove { get; set; } = [];

    /// <summary>Headers added to responses matching this route (before the virtual host's and the route configuration's).</summary>
    public List<HeaderValueOption> ResponseHeadersToAdd { get; set; } = [];

    /// <summary>Headers removed from responses matching this route (before the virtual host's and the route configuration's).</summary>
    public List<string> ResponseHeadersToRemove { get; set; } = [];

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

    /// <summary>Per-route stats under <c>vhost.&lt;vh&gt;.route.&lt;stat_prefix&gt;.</c>; none when empty.</summary>
    public string? StatPrefix { get; set; }
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
