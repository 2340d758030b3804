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
        HashPolicy = Router.HashPolicy.Compile(plan.HashPolicies);
        if (plan.DirectResponse is { } direct)
        {
            DirectResponseBody = direct.Body;
            // Envoy's router adds the request's own URL as location to any direct response that is 201 or 3xx.
            Location = plan.Redirect ?? (direct.Status is 201 or (>= 300 and < 400) ? PlainLocation : null);
        }
        RegexRewrite = plan.RegexRewrite is { } rewrite ? RegexSubstitution.Compile(rewrite.Pattern, rewrite.Substitution) : null;
        TemplateRewrite = plan.PathTemplateRewrite is { } templateRewrite
            ? UriTemplateRewrite.FromValidated(templateRewrite.Rewrite, UriTemplate.FromValidated(templateRewrite.MatchTemplate)) : null;
        HostRewritePathRegex = plan.HostRewritePathRegex is { } hostRewrite ? RegexSubstitution.Compile(hostRewrite.Pattern, hostRewrite.Substitution) : null;
        RedirectRegexRewrite = plan.Redirect?.RegexRewrite is { } redirectRewrite ? RegexSubstitution.Compile(redirectRewrite.Pattern, redirectRewrite.Substitution) : null;
        if (plan.Retry is { } retry)
        {
            RetriableHeaders = retry.RetriableHeaders.Select(HeaderPredicate.FromConfig).ToArray();
            RetriableRequestHeaders = retry.RetriableRequestHeaders.Select(HeaderPredicate.FromConfig).ToArray();
        }
    }

    /// <summary>
    /// A weighted cluster entry of <paramref name="parent"/> (Envoy's WeightedClusterEntry, a route delegating to its parent):
    /// everything of the parent, with the entry's cluster and the overrides the caller's initializer sets.
    /// </summary>
    private RouteRuntime(RouteRuntime parent, ClusterRuntime? cluster)
    {
        Plan = parent.Plan;
        Cluster = cluster;
        MatchedPrefix = parent.MatchedPrefix;
        Metadata = parent.Metadata;
        VirtualHostMetadata = parent.VirtualHostMetadata;
        RouteConfigurationMetadata = parent.RouteConfigurationMetadata;
        Retry = parent.Retry;
        Timeouts = parent.Timeouts;
        HashPolicy = parent.HashPolicy;
        DirectResponseBody = parent.DirectResponseBody;
        Location = parent.Location;
        RegexRewrite = parent.RegexRewrite;
        HostRewritePathRegex = parent.HostRewritePathRegex;
        RedirectRegexRewrite = parent.RedirectRegexRewrite;
        RetriableHeaders = parent.RetriableHeaders;
        RetriableRequestHeaders = parent.RetriableRequestHeaders;
        ClusterSpecifier = parent.ClusterSpecifier;
        Mirrors = parent.Mirrors;
        VirtualClusters = parent.VirtualClusters;
        Stats = parent.Stats;
        IsSslRedirect = parent.IsSslRedirect;
        Headers = parent.Headers;
        FilterStates = parent.FilterStates;
    }

    /// <summary>The route of one weighted cluster entry of this route (built when the configuration is applied).</summary>
    public RouteRuntime ForWeightedEntry(WeightedClusterPlan entry, ClusterRegistry clusters, HeaderMutationSet headers, Filters.RouteFilterState[]? filterStates)
        => new(this, entry.Name is null ? null : clusters.Find(entry.Name))
        {
            ClusterSpecifier = Router.ClusterSpecifier.ForEntry(entry, clusters),
            Headers = headers,
            FilterStates = filterStates,
            EntryHostRewrite = entry.HostRewriteLiteral,
            EntryClusterName = entry.Name,
            EntryMetadataMatch = entry.MetadataMatch,
        };

    /// <summary>The route's <c>weighted_clusters</c>, each entry a route; null when the route names its cluster otherwise (and on an entry).</summary>
    public Router.WeightedRoutes? Weighted { get; private set; }

    /// <summary>Sets the weighted entries, once, when the listener is built (they copy this route, so they come after it).</summary>
    public void SetWeighted(Router.WeightedRoutes weighted) => Weighted = weighted;

    /// <summary>
    /// The route of this request once its cluster specifier ran at route selection: a weighted entry's route, or this one.
    /// Called wherever a route is matched (as Envoy's route() returns the WeightedClusterEntry).
    /// </summary>
    public RouteRuntime Resolve(Microsoft.AspNetCore.Http.HttpRequest request, ulong randomValue, System.Net.IPAddress? forwardedRemote)
        => Weighted is { } weighted ? weighted.Pick(request, randomValue, forwardedRemote) : this;

    /// <summary>A weighted entry's <c>host_rewrite_literal</c>: the Host unless the route's own host rewrite replaces it; null: none.</summary>
    public string? EntryHostRewrite { get; private init; }

    /// <summary>A weighted entry's cluster <c>name</c> (what filters see as the route's cluster); null otherwise.</summary>
    private string? EntryClusterName { get; init; }

    /// <summary>Compiled <c>retriable_headers</c> (matched against upstream response headers).</summary>
    public IReadOnlyList<HeaderPredicate> RetriableHeaders { get; } = [];

    /// <summary>Compiled <c>retriable_request_headers</c>; when there are any, one must match for the request to be retried.</summary>
    public IReadOnlyList<HeaderPredicate> RetriableRequestHeaders { get; } = [];

    public RoutePlan Plan { get; }

    /// <summary>The <c>location</c> of a direct response (a <c>redirect</c>, or a 201 / 3xx <c>direct_response</c>); null: none.</summary>
    public RedirectPlan? Location { get; }

    private static readonly RedirectPlan PlainLocation = new(null, null, null, null, false, null, false);

    /// <summary>The route action's <c>regex_rewrite</c>, compiled; null when it has none.</summary>
    public RegexSubstitution? RegexRewrite { get; }

    /// <summary>The route action's <c>path_rewrite_policy</c>, compiled against the match's template; null when it has none.</summary>
    public UriTemplateRewrite? TemplateRewrite { get; }

    /// <summary>The route action's <c>host_rewrite_path_regex</c>, compiled; null when it has none.</summary>
    public RegexSubstitution? HostRewritePathRegex { get; }

    /// <summary>The redirect's <c>regex_rewrite</c>, compiled; null when it has none.</summary>
    public RegexSubstitution? RedirectRegexRewrite { get; }

    /// <summary>The route's compiled <c>hash_policy</c>, or null when it has none.</summary>
    public Router.HashPolicy? HashPolicy { get; }

    /// <summary>The route's subset criteria (<c>metadata_match</c>), compiled when the config was applied; null when it has none.</summary>
    public Clusters.LoadBalancing.SubsetCriteria? MetadataMatch => EntryMetadataMatch ?? Plan.MetadataMatch;

    /// <summary>A weighted entry's subset criteria (its <c>metadata_match</c> merged over the route's); null otherwise.</summary>
    private Clusters.LoadBalancing.SubsetCriteria? EntryMetadataMatch { get; init; }

    /// <summary>The target cluster when the route names one (<c>cluster</c>); null for direct responses and per-request clusters.</summary>
    public ClusterRuntime? Cluster { get; }

    /// <summary>Picks the cluster per request (<c>cluster_header</c>, <c>weighted_clusters</c>); null when <see cref="Cluster"/> is fixed.</summary>
    public Router.ClusterSpecifier? ClusterSpecifier { get; init; }

    /// <summary>The <c>prefix</c> (or <c>path</c>, or URI template, as Envoy's matched path) the route matched on, which <c>prefix_rewrite</c> replaces.</summary>
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

    /// <summary>The route's mirror policies in force (route, virtual host or route configuration), compiled; empty when none.</summary>
    public Router.ShadowPolicy[] Mirrors { get; init; } = [];

    /// <summary>Its virtual host's <c>virtual_clusters</c>, or null when it has none.</summary>
    public VirtualClusters? VirtualClusters { get; init; }

    /// <summary>The route's own stats (<c>stat_prefix</c>, Envoy's RouteStatsContext), or null.</summary>
    public Stats.RequestClassStats? Stats { get; init; }

    /// <summary>Envoy's SSL redirect route of a virtual host with <c>require_tls</c>: a 301 to the request's https URL.</summary>
    public bool IsSslRedirect { get; init; }

    /// <summary>The route's request and response header mutations of every level (Envoy's finalizeRequestHeaders / finalizeResponseHeaders).</summary>
    public HeaderMutationSet Headers { get; init; } = HeaderMutationSet.Empty;

    /// <summary>Per filter of the listener's chain, its state on this route (enabled, per-route configuration); null when no level configures any.</summary>
    public Filters.RouteFilterState[]? FilterStates { get; init; }

    string? Filters.IHttpRoute.Name => Plan.RouteName;

    string Filters.IHttpRoute.VirtualHostName => Plan.VirtualHost;

    string? Filters.IHttpRoute.ClusterName => EntryClusterName ?? Plan.Cluster;

    bool Filters.IHttpRoute.IsDirectResponse => Plan.DirectResponse is not null;

    EnvoyMetadata Filters.IHttpRoute.ClusterMetadata => Cluster?.Metadata ?? EnvoyMetadata.Empty;
}
