using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Translation;

namespace Gateway.Listeners;

/// <summary>A matched route, ready for the request path: plan, cluster and precomputed header values.</summary>
internal sealed class RouteRuntime : Filters.IHttpRoute
{
    public RouteRuntime(RoutePlan plan, ClusterRuntime? cluster, string? matchedPrefix, EnvoyMetadata? routeConfigurationMetadata = null)
    {
        Plan = plan;
        Cluster = cluster;
        MatchedPrefix = matchedPrefix;
        Metadata = plan.Metadata ?? EnvoyMetadata.Empty;
        VirtualHostMetadata = plan.VirtualHostMetadata ?? EnvoyMetadata.Empty;
        RouteConfigurationMetadata = routeConfigurationMetadata ?? EnvoyMetadata.Empty;
        Retry = plan.Retry;
        Timeouts = new RequestTimeouts(plan.Timeout, plan.Retry?.PerTryTimeout ?? TimeSpan.Zero);
        if (plan.DirectResponse is { } direct)
        {
            DirectResponseBody = direct.Body;
        }
        if (plan.Retry is { } retry)
        {
            RetriableHeaders = retry.RetriableHeaders.Select(HeaderPredicate.FromConfig).ToArray();
            RetriableRequestHeaders = retry.RetriableRequestHeaders.Select(HeaderPredicate.FromConfig).ToArray();
        }
    }

    /// <summary>Compiled <c>retriable_headers</c> (matched against upstream response headers).</summary>
    public IReadOnlyList<HeaderPredicate> RetriableHeaders { get; } = [];

    /// <summary>Compiled <c>retriable_request_headers</c>; when there are any, one must match for the request to be retried.</summary>
    public IReadOnlyList<HeaderPredicate> RetriableRequestHeaders { get; } = [];

    public RoutePlan Plan { get; }

    /// <summary>The target cluster; null for direct responses.</summary>
    public ClusterRuntime? Cluster { get; }

    /// <summary>The <c>prefix</c> (or <c>path</c>) the route matched on, which <c>prefix_rewrite</c> replaces.</summary>
    public string? MatchedPrefix { get; }

    /// <summary>The retry policy, or null.</summary>
    public RetryPlan? Retry { get; }

    /// <summary>The route's timeout and per-try timeout, with the header value precomputed.</summary>
    public RequestTimeouts Timeouts { get; }

    public byte[]? DirectResponseBody { get; }

    /// <summary>The route's <c>metadata</c> (Envoy's <c>Route::metadata()</c>); empty when it has none.</summary>
    public EnvoyMetadata Metadata { get; }

    /// <summary>Its virtual host's <c>metadata</c> (<c>VirtualHost::metadata()</c>); empty when it has none.</summary>
    public EnvoyMetadata VirtualHostMetadata { get; }

    /// <summary>Its route configuration's <c>metadata</c> (<c>CommonConfig::metadata()</c>); empty when it has none.</summary>
    public EnvoyMetadata RouteConfigurationMetadata { get; }

    /// <summary>The route's request and response header mutations of every level (Envoy's finalizeRequestHeaders / finalizeResponseHeaders).</summary>
    public HeaderMutationSet Headers { get; init; } = HeaderMutationSet.Empty;

    /// <summary>Per filter of the listener's chain, its state on this route (enabled, per-route configuration); null when no level configures any.</summary>
    public Filters.RouteFilterState[]? FilterStates { get; init; }

    string? Filters.IHttpRoute.Name => Plan.RouteName;

    string Filters.IHttpRoute.VirtualHostName => Plan.VirtualHost;

    string? Filters.IHttpRoute.ClusterName => Plan.Cluster;

    bool Filters.IHttpRoute.IsDirectResponse => Plan.DirectResponse is not null;

    EnvoyMetadata Filters.IHttpRoute.ClusterMetadata => Cluster?.Metadata ?? EnvoyMetadata.Empty;
}
