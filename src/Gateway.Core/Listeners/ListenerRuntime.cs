using Gateway.Clusters;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// One filter chain of a listener as it runs (what a request on a connection given that chain sees): its connection
/// manager's compiled route table, filters, loggers and stats, and its TLS termination.
/// </summary>
internal sealed class ListenerRuntime
{
    /// <summary>
    /// The chain rebuilt from the same definition by a later configuration (new route table or cluster handles): the
    /// connections accepted on this one use it from their next request. Null while this one is current, and for a chain
    /// whose listener was changed (its connections stay on it and drain).
    /// </summary>
    public ListenerRuntime? Successor
    {
        get => Volatile.Read(ref _successor);
        set => Volatile.Write(ref _successor, value);
    }

    private ListenerRuntime? _successor;

    public ListenerRuntime(ListenerPlan listener, FilterChainPlan chain, RouteTable<RouteRuntime> routes, ConnectionManagerStats stats, RouterStats routerStats, ListenerStats listenerStats, Filters.HttpFilterChain? filters = null)
    {
        Filters = filters ?? Gateway.Filters.HttpFilterChain.Empty;
        Listener = listener;
        Chain = chain;
        Routes = routes;
        Stats = stats;
        RouterStats = routerStats;
        ListenerStats = listenerStats;
        InternalRanges = chain.ConnectionManager.InternalAddressRanges.Select(ParseRange).ToArray();
        Paths = PathNormalizer.For(chain.ConnectionManager);
        FixedHttp2 = chain.Tls is null && chain.Protocols == Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
    }

    /// <summary>The connection manager's path normalization (<c>normalize_path</c>, <c>merge_slashes</c>, <c>path_with_escaped_slashes_action</c>).</summary>
    public PathNormalizer Paths { get; }

    /// <summary>The connection manager's internal address ranges.</summary>
    public IReadOnlyList<System.Net.IPNetwork> InternalRanges { get; }

    /// <summary><c>address/length</c> as a network; host bits in the address are ignored, as Envoy's CIDR ranges do.</summary>
    private static System.Net.IPNetwork ParseRange(string cidr)
    {
        var slash = cidr.LastIndexOf('/');
        var bytes = System.Net.IPAddress.Parse(cidr.AsSpan(0, slash)).GetAddressBytes();
        var length = Math.Min(int.Parse(cidr.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture), bytes.Length * 8);
        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return new System.Net.IPNetwork(new System.Net.IPAddress(bytes), length);
    }

    /// <summary>The listener the chain belongs to.</summary>
    public ListenerPlan Listener { get; }

    /// <summary>The chain's plan.</summary>
    public FilterChainPlan Chain { get; }

    public ConnectionManagerPlan ConnectionManager => Chain.ConnectionManager;

    /// <summary>A plain-text chain on an HTTP/2-only endpoint: its codec is known at accept (over TLS, ALPN tells).</summary>
    public bool FixedHttp2 { get; }

    public RouteTable<RouteRuntime> Routes { get; }

    public ConnectionManagerStats Stats { get; }

    public RouterStats RouterStats { get; }

    public ListenerStats ListenerStats { get; }

    /// <summary>The connection manager's tracing, or null when it does not trace (then nothing of tracing runs).</summary>
    public Tracing.ConnectionManagerTracing? Tracing { get; init; }

    /// <summary>The HTTP filters before the router, compiled for this listener.</summary>
    public Filters.HttpFilterChain Filters { get; }

    /// <summary>The connection manager's access loggers, written when each request ends (empty: nothing to do).</summary>
    public AccessLog.AccessLogger[] AccessLogs { get; init; } = [];

    /// <summary>The router's upstream loggers (<c>upstream_log</c>), written as each upstream attempt ends.</summary>
    public AccessLog.AccessLogger[] UpstreamLogs { get; init; } = [];

    /// <summary>The filter chain's TLS termination, or null for plain text.</summary>
    public Gateway.Tls.DownstreamTls? Tls { get; init; }

    /// <summary>The chain's TCP proxy, or null for an HTTP chain (then its connections go to the connection manager).</summary>
    public TcpProxy.TcpProxyRuntime? TcpProxy { get; init; }

    /// <summary>The gateway's random source (runtime filters of <c>local_reply_config</c> mappers draw from it).</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>The root codec stats, when <c>headers_with_underscores_action</c> is not ALLOW; else null.</summary>
    public CodecStats? CodecStats { get; init; }

    /// <summary>With <c>add_user_agent</c>, the bootstrap's node whose cluster and id the request headers carry; else null.</summary>
    public Tracing.LocalNode? UserAgentNode { get; init; }

    /// <summary>The chain's non-terminal network filters (connection_limit, local_ratelimit), in order (run on each new connection).</summary>
    public ConnectionAdmission[] NetworkFilters { get; init; } = [];

    /// <summary>The connection manager's <c>original_ip_detection_extensions</c>, in order; null without any.</summary>
    public OriginalIpDetector[]? OriginalIpDetectors { get; init; }

    /// <summary>Envoy's SslRedirectRoute: a direct response 301 with no body; the router adds the https <c>location</c>.</summary>
    private static RoutePlan SslRedirectPlan(Configuration.VirtualHost vhost)
        => new(vhost.Name!, -1, null, null, TimeSpan.Zero, HostRewriteMode.None, null, null, new DirectResponsePlan(StatusCodes.Status301MovedPermanently, []), null);

    /// <summary>
    /// The routes of a route's weighted cluster entries: the entry's request and response header parsers run before the
    /// route's levels (Envoy's WeightedClusterEntry::finalizeRequestHeaders / finalizeResponseHeaders), and its per-filter
    /// configuration is the most specific level.
    /// </summary>
    private static Router.WeightedRoutes BuildWeightedRoutes(RouteRuntime route, WeightedClustersPlan weighted, ClusterRegistry clusters, Gateway.Filters.HttpFilterChain chain,
        ConnectionManagerPlan connectionManager, Filters.FilterServices? services, Dictionary<object, object> compiledRouteConfigs, Formatting.FormatterOptions formatterOptions)
    {
        var entries = new RouteRuntime[weighted.Clusters.Count];
        var weights = new uint[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = weighted.Clusters[i];
            var headers = entry.HeaderSource is { } source
                ? route.Headers.WithClusterLevel(
                    HeaderParser.Compile(source.RequestHeadersToAdd, source.RequestHeadersToRemove, formatterOptions),
                    HeaderParser.Compile(source.ResponseHeadersToAdd, source.ResponseHeadersToRemove, formatterOptions))
                : route.Headers;
            var filterStates = entry.FilterConfigs is { } configs ? chain.CompileRoute(connectionManager, configs, services!, compiledRouteConfigs) : route.FilterStates;
            entries[i] = route.ForWeightedEntry(entry, clusters, headers, filterStates);
            weights[i] = entry.Weight;
        }
        return new Router.WeightedRoutes(entries, weights, weighted.RandomValueHeader, weighted.UseHashPolicy ? route.HashPolicy : null);
    }

    /// <summary>Compiles one chain of a listener against the cluster registry and stats store (and, with filters, the services they are built with).</summary>
    public static ListenerRuntime Build(ListenerPlan listener, FilterChainPlan chainPlan, ClusterRegistry clusters, StatsStore store, Filters.FilterServices? services = null, Tracing.TracerManager? tracers = null, Tracing.LocalNode? node = null, Tls.SdsSubscriptions? secrets = null)
    {
        if (chainPlan.TcpProxy is { } tcpProxy)
        {
            return BuildTcpProxy(listener, chainPlan, tcpProxy, clusters, store, services, secrets);
        }
        var plan = chainPlan;
        var chain = plan.ConnectionManager.HttpFilters.Count == 0 ? Gateway.Filters.HttpFilterChain.Empty
            : Gateway.Filters.HttpFilterChain.Build(plan.ConnectionManager, services ?? throw new ArgumentNullException(nameof(services), "a listener with HTTP filters needs the services to build them"));
        var compiledRouteConfigs = new Dictionary<object, object>(ReferenceEqualityComparer.Instance);
        var headerParsers = new Dictionary<object, (HeaderParser, HeaderParser)>(ReferenceEqualityComparer.Instance);
        var formatterOptions = new Formatting.FormatterOptions { Time = services?.Time ?? TimeProvider.System, Random = services?.Random ?? Random.Shared };
        var plans = new Dictionary<Configuration.Route, RoutePlan>(ReferenceEqualityComparer.Instance);
        foreach (var routePlan in plan.ConnectionManager.Routes)
        {
            plans[routePlan.Source!] = routePlan;
        }
        var virtualClusters = new Dictionary<Configuration.VirtualHost, VirtualClusters?>(ReferenceEqualityComparer.Instance);
        var table = RouteTable<RouteRuntime>.Build(plan.ConnectionManager.RouteConfig, (vhost, route) =>
        {
            var routePlan = plans[route];
            // A cluster the configuration does not have (RDS and validate_clusters false, or removed by CDS): Envoy's 503 NC.
            var cluster = routePlan.Cluster is null ? null : clusters.Find(routePlan.Cluster);
            if (!virtualClusters.TryGetValue(vhost, out var vclusters))
            {
                vclusters = VirtualClusters.Build(vhost, store);
                virtualClusters.Add(vhost, vclusters);
            }
            var runtime = new RouteRuntime(routePlan, cluster, route.Match?.Prefix ?? route.Match?.Path ?? route.Match?.PathSeparatedPrefix ?? (route.Match?.PathMatchPolicy?.TypedConfig as Configuration.UriTemplateMatchConfig)?.PathTemplate, plan.ConnectionManager.RouteConfigMetadata)
            {
                FilterStates = chain.CompileRoute(plan.ConnectionManager, routePlan.FilterConfigs, services!, compiledRouteConfigs),
                Mirrors = Router.ShadowPolicy.Compile(routePlan.Mirrors, clusters),
                ClusterSpecifier = Router.ClusterSpecifier.For(routePlan, clusters),
                VirtualClusters = vclusters,
                Stats = routePlan.StatPrefix is { } statPrefix ? new RequestClassStats(store, "vhost." + routePlan.VirtualHost + ".route." + statPrefix + ".") : null,
                Headers = routePlan.Headers?.Compile(formatterOptions, headerParsers) ?? HeaderMutationSet.Empty,
            };
            if (routePlan.WeightedClusters is { } weighted)
            {
                runtime.SetWeighted(BuildWeightedRoutes(runtime, weighted, clusters, chain, plan.ConnectionManager, services, compiledRouteConfigs, formatterOptions));
            }
            return runtime;
        }, vhost => new RouteRuntime(SslRedirectPlan(vhost), null, null, plan.ConnectionManager.RouteConfigMetadata) { IsSslRedirect = true });
        foreach (var vhost in plan.ConnectionManager.RouteConfig.VirtualHosts)
        {
            // Envoy makes a virtual host's virtual cluster stats with the host, also when it has no routes.
            if (!virtualClusters.ContainsKey(vhost))
            {
                virtualClusters.Add(vhost, VirtualClusters.Build(vhost, store));
            }
        }
        var listenerStats = new ListenerStats(store, listener.StatScope);
        var statPrefix = plan.ConnectionManager.StatPrefix;
        var stats = new ConnectionManagerStats(store, statPrefix, listener.StatScope);
        Tracing.ConnectionManagerTracing? tracing = null;
        if (plan.ConnectionManager.Tracing is { } tracingPlan)
        {
            var tracer = tracingPlan.Provider is { } provider && tracers is not null ? tracers.For(provider) : Gateway.Tracing.NullTracer.Instance;
            tracing = new Tracing.ConnectionManagerTracing(tracingPlan, tracer, node ?? Gateway.Tracing.LocalNode.From(null), stats.Tracing, tracers?.Context.Random ?? services?.Random ?? Random.Shared)
            {
                UpstreamSpans = plan.ConnectionManager.StartChildSpan || tracingPlan.SpawnUpstreamSpan,
                Time = tracers?.Context.Time ?? services?.Time ?? TimeProvider.System,
            };
        }
        var accessLogs = BuildLogs(plan.ConnectionManager.AccessLogs, services);
        var upstreamLogs = BuildLogs(plan.ConnectionManager.UpstreamLogs, services);
        return new ListenerRuntime(listener, chainPlan, table, stats, new RouterStats(store, statPrefix), listenerStats, chain)
        {
            Tracing = tracing,
            AccessLogs = accessLogs,
            UpstreamLogs = upstreamLogs,
            Random = services?.Random ?? Random.Shared,
            Tls = plan.Tls is { } tls ? Gateway.Tls.DownstreamTls.Build(tls, new TlsStats(store, listenerStats.Scope), secrets) : null,
            UserAgentNode = plan.ConnectionManager.AddUserAgent ? node ?? Gateway.Tracing.LocalNode.From(null) : null,
            OriginalIpDetectors = OriginalIpDetector.From(plan.ConnectionManager.OriginalIpDetection),
            NetworkFilters = BuildNetworkFilters(plan.NetworkFilters, store, services),
            CodecStats = plan.ConnectionManager.HeadersWithUnderscores != Configuration.HeadersWithUnderscoresAction.Allow ? new CodecStats(store) : null,
        };
    }

    /// <summary>
    /// A TCP proxy chain: its TCP proxy and TLS termination, and the listener's stats. Its connections never reach HTTP, so
    /// the connection manager's parts are empty and their stats go to a store nothing reads (Envoy has no <c>http.*</c>
    /// stats for such a chain).
    /// </summary>
    private static ListenerRuntime BuildTcpProxy(ListenerPlan listener, FilterChainPlan chainPlan, TcpProxyPlan tcpProxy, ClusterRegistry clusters, StatsStore store, Filters.FilterServices? services, Tls.SdsSubscriptions? secrets)
    {
        var unread = new StatsStore();
        var listenerStats = new ListenerStats(store, listener.StatScope);
        var routes = RouteTable<RouteRuntime>.Build(chainPlan.ConnectionManager.RouteConfig, static (_, _) => throw new InvalidOperationException("a TCP proxy chain has no routes"), static _ => throw new InvalidOperationException("a TCP proxy chain has no routes"));
        return new ListenerRuntime(listener, chainPlan, routes, new ConnectionManagerStats(unread, "tcp_proxy", listener.StatScope), new RouterStats(unread, "tcp_proxy"), listenerStats)
        {
            TcpProxy = Gateway.TcpProxy.TcpProxyRuntime.Build(tcpProxy, clusters, store, services),
            NetworkFilters = BuildNetworkFilters(chainPlan.NetworkFilters, store, services),
            Random = services?.Random ?? Random.Shared,
            Tls = chainPlan.Tls is { } tls ? Gateway.Tls.DownstreamTls.Build(tls, new TlsStats(store, listenerStats.Scope), secrets) : null,
        };
    }

    /// <summary>Compiles access logs against the gateway's log manager, clock and random source.</summary>
    internal static AccessLog.AccessLogger[] BuildLogs(IReadOnlyList<AccessLog.AccessLogPlan> plans, Filters.FilterServices? services)
        => AccessLog.AccessLogger.Build(
            plans,
            services?.Services.GetService(typeof(AccessLog.AccessLogManager)) as AccessLog.AccessLogManager,
            services?.Time ?? TimeProvider.System,
            services?.Random ?? Random.Shared);

    private static ConnectionAdmission[] BuildNetworkFilters(IReadOnlyList<NetworkFilterPlan> plans, StatsStore store, Filters.FilterServices? services)
    {
        if (plans.Count == 0)
        {
            return [];
        }
        var time = services?.Time ?? TimeProvider.System;
        var filters = new ConnectionAdmission[plans.Count];
        for (var i = 0; i < filters.Length; i++)
        {
            filters[i] = plans[i] switch
            {
                ConnectionLimitPlan limit => new ConnectionLimiter(store, limit.StatPrefix, limit.MaxConnections, limit.Delay),
                LocalRateLimitPlan rateLimit => new ConnectionRateLimiter(store, rateLimit.StatPrefix, Bucket(rateLimit, services, time)),
                _ => throw new InvalidOperationException("unknown network filter plan " + plans[i].GetType().Name),
            };
        }
        return filters;
    }

    /// <summary>A rate limit's bucket: the shared one of its <c>share_key</c> (the gateway's registry), else its own.</summary>
    private static RateLimit.TokenBucketState Bucket(LocalRateLimitPlan plan, Filters.FilterServices? services, TimeProvider time)
        => plan.ShareKey is { } key && services?.Services.GetService(typeof(RateLimit.SharedTokenBuckets)) is RateLimit.SharedTokenBuckets shared
            ? shared.Get(key, plan.MaxTokens, plan.TokensPerFill, plan.FillInterval, time)
            : new RateLimit.TokenBucketState(plan.MaxTokens, plan.TokensPerFill, plan.FillInterval, time);
}

/// <summary>
/// The connection-level feature that ties a Kestrel endpoint to a listener. Stable for the life of the
/// process; <see cref="Current"/> is swapped when a new configuration is applied.
/// </summary>
internal sealed class ListenerSlot
{
    private ListenerChains? _current;

    public ListenerSlot(string name, bool isAdmin)
    {
        Name = name;
        IsAdmin = isAdmin;
    }

    public string Name { get; }

    public bool IsAdmin { get; }

    /// <summary>The listener's chains as configured now (a connection keeps the chain it was given at accept).</summary>
    public ListenerChains? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }
}
