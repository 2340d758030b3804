using Gateway.Configuration;
using Microsoft.AspNetCore.Http;

namespace Gateway.Routing;

/// <summary>
/// Envoy's route selection for one <see cref="RouteConfiguration"/>, compiled once when the configuration is applied:
/// pick the virtual host by authority (<see cref="VirtualHostSelector"/>), then take the first route of that host, in
/// file order, whose match accepts the request (<see cref="RoutePredicate"/>). Immutable, so one instance serves all
/// requests concurrently; matching allocates nothing except when a header matcher reads a header sent several times.
/// </summary>
/// <typeparam name="TTarget">Whatever the caller attaches to each route (cluster handle, policies, stats).</typeparam>
internal sealed class RouteTable<TTarget>
    where TTarget : class
{
    private readonly VirtualHostSelector _selector;
    private readonly CompiledVirtualHost[] _virtualHosts;

    private RouteTable(RouteConfiguration config, VirtualHostSelector selector, CompiledVirtualHost[] virtualHosts)
    {
        Configuration = config;
        _selector = selector;
        _virtualHosts = virtualHosts;
    }

    /// <summary>The configuration this table was built from.</summary>
    public RouteConfiguration Configuration { get; }

    /// <summary>Number of virtual hosts; indices returned by the match methods are below this.</summary>
    public int VirtualHostCount => _virtualHosts.Length;

    /// <summary>Compiles a route configuration.</summary>
    /// <param name="config">A configuration that passed validation; its checks (a match per route, one path specifier,
    /// valid regexes, unique domains) are not repeated here.</param>
    /// <param name="createTarget">Called once per route, in file order, to create what <see cref="Match(string?, string, string, string, IHeaderDictionary)"/> returns for it.</param>
    /// <param name="createSslRedirect">Called once per virtual host with <c>require_tls</c>, for the target of Envoy's SSL
    /// redirect route (a 301 to https); without it, <c>require_tls</c> has no effect.</param>
    public static RouteTable<TTarget> Build(RouteConfiguration config, Func<VirtualHost, Route, TTarget> createTarget, Func<VirtualHost, TTarget>? createSslRedirect = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(createTarget);

        var selector = VirtualHostSelector.Build(config);
        var virtualHosts = new CompiledVirtualHost[config.VirtualHosts.Count];
        for (var i = 0; i < virtualHosts.Length; i++)
        {
            var vhost = config.VirtualHosts[i];
            var predicates = new RoutePredicate[vhost.Routes.Count];
            var targets = new TTarget[vhost.Routes.Count];
            for (var j = 0; j < predicates.Length; j++)
            {
                var route = vhost.Routes[j];
                predicates[j] = RoutePredicate.FromConfig(route.Match!);
                targets[j] = createTarget(vhost, route);
            }
            var sslRedirect = vhost.RequireTls != TlsRequirementType.None ? createSslRedirect?.Invoke(vhost) : null;
            virtualHosts[i] = new CompiledVirtualHost(vhost, predicates, targets, sslRedirect is null ? TlsRequirementType.None : vhost.RequireTls, sslRedirect);
        }
        return new RouteTable<TTarget>(config, selector, virtualHosts);
    }

    /// <summary>Selects a route.</summary>
    /// <param name="host">The <c>:authority</c>/Host value as received (port included, may be empty); null when the request has none.</param>
    /// <param name="method">The request method; what <c>:method</c> header matchers see.</param>
    /// <param name="scheme">The request scheme; what <c>:scheme</c> header matchers see.</param>
    /// <param name="pathAndQuery">The raw request target, query string included, e.g. <c>/a/b?x=1</c>; what <c>:path</c> header matchers see.</param>
    /// <param name="headers">The request headers.</param>
    /// <returns>The target of the first matching route of the selected virtual host, or null (Envoy: 404, <c>no_route</c>).</returns>
    public TTarget? Match(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers)
        => Match(host, method, scheme, pathAndQuery, headers, out _, out _);

    /// <summary>Selects a route and tells which virtual host was chosen.</summary>
    /// <param name="host">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="method">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="scheme">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="pathAndQuery">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="headers">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="virtualHostIndex">Index of the selected virtual host (see <see cref="GetVirtualHost"/>), or -1 when none matched the authority.</param>
    public TTarget? Match(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers, out int virtualHostIndex)
        => Match(host, method, scheme, pathAndQuery, headers, out virtualHostIndex, out _);

    /// <summary>Selects a route and tells which virtual host and route were chosen.</summary>
    /// <param name="host">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="method">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="scheme">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="pathAndQuery">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="headers">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="virtualHostIndex">Index of the selected virtual host, or -1 when none matched the authority.</param>
    /// <param name="routeIndex">Index of the matched route within that virtual host, or -1.</param>
    public TTarget? Match(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers, out int virtualHostIndex, out int routeIndex)
        => Match(host, method, scheme, pathAndQuery, headers, null, 0, out virtualHostIndex, out routeIndex);

    /// <summary>Selects a route on the request and the stream's dynamic metadata (for <c>dynamic_metadata</c> matches).</summary>
    /// <param name="host">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="method">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="scheme">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="pathAndQuery">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="headers">See <see cref="Match(string?, string, string, string, IHeaderDictionary)"/>.</param>
    /// <param name="dynamicMetadata">The stream's dynamic metadata by namespace, or null.</param>
    /// <param name="randomValue">The stream's random value, for <c>runtime_fraction</c> matches.</param>
    /// <param name="virtualHostIndex">Index of the selected virtual host, or -1 when none matched the authority.</param>
    /// <param name="routeIndex">Index of the matched route within that virtual host, or -1.</param>
    public TTarget? Match(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers, IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject>? dynamicMetadata, ulong randomValue, out int virtualHostIndex, out int routeIndex)
    {
        routeIndex = -1;
        virtualHostIndex = _selector.Find(host);
        if (virtualHostIndex < 0)
        {
            return null;
        }
        var vhost = _virtualHosts[virtualHostIndex];
        if (vhost.TlsRequirement != TlsRequirementType.None && RequiresSslRedirect(vhost.TlsRequirement, headers))
        {
            return vhost.SslRedirect;
        }
        var request = new RequestView(host, method, scheme, pathAndQuery, headers) { DynamicMetadata = dynamicMetadata, RandomValue = randomValue };
        var predicates = vhost.Predicates;
        for (var i = 0; i < predicates.Length; i++)
        {
            if (predicates[i].Matches(in request))
            {
                routeIndex = i;
                return vhost.Targets[i];
            }
        }
        return null;
    }

    /// <summary>
    /// Envoy's VirtualHostImpl::getRouteFromEntries, before any route: the connection manager has set
    /// <c>x-forwarded-proto</c>, and a request that is not <c>https</c> there is redirected (<c>EXTERNAL_ONLY</c>: unless it
    /// is internal, <c>x-envoy-internal: true</c>). Without the header Envoy selects no route; so does this.
    /// </summary>
    private static bool RequiresSslRedirect(TlsRequirementType requirement, IHeaderDictionary headers)
    {
        var proto = headers["x-forwarded-proto"];
        if (proto.Count == 0)
        {
            return false;
        }
        if (string.Equals(proto[0], "https", StringComparison.Ordinal))
        {
            return false;
        }
        return requirement == TlsRequirementType.All || !string.Equals(headers["x-envoy-internal"].ToString(), "true", StringComparison.Ordinal);
    }

    /// <summary>The virtual host index for an authority alone, or -1.</summary>
    /// <param name="host">The <c>:authority</c>/Host value as received, or null when the request has none.</param>
    public int FindVirtualHost(string? host) => _selector.Find(host);

    /// <summary>The configuration of a virtual host by index (e.g. for its name in <c>vhost.&lt;name&gt;.*</c> stats).</summary>
    public VirtualHost GetVirtualHost(int virtualHostIndex) => _virtualHosts[virtualHostIndex].Config;

    /// <summary>The target created for a route, by virtual host and route index.</summary>
    public TTarget GetTarget(int virtualHostIndex, int routeIndex) => _virtualHosts[virtualHostIndex].Targets[routeIndex];

    private sealed class CompiledVirtualHost(VirtualHost config, RoutePredicate[] predicates, TTarget[] targets, TlsRequirementType tlsRequirement, TTarget? sslRedirect)
    {
        public TlsRequirementType TlsRequirement { get; } = tlsRequirement;

        public TTarget? SslRedirect { get; } = sslRedirect;

        public VirtualHost Config { get; } = config;

        public RoutePredicate[] Predicates { get; } = predicates;

        public TTarget[] Targets { get; } = targets;
    }
}
