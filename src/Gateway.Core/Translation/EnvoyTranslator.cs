using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Validation;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Translation;

/// <summary>Turns a validated Envoy bootstrap into a <see cref="GatewayPlan"/>. Pure: no sockets, no DNS, no clocks.</summary>
public static class EnvoyTranslator
{
    /// <summary>Envoy's default route timeout.</summary>
    public static readonly TimeSpan DefaultRouteTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Envoy's default cluster connect timeout.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Envoy's default DNS refresh rate.</summary>
    public static readonly TimeSpan DefaultDnsRefreshRate = TimeSpan.FromSeconds(5);

    /// <summary>
    /// YARP's idle (activity) timeout for upstream exchanges, as long as a timer allows (about 24 days): the connection
    /// manager's stream idle timer (<c>stream_idle_timeout</c>, a route's <c>idle_timeout</c>) is Envoy's limit and ends
    /// the request itself; a shorter YARP limit would cut streams Envoy lets run.
    /// </summary>
    public static readonly TimeSpan UpstreamActivityTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>YARP route metadata key marking the routes this gateway dispatches to itself.</summary>
    public const string RouteKindMetadata = "gateway.envoy.cluster_route";

    /// <summary>YARP cluster metadata marking the clusters this gateway owns (its client factory and membership apply to those only).</summary>
    public const string ClusterKindMetadata = "gateway.envoy.cluster";

    /// <summary>Cluster metadata: connect timeout in milliseconds.</summary>
    public const string ConnectTimeoutMetadata = "envoy.connect_timeout_ms";

    /// <summary>Set ("true") on a cluster whose connections are pooled per request host (<see cref="UpstreamTransportPlan.FollowsRequestHost"/>).</summary>
    public const string HostPoolsMetadata = "envoy.host_connection_pools";

    /// <summary>The cluster's upstream protocol and pool settings (<see cref="UpstreamProtocolPlan.ToMetadata"/>); absent for Envoy's defaults.</summary>
    public const string ProtocolMetadata = "envoy.upstream_protocol";

    /// <summary>Destination metadata: the cluster's discovery type for DNS clusters.</summary>
    public const string DiscoveryTypeMetadata = "envoy.discovery_type";

    /// <summary>Destination metadata: dns_lookup_family.</summary>
    public const string DnsLookupFamilyMetadata = "envoy.dns_lookup_family";

    /// <summary>Destination metadata: dns_refresh_rate in milliseconds.</summary>
    public const string DnsRefreshRateMetadata = "envoy.dns_refresh_rate_ms";

    /// <summary>Destination metadata: the index in <see cref="ClusterPlan.Endpoints"/> of an endpoint that has <c>metadata</c>.</summary>
    public const string EndpointIndexMetadata = "gateway.envoy.endpoint_index";

    /// <summary>The YARP available-destinations policy that applies the gateway's host health and Envoy's panic threshold.</summary>
    public const string AvailableDestinationsPolicy = "Envoy";

    /// <summary>The YARP route id for a cluster.</summary>
    public static string RouteIdFor(string cluster) => "envoy-cluster/" + cluster;

    /// <summary>Translates; the bootstrap must have passed <see cref="BootstrapValidator"/> with the same <paramref name="types"/>.</summary>
    public static GatewayPlan Translate(Bootstrap bootstrap, EnvoyTypeRegistry? types = null) => Translate(bootstrap, types, null);

    /// <summary>
    /// Translates a configuration the configuration manager composed: connection managers may take their route tables
    /// from RDS (<see cref="TranslationInputs.RdsRoutes"/>: null, none yet, every request 404 NR, as Envoy serves a
    /// route table that never arrived), and what an earlier translation made from an unchanged resource is reused
    /// (<see cref="TranslationCache"/>), so an update costs what it changes.
    /// </summary>
    internal static GatewayPlan Translate(Bootstrap bootstrap, EnvoyTypeRegistry? types, TranslationInputs? inputs)
    {
        var rdsRoutes = inputs?.RdsRoutes;
        var cache = inputs?.Cache;
        ArgumentNullException.ThrowIfNull(bootstrap);
        types ??= EnvoyTypeRegistry.CreateDefault();
        AdminPlan? admin = null;
        if (bootstrap.Admin?.Address?.SocketAddress is { } adminSocket)
        {
            admin = new AdminPlan(adminSocket.Address!, (int)adminSocket.PortValue!.Value) { AccessLogs = AccessLog.AccessLogCompiler.CompileAdmin(bootstrap.Admin) };
        }

        var listeners = new List<ListenerPlan>();
        var clusterPlans = new List<ClusterPlan>();
        var routes = new List<RouteConfig>();
        var clusters = new List<ClusterConfig>();
        var resources = bootstrap.StaticResources ?? new StaticResources();
        var secrets = Tls.TlsSecrets.From(resources, types);

        var clusterNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cluster in resources.Clusters)
        {
            clusterNames.Add(cluster.Name ?? string.Empty);
        }
        var listenerCache = new Dictionary<Configuration.Listener, TranslationCache.ListenerEntry>(ReferenceEqualityComparer.Instance);
        foreach (var listener in resources.Listeners)
        {
            if (cache?.Listeners.TryGetValue(listener, out var cached) == true && cached.StillValid(clusterNames, rdsRoutes))
            {
                listeners.Add(cached.Plan);
                listenerCache[listener] = cached;
                continue;
            }
            var tables = new List<(Rds, RouteConfiguration?)>();
            Func<Rds, RouteConfiguration?>? recording = rdsRoutes is null ? null : rds =>
            {
                var table = rdsRoutes(rds);
                tables.Add((rds, table));
                return table;
            };
            var plan = TranslateListener(listener, new ChainScope(types, bootstrap.Tracing, secrets, clusterNames, recording));
            if (inputs?.LdsListeners?.Contains(listener) == true)
            {
                plan = plan with { FromLds = true };
            }
            listeners.Add(plan);
            listenerCache[listener] = new TranslationCache.ListenerEntry(plan, clusterNames, [.. tables]);
        }

        var localCluster = bootstrap.ClusterManager?.LocalClusterName is { Length: > 0 } local ? local : null;
        var nodeLocality = bootstrap.Node?.Locality is { } l
            ? new LocalityPlan(l.Region ?? string.Empty, l.Zone ?? string.Empty, l.SubZone ?? string.Empty)
            : null;
        var clusterCache = new Dictionary<Cluster, TranslationCache.ClusterEntry>(ReferenceEqualityComparer.Instance);
        foreach (var cluster in resources.Clusters)
        {
            if (cache?.Clusters.TryGetValue(cluster, out var entry) != true)
            {
                var plan = TranslateCluster(cluster, localCluster, nodeLocality, secrets);
                entry = new TranslationCache.ClusterEntry(plan, ToYarpCluster(plan), new RouteConfig
                {
                    RouteId = RouteIdFor(plan.Name),
                    ClusterId = plan.Name,
                    Match = new Yarp.ReverseProxy.Configuration.RouteMatch { Path = "/{**envoy-catch-all}" },
                    Metadata = new Dictionary<string, string> { [RouteKindMetadata] = "true" },
                });
            }
            clusterCache[cluster] = entry!;
            clusterPlans.Add(entry!.Plan);
            clusters.Add(entry.Yarp);
            routes.Add(entry.Route);
        }
        if (cache is not null)
        {
            // Only what this configuration has stays cached.
            cache.Clusters = clusterCache;
            cache.Listeners = listenerCache;
        }
        return new GatewayPlan(admin, listeners, routes, clusters, clusterPlans) { Node = Gateway.Tracing.LocalNode.From(bootstrap.Node) };
    }

    /// <summary>What translating a filter chain needs besides the chain.</summary>
    private sealed record ChainScope(EnvoyTypeRegistry Types, BootstrapTracing? BootstrapTracing, Tls.TlsSecrets Secrets, IReadOnlySet<string> ClusterNames, Func<Rds, RouteConfiguration?>? RdsRoutes);

    private static ListenerPlan TranslateListener(Configuration.Listener listener, ChainScope scope)
    {
        var socket = listener.Address!.SocketAddress!;
        var address = socket.Address!;
        var port = (int)socket.PortValue!.Value;
        var chains = new FilterChainPlan[listener.FilterChains.Count];
        var protocols = HttpProtocols.None;
        for (var i = 0; i < chains.Length; i++)
        {
            chains[i] = TranslateFilterChain(listener, listener.FilterChains[i], scope);
            protocols |= chains[i].Protocols;
        }
        var defaultChain = listener.DefaultFilterChain is { } fallback ? TranslateFilterChain(listener, fallback, scope) with { Match = FilterChainMatchPlan.Any } : null;
        protocols |= defaultChain?.Protocols ?? HttpProtocols.None;
        // Validation admits only the TLS inspector, once.
        var inspector = listener.ListenerFilters.Count != 0;
        if (protocols == HttpProtocols.None)
        {
            // Only TCP proxy chains: no connection reaches HTTP, but Kestrel's endpoint needs a protocol.
            protocols = HttpProtocols.Http1;
        }
        return new ListenerPlan(
            Name: string.IsNullOrEmpty(listener.Name) ? DefaultListenerName(address, port) : listener.Name,
            Address: address,
            Port: port,
            // One Kestrel endpoint speaks every chain's protocols; validation made sure Kestrel's choice per connection
            // (ALPN over TLS, HTTP/1.1 in plain text unless the endpoint is HTTP/2 only) is each chain's codec.
            Protocols: protocols,
            StatScope: StatNames.ListenerScope(listener.StatPrefix, address, port),
            FilterChains: chains)
        {
            AccessLogs = AccessLog.AccessLogCompiler.Compile(listener.AccessLog),
            Definition = listener,
            DefaultFilterChain = defaultChain,
            TlsInspector = inspector,
            ListenerFiltersTimeout = listener.ListenerFiltersTimeout ?? TimeSpan.FromSeconds(15),
            TcpBacklogSize = listener.TcpBacklogSize is { } backlog ? (int)Math.Min(backlog, int.MaxValue) : null,
            SocketOptions = SocketOptions(listener.SocketOptions),
            ContinueOnListenerFiltersTimeout = listener.ContinueOnListenerFiltersTimeout,
        };
    }

    /// <summary>The protocols Kestrel speaks for a chain: ALPN's over TLS, the codec's in plain text (AUTO is HTTP/1.1 there).</summary>
    internal static HttpProtocols ChainProtocols(HttpConnectionManager hcm, TransportSocket? transportSocket)
        => transportSocket is not null ? DownstreamTlsPlan.ProtocolsFor(hcm.CodecType, transportSocket)
            : hcm.CodecType == CodecType.Http2 ? HttpProtocols.Http2 : HttpProtocols.Http1;

    private static FilterChainPlan TranslateFilterChain(Configuration.Listener listener, FilterChain chain, ChainScope scope)
    {
        var (types, bootstrapTracing, secrets, clusterNames, _) = scope;
        var networkFilters = NetworkFilters(chain);
        if (chain.Filters[^1].TypedConfig is TcpProxyConfig tcpProxy)
        {
            // Any ALPN protocol of the chain's TLS context that HTTP names is offered; the chain speaks no HTTP itself.
            return new FilterChainPlan(string.IsNullOrEmpty(chain.Name) ? null : chain.Name, HttpProtocols.None, TcpProxyPlan.NoConnectionManager)
            {
                Match = FilterChainMatchPlan.From(chain.FilterChainMatch),
                Tls = DownstreamTlsPlan.Translate(chain.TransportSocket, HttpProtocols.Http1AndHttp2, secrets),
                TcpProxy = TcpProxyPlan.Translate(tcpProxy, clusterNames),
                NetworkFilters = networkFilters,
            };
        }
        // The terminal filter is the last (validation): connection_limit and local_ratelimit filters may come before it.
        var hcm = (HttpConnectionManager)chain.Filters[^1].TypedConfig!;
        RouterFilterConfig? router = null;
        var filters = new List<HttpFilterPlan>();
        foreach (var filter in hcm.HttpFilters)
        {
            // Optional filters this gateway does not know are skipped, as Envoy skips them.
            if (Filters.HttpFilterChainValidator.Resolve(filter, types, out var config) is not { } factory)
            {
                continue;
            }
            if (config is RouterFilterConfig routerConfig)
            {
                router = routerConfig;
                continue;
            }
            filters.Add(new HttpFilterPlan(filter.Name!, factory.Name, filter.Disabled) { Factory = factory, Config = config! });
        }

        var routePlans = new List<RoutePlan>();
        // Validation made it one or the other; an RDS table that never arrived is an empty one of its name.
        var routeConfig = hcm.RouteConfig ?? scope.RdsRoutes?.Invoke(hcm.Rds!) ?? new RouteConfiguration { Name = hcm.Rds!.RouteConfigName };
        foreach (var vhost in routeConfig.VirtualHosts)
        {
            var vhostMetadata = EnvoyMetadata.From(vhost.Metadata);
            for (var i = 0; i < vhost.Routes.Count; i++)
            {
                var route = vhost.Routes[i];
                routePlans.Add(TranslateRoute(vhost, vhostMetadata, i, route) with
                {
                    FilterConfigs = PerFilterConfigs(filters, route.TypedPerFilterConfig, vhost.TypedPerFilterConfig, routeConfig.TypedPerFilterConfig),
                    WeightedClusters = route.Action?.WeightedClusters is { } weighted ? TranslateWeightedClusters(weighted, filters, routeConfig, vhost, route) : null,
                    Headers = Routing.HeaderMutationPlan.Any(route, vhost, routeConfig) ? new Routing.HeaderMutationPlan(route, vhost, routeConfig) : null,
                    Mirrors = TranslateMirrors(routeConfig, vhost, route),
                });
            }
        }

        var accessLogs = AccessLog.AccessLogCompiler.Compile(hcm.AccessLog);
        var upstreamLogs = AccessLog.AccessLogCompiler.Compile(router?.UpstreamLog ?? []);
        var plan = new ConnectionManagerPlan(
            StatPrefix: hcm.StatPrefix!,
            ServerName: string.IsNullOrEmpty(hcm.ServerName) ? "envoy" : HeaderBytes.FromConfig(hcm.ServerName),
            ServerHeaderTransformation: hcm.ServerHeaderTransformation,
            GenerateRequestId: hcm.GenerateRequestId ?? true,
            PreserveExternalRequestId: hcm.PreserveExternalRequestId,
            AlwaysSetRequestIdInResponse: hcm.AlwaysSetRequestIdInResponse,
            SuppressEnvoyHeaders: router?.SuppressEnvoyHeaders ?? false,
            RouteConfigName: routeConfig.Name ?? string.Empty,
            Routes: routePlans)
        {
            RouteConfig = routeConfig,
            RouteConfigMetadata = EnvoyMetadata.From(routeConfig.Metadata),
            InternalOnlyHeaders = routeConfig.InternalOnlyHeaders.Count == 0 ? [] : routeConfig.InternalOnlyHeaders.Where(h => h.Length != 0).Select(h => h.ToLowerInvariant()).ToArray(),
            InternalAddressRanges = hcm.InternalAddressConfig?.CidrRanges.Select(r => $"{r.AddressPrefix}/{r.PrefixLen ?? 0}").ToArray() ?? [],
            HasRouter = hcm.HttpFilters.Count > 0,
            HttpFilters = filters,
            Upgrades = UpgradeTranslation.ForConnectionManager(hcm),
            Tracing = Gateway.Tracing.TracingCompiler.Compile(hcm.Tracing, bootstrapTracing, listener.TrafficDirection, types),
            StartChildSpan = router?.StartChildSpan ?? false,
            AccessLogs = accessLogs,
            FlushAccessLogOnNewRequest = accessLogs.Count > 0 && (hcm.AccessLogOptions?.FlushAccessLogOnNewRequest ?? hcm.FlushAccessLogOnNewRequest),
            FlushLogOnTunnelEstablished = accessLogs.Count > 0 && hcm.AccessLogOptions?.FlushLogOnTunnelSuccessfullyEstablished == true,
            UpstreamLogs = upstreamLogs,
            // Envoy's HttpConnectionManagerConfig: the options' interval, else the deprecated field's (never both).
            AccessLogFlushInterval = accessLogs.Count > 0 ? WholeMilliseconds(hcm.AccessLogOptions is { } logOptions ? logOptions.AccessLogFlushInterval : hcm.AccessLogFlushInterval) : null,
            UpstreamLogFlushInterval = upstreamLogs.Count > 0 ? WholeMilliseconds(router?.UpstreamLogOptions?.UpstreamLogFlushInterval) : null,
            FlushUpstreamLogOnUpstreamStream = upstreamLogs.Count > 0 && router?.UpstreamLogOptions?.FlushUpstreamLogOnUpstreamStream == true,
            // The loggers' %BYTES_RECEIVED% / %BYTES_SENT% (a sampled span's sizes are counted per request: ConnectionManager).
            CountsBodyBytes = AccessLog.AccessLogCompiler.NeedsBodyBytes(accessLogs),
            NormalizePath = hcm.NormalizePath ?? false,
            MergeSlashes = hcm.MergeSlashes,
            StripTrailingHostDot = hcm.StripTrailingHostDot,
            StripPort = hcm.StripAnyHostPort ? StripPortMode.Any : hcm.StripMatchingHostPort ? StripPortMode.MatchingListener : StripPortMode.None,
            MaxRequestHeadersBytes = (int)(hcm.MaxRequestHeadersKb ?? ConnectionManagerPlan.DefaultMaxRequestHeadersKb) * 1024,
            StreamIdleTimeout = hcm.StreamIdleTimeout ?? ConnectionManagerPlan.DefaultStreamIdleTimeout,
            RequestTimeout = hcm.RequestTimeout ?? TimeSpan.Zero,
            RequestHeadersTimeout = hcm.RequestHeadersTimeout ?? TimeSpan.Zero,
            DelayedCloseTimeout = hcm.DelayedCloseTimeout ?? ConnectionManagerPlan.DefaultDelayedCloseTimeout,
            DrainTimeout = hcm.DrainTimeout ?? ConnectionManagerPlan.DefaultDrainTimeout,
            UseRemoteAddress = hcm.UseRemoteAddress ?? false,
            XffNumTrustedHops = hcm.XffNumTrustedHops,
            SkipXffAppend = hcm.SkipXffAppend,
            AppendXForwardedPort = hcm.AppendXForwardedPort,
            SchemeToOverwrite = hcm.SchemeHeaderTransformation?.SchemeToOverwrite,
            IdleTimeout = hcm.CommonHttpProtocolOptions?.IdleTimeout ?? ConnectionManagerPlan.DefaultIdleTimeout,
            MaxHeadersCount = (int)(hcm.CommonHttpProtocolOptions?.MaxHeadersCount ?? Listeners.DownstreamRequestValidator.MaxRequestHeadersCount),
            Http2 = DownstreamHttp2Plan.From(hcm.Http2ProtocolOptions),
            AllowExtendedConnect = hcm.Http2ProtocolOptions?.AllowConnect ?? false,
            OriginalIpDetection = OriginalIpDetection(hcm),
            BufferLimit = listener.PerConnectionBufferLimitBytes switch
            {
                null => ConnectionManagerPlan.DefaultBufferLimit,
                0 => Array.MaxLength,
                var limit => (int)Math.Min(limit.Value, (uint)Array.MaxLength),
            },
            AcceptHttp10 = hcm.HttpProtocolOptions?.AcceptHttp10 ?? false,
            DefaultHostForHttp10 = hcm.HttpProtocolOptions?.DefaultHostForHttp10 is { Length: > 0 } defaultHost ? defaultHost : null,
            AllowChunkedLength = hcm.HttpProtocolOptions?.AllowChunkedLength ?? false,
            ProperCaseHeaders = hcm.HttpProtocolOptions?.HeaderKeyFormat?.ProperCaseWords is not null,
            HeadersWithUnderscores = hcm.CommonHttpProtocolOptions?.HeadersWithUnderscoresAction ?? HeadersWithUnderscoresAction.Allow,
            MaxRequestsPerConnection = hcm.CommonHttpProtocolOptions?.MaxRequestsPerConnection ?? 0,
            MaxConnectionDuration = hcm.CommonHttpProtocolOptions?.MaxConnectionDuration is { } connectionDuration && connectionDuration > TimeSpan.Zero ? connectionDuration : null,
            MaxStreamDuration = hcm.CommonHttpProtocolOptions?.MaxStreamDuration is { } hcmDuration && hcmDuration > TimeSpan.Zero ? hcmDuration : null,
            AddUserAgent = hcm.AddUserAgent ?? false,
            Proxy100Continue = hcm.Proxy100Continue,
            Via = string.IsNullOrEmpty(hcm.Via) ? string.Empty : HeaderBytes.FromConfig(hcm.Via),
            LocalReply = hcm.LocalReplyConfig is { } localReply ? LocalReplyRewriter.Compile(localReply) : null,
            ForwardClientCert = hcm.ForwardClientCertDetails,
            ClientCertDetails = Gateway.Tls.ClientCertDetailsPlan.From(hcm.SetCurrentClientCertDetails),
            PackTraceReason = (hcm.RequestIdExtension?.TypedConfig as UuidRequestIdConfig)?.PackTraceReason ?? true,
            UseRequestIdForTraceSampling = (hcm.RequestIdExtension?.TypedConfig as UuidRequestIdConfig)?.UseRequestIdForTraceSampling ?? true,
            PathWithEscapedSlashesAction = hcm.PathWithEscapedSlashesAction == PathWithEscapedSlashesAction.ImplementationSpecificDefault
                ? PathWithEscapedSlashesAction.KeepUnchanged
                : hcm.PathWithEscapedSlashesAction,
        };

        // Kestrel cannot detect HTTP/2 prior knowledge on a plain-text endpoint that also speaks HTTP/1.1: AUTO
        // therefore serves HTTP/1.1 in plain text (docs/compatibility.md); over TLS ALPN chooses.
        var protocols = ChainProtocols(hcm, chain.TransportSocket);
        return new FilterChainPlan(string.IsNullOrEmpty(chain.Name) ? null : chain.Name, protocols, plan)
        {
            Match = FilterChainMatchPlan.From(chain.FilterChainMatch),
            Tls = DownstreamTlsPlan.Translate(chain.TransportSocket, protocols, secrets),
            NetworkFilters = networkFilters,
        };
    }

    /// <summary>The name of a listener that has none (Envoy makes a UUID; an address is stable and readable).</summary>
    public static string DefaultListenerName(string address, int port) => $"{address}_{port}";

    /// <summary>The chain's non-terminal network filters (validated), in order.</summary>
    private static NetworkFilterPlan[] NetworkFilters(FilterChain chain)
    {
        List<NetworkFilterPlan>? plans = null;
        foreach (var filter in chain.Filters)
        {
            switch (filter.TypedConfig)
            {
                case ConnectionLimitConfig limit:
                    (plans ??= []).Add(new ConnectionLimitPlan(limit.StatPrefix!, limit.MaxConnections ?? ulong.MaxValue, limit.Delay is { } delay && delay > TimeSpan.Zero ? delay : null));
                    break;
                case NetworkLocalRateLimitConfig { TokenBucket: { } bucket } rateLimit:
                    (plans ??= []).Add(new LocalRateLimitPlan(rateLimit.StatPrefix!, bucket.MaxTokens, bucket.TokensPerFill ?? 1, bucket.FillInterval!.Value,
                        string.IsNullOrEmpty(rateLimit.ShareKey) ? null : rateLimit.ShareKey));
                    break;
            }
        }
        return plans is null ? [] : [.. plans];
    }

    /// <summary>A listener's <c>socket_options</c> (validated: integer values, not <c>STATE_LISTENING</c>).</summary>
    private static SocketOptionPlan[] SocketOptions(List<SocketOption> options)
    {
        if (options.Count == 0)
        {
            return [];
        }
        var plans = new SocketOptionPlan[options.Count];
        for (var i = 0; i < plans.Length; i++)
        {
            var option = options[i];
            plans[i] = new SocketOptionPlan((int)option.Level, (int)option.Name, (int)option.IntValue!.Value, option.State == SocketOptionState.StateBound);
        }
        return plans;
    }

    /// <summary>The connection manager's <c>original_ip_detection_extensions</c> (validated), or null without any.</summary>
    private static OriginalIpDetectionPlan[]? OriginalIpDetection(HttpConnectionManager hcm)
    {
        if (hcm.OriginalIpDetectionExtensions.Count == 0)
        {
            return null;
        }
        var plans = new OriginalIpDetectionPlan[hcm.OriginalIpDetectionExtensions.Count];
        for (var i = 0; i < plans.Length; i++)
        {
            plans[i] = hcm.OriginalIpDetectionExtensions[i].TypedConfig switch
            {
                CustomHeaderConfig custom => new OriginalIpDetectionPlan(custom.HeaderName!.ToLowerInvariant(), custom.AllowExtensionToSetAddressAsTrusted,
                    custom.RejectWithStatus is { } status ? (int)status.Code : null, 0),
                XffConfig xff => new OriginalIpDetectionPlan(null, false, null, xff.XffNumTrustedHops),
                var other => throw new InvalidOperationException($"unvalidated original IP detection extension {other?.GetType().Name}"),
            };
        }
        return plans;
    }

    /// <summary>Envoy's DurationUtil::durationToMilliseconds: a log flush interval is kept in whole milliseconds.</summary>
    private static TimeSpan? WholeMilliseconds(TimeSpan? interval)
        => interval is { } value ? TimeSpan.FromMilliseconds(Math.Floor(value.TotalMilliseconds)) : null;

    private static RoutePlan TranslateRoute(VirtualHost vhost, EnvoyMetadata? vhostMetadata, int index, Route route)
    {
        DirectResponsePlan? direct = null;
        if (route.DirectResponse is { } response)
        {
            direct = new DirectResponsePlan((int)response.Status, ReadDataSource(response.Body));
        }
        var redirect = route.Redirect is { } redirectAction ? TranslateRedirect(redirectAction) : null;
        if (redirect is not null)
        {
            direct = new DirectResponsePlan(RedirectStatus(route.Redirect!.ResponseCode), []);
        }
        var action = route.Action;
        var hostRewrite = action?.AutoHostRewrite == true ? HostRewriteMode.Auto
            : action?.HostRewriteLiteral is not null ? HostRewriteMode.Literal
            : action?.HostRewriteHeader is not null ? HostRewriteMode.Header
            : action?.HostRewritePathRegex is not null ? HostRewriteMode.PathRegex
            : HostRewriteMode.None;
        return new RoutePlan(
            VirtualHost: vhost.Name!,
            RouteIndex: index,
            RouteName: route.Name,
            Cluster: action?.Cluster,
            // Envoy's "new timeouts": with max_stream_duration the route timeout is not used.
            Timeout: action?.MaxStreamDuration is not null ? TimeSpan.Zero : action?.Timeout ?? DefaultRouteTimeout,
            HostRewrite: hostRewrite,
            HostRewriteLiteral: action?.HostRewriteLiteral is { } literal ? HeaderBytes.FromConfig(literal) : null,
            PrefixRewrite: action?.PrefixRewrite,
            DirectResponse: direct,
            Retry: TranslateRetry(action?.RetryPolicy ?? vhost.RetryPolicy),
            Priority: action?.Priority ?? RoutingPriority.Default)
        {
            ClusterHeader = string.IsNullOrEmpty(action?.ClusterHeader) ? null : action.ClusterHeader,
            ClusterNotFoundStatus = action is null || (action.ClusterHeader is null && action.WeightedClusters is null) ? null : action.ClusterNotFoundResponseCode switch
            {
                ClusterNotFoundResponseCode.NotFound => 404,
                ClusterNotFoundResponseCode.InternalServerError => 500,
                _ => 503,
            },
            Source = route,
            IncludeRequestAttemptCount = vhost.IncludeRequestAttemptCount,
            IncludeAttemptCountInResponse = vhost.IncludeAttemptCountInResponse,
            Metadata = EnvoyMetadata.From(route.Metadata),
            VirtualHostMetadata = vhostMetadata,
            StatPrefix = string.IsNullOrEmpty(route.StatPrefix) ? null : route.StatPrefix,
            IdleTimeout = action?.IdleTimeout,
            Upgrades = UpgradeTranslation.ForRoute(action),
            StreamDuration = action?.MaxStreamDuration is { } duration ? new StreamDurationPlan(duration.Limit, duration.GrpcTimeoutHeaderMax, duration.GrpcTimeoutHeaderOffset) : null,
            Tracing = Gateway.Tracing.TracingCompiler.CompileRoute(route),
            HashPolicies = HashLbTranslation.HashPolicies(action),
            Redirect = redirect,
            RegexRewrite = TranslateRegexRewrite(action?.RegexRewrite),
            PathTemplateRewrite = action?.PathRewritePolicy?.TypedConfig is UriTemplateRewriteConfig { PathTemplateRewrite: { } rewrite }
                && route.Match?.PathMatchPolicy?.TypedConfig is UriTemplateMatchConfig { PathTemplate: { } template }
                ? new PathTemplateRewritePlan(template, rewrite) : null,
            HostRewriteHeader = action?.HostRewriteHeader,
            HostRewritePathRegex = TranslateRegexRewrite(action?.HostRewritePathRegex),
            AppendXForwardedHost = action?.AppendXForwardedHost ?? false,
            MetadataMatch = SubsetLbTranslation.RouteCriteria(action),
        };
    }

    /// <summary>Envoy's RedirectConfig: empty strings are unset, the port becomes <c>:N</c>, a path without its leading <c>/</c> gets one.</summary>
    private static RedirectPlan TranslateRedirect(RedirectAction redirect)
    {
        var path = string.IsNullOrEmpty(redirect.PathRedirect) ? null : redirect.PathRedirect[0] == '/' ? redirect.PathRedirect : "/" + redirect.PathRedirect;
        return new RedirectPlan(
            Scheme: !string.IsNullOrEmpty(redirect.SchemeRedirect) ? redirect.SchemeRedirect : redirect.HttpsRedirect ? "https" : null,
            Host: string.IsNullOrEmpty(redirect.HostRedirect) ? null : redirect.HostRedirect,
            Port: redirect.PortRedirect == 0 ? null : ":" + redirect.PortRedirect.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Path: path,
            PathHasQuery: path?.Contains('?', StringComparison.Ordinal) ?? false,
            PrefixRewrite: string.IsNullOrEmpty(redirect.PrefixRewrite) ? null : redirect.PrefixRewrite,
            StripQuery: redirect.StripQuery)
        {
            RegexRewrite = TranslateRegexRewrite(redirect.RegexRewrite),
        };
    }

    private static RegexRewritePlan? TranslateRegexRewrite(PathRegexRewrite? rewrite)
        => rewrite?.Pattern?.Regex is { } pattern ? new RegexRewritePlan(pattern, rewrite.Substitution ?? string.Empty) : null;

    private static int RedirectStatus(RedirectResponseCode code) => code switch
    {
        RedirectResponseCode.Found => 302,
        RedirectResponseCode.SeeOther => 303,
        RedirectResponseCode.TemporaryRedirect => 307,
        RedirectResponseCode.PermanentRedirect => 308,
        _ => 301,
    };

    /// <summary>
    /// The per-route state of each filter of the chain on one route (Envoy's mostSpecificPerFilterConfig and
    /// filterDisabled): the most specific configuration and, separately, the most specific enable/disable, each
    /// looked up through <paramref name="levels"/>, most specific first (a weighted cluster entry, route, virtual host,
    /// route configuration). Null when no level names any filter of the chain.
    /// </summary>
    private static PerFilterConfigPlan[]? PerFilterConfigs(List<HttpFilterPlan> filters, params Dictionary<string, EnvoyMessage>[] levels)
    {
        var configured = false;
        foreach (var level in levels)
        {
            configured |= level.Count != 0;
        }
        if (filters.Count == 0 || !configured)
        {
            return null;
        }
        var result = new PerFilterConfigPlan[filters.Count];
        var any = false;
        for (var i = 0; i < filters.Count; i++)
        {
            EnvoyMessage? config = null;
            List<EnvoyMessage>? all = null;
            bool? disabled = null;
            foreach (var level in levels)
            {
                if (!level.TryGetValue(filters[i].Name, out var entry))
                {
                    continue;
                }
                var (entryConfig, entryDisabled) = entry switch
                {
                    FilterConfig { Disabled: true } => ((EnvoyMessage?)null, true),
                    FilterConfig wrapper => (wrapper.Config is EmptyAny ? null : wrapper.Config, false),
                    _ => (entry, false),
                };
                disabled ??= entryDisabled;
                config ??= entryConfig;
                if (entryConfig is not null)
                {
                    (all ??= []).Add(entryConfig);
                }
            }
            result[i] = new PerFilterConfigPlan(disabled, config?.GetType().Name) { Config = config, Configs = (IReadOnlyList<EnvoyMessage>?)all ?? [] };
            any |= disabled is not null || config is not null;
        }
        return any ? result : null;
    }

    /// <summary>The most specific non-empty <c>request_mirror_policies</c> (route action, virtual host, route configuration), as Envoy inherits them.</summary>
    private static MirrorPolicyPlan[]? TranslateMirrors(RouteConfiguration routeConfig, VirtualHost vhost, Route route)
    {
        if (route.Action is null)
        {
            return null;
        }
        var policies = route.Action.RequestMirrorPolicies.Count != 0 ? route.Action.RequestMirrorPolicies
            : vhost.RequestMirrorPolicies.Count != 0 ? vhost.RequestMirrorPolicies
            : routeConfig.RequestMirrorPolicies;
        if (policies.Count == 0)
        {
            return null;
        }
        var plans = new MirrorPolicyPlan[policies.Count];
        for (var i = 0; i < plans.Length; i++)
        {
            var policy = policies[i];
            // Without runtime_fraction every request is shadowed (Envoy's 100/HUNDRED default).
            var fraction = policy.RuntimeFraction?.DefaultValue;
            plans[i] = new MirrorPolicyPlan(
                string.IsNullOrEmpty(policy.Cluster) ? null : policy.Cluster,
                string.IsNullOrEmpty(policy.ClusterHeader) ? null : policy.ClusterHeader,
                fraction?.Numerator ?? 100u,
                fraction?.Denominator ?? DenominatorType.Hundred,
                policy.TraceSampled,
                policy.DisableShadowHostSuffixAppend);
        }
        return plans;
    }

    private static RetryPlan? TranslateRetry(RetryPolicy? policy)
    {
        if (policy is null)
        {
            return null;
        }
        var retryOn = RetryOn.None;
        foreach (var name in (policy.RetryOn ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            retryOn |= RetryPlan.Conditions[name];
        }
        // Envoy rounds sub-millisecond intervals up to 1 ms; the maximum defaults to ten times the base.
        var baseInterval = policy.RetryBackOff?.BaseInterval ?? RetryPlan.DefaultBaseInterval;
        if (baseInterval < TimeSpan.FromMilliseconds(1))
        {
            baseInterval = TimeSpan.FromMilliseconds(1);
        }
        var maxInterval = policy.RetryBackOff?.MaxInterval ?? baseInterval * 10;
        if (maxInterval < TimeSpan.FromMilliseconds(1))
        {
            maxInterval = TimeSpan.FromMilliseconds(1);
        }
        return new RetryPlan(
            retryOn,
            (int)(policy.NumRetries ?? 1),
            policy.PerTryTimeout ?? TimeSpan.Zero,
            baseInterval,
            maxInterval,
            policy.RetriableStatusCodes.Select(code => (int)code).ToArray())
        {
            AvoidPreviousHosts = policy.RetryHostPredicate.Any(p => p.Name == PreviousHostsPredicateName),
            HostSelectionRetryMaxAttempts = (int)Math.Clamp(policy.HostSelectionRetryMaxAttempts ?? 0, 0, 100),
            RetriableHeaders = policy.RetriableHeaders,
            RetriableRequestHeaders = policy.RetriableRequestHeaders,
            RateLimitedBackOff = policy.RateLimitedRetryBackOff is { } rateLimited
                ? new RateLimitedBackOffPlan(
                    rateLimited.ResetHeaders.Select(h => new ResetHeaderPlan(h.Name!, h.Format)).ToArray(),
                    rateLimited.MaxInterval ?? RateLimitedBackOffPlan.DefaultMaxInterval)
                : null,
        };
    }

    /// <summary>The retry host predicate that makes retries avoid hosts already tried.</summary>
    public const string PreviousHostsPredicateName = "envoy.retry_host_predicates.previous_hosts";

    internal static byte[] ReadDataSource(DataSource? source)
    {
        if (source is null)
        {
            return [];
        }
        if (source.InlineString is not null)
        {
            return System.Text.Encoding.UTF8.GetBytes(source.InlineString);
        }
        if (source.InlineBytes is not null)
        {
            return Convert.FromBase64String(source.InlineBytes);
        }
        if (source.EnvironmentVariable is not null)
        {
            return System.Text.Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable(source.EnvironmentVariable) ?? string.Empty);
        }
        // Read once, when the configuration is loaded, as Envoy does.
        return File.ReadAllBytes(source.Filename!);
    }

    /// <summary>
    /// <c>weighted_clusters</c>, each entry with what it adds to the route (Envoy's WeightedClustersConfigEntry): its
    /// per-filter configuration the most specific level, its header mutations and host rewrite.
    /// </summary>
    private static WeightedClustersPlan TranslateWeightedClusters(WeightedClusters weighted, List<HttpFilterPlan> filters, RouteConfiguration routeConfig, VirtualHost vhost, Route route)
    {
        // total_weight is deprecated and unused by Envoy; runtime_key_prefix has no runtime to read: the weights as configured apply.
        var routeCriteria = SubsetLbTranslation.RouteCriteria(route.Action);
        var entries = new WeightedClusterPlan[weighted.Clusters.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = weighted.Clusters[i];
            var hasHeaders = entry.RequestHeadersToAdd.Count != 0 || entry.RequestHeadersToRemove.Count != 0 || entry.ResponseHeadersToAdd.Count != 0 || entry.ResponseHeadersToRemove.Count != 0;
            entries[i] = new WeightedClusterPlan(string.IsNullOrEmpty(entry.Name) ? null : entry.Name, entry.Weight ?? 0)
            {
                MetadataMatch = SubsetLbTranslation.EntryCriteria(routeCriteria, entry),
                ClusterHeader = string.IsNullOrEmpty(entry.ClusterHeader) ? null : entry.ClusterHeader,
                HostRewriteLiteral = string.IsNullOrEmpty(entry.HostRewriteLiteral) ? null : HeaderBytes.FromConfig(entry.HostRewriteLiteral),
                FilterConfigs = entry.TypedPerFilterConfig.Count == 0 ? null
                    : PerFilterConfigs(filters, entry.TypedPerFilterConfig, route.TypedPerFilterConfig, vhost.TypedPerFilterConfig, routeConfig.TypedPerFilterConfig),
                HeaderSource = hasHeaders ? entry : null,
            };
        }
        return new WeightedClustersPlan(entries, string.IsNullOrEmpty(weighted.HeaderName) ? null : weighted.HeaderName)
        {
            UseHashPolicy = weighted.UseHashPolicy ?? false,
        };
    }

    private static ClusterPlan TranslateCluster(Cluster cluster, string? localCluster, LocalityPlan? nodeLocality, Tls.TlsSecrets secrets)
    {
        var endpoints = new List<EndpointPlan>();
        foreach (var locality in cluster.LoadAssignment?.Endpoints ?? [])
        {
            var localityPlan = locality.Locality is { } l
                ? new LocalityPlan(l.Region ?? string.Empty, l.Zone ?? string.Empty, l.SubZone ?? string.Empty)
                : LocalityPlan.None;
            foreach (var lbEndpoint in locality.LbEndpoints)
            {
                var endpoint = lbEndpoint.Endpoint!;
                var socket = endpoint.Address!.SocketAddress!;
                var hostname = endpoint.Hostname;
                if (string.IsNullOrEmpty(hostname) && cluster.Type is DiscoveryType.StrictDns or DiscoveryType.LogicalDns)
                {
                    // For DNS clusters the host name is the DNS name (what auto_host_rewrite uses).
                    hostname = socket.Address;
                }
                endpoints.Add(new EndpointPlan(socket.Address!, (int)socket.PortValue!.Value, string.IsNullOrEmpty(hostname) ? null : hostname)
                {
                    Metadata = EnvoyMetadata.From(lbEndpoint.Metadata),
                    Weight = lbEndpoint.LoadBalancingWeight ?? 1,
                    Priority = (int)locality.Priority,
                    Locality = localityPlan,
                    LocalityWeight = locality.LoadBalancingWeight ?? 0,
                    Health = lbEndpoint.HealthStatus switch
                    {
                        HealthStatus.Unhealthy or HealthStatus.Draining or HealthStatus.Timeout => EndpointHealth.Unhealthy,
                        HealthStatus.Degraded => EndpointHealth.Degraded,
                        _ => EndpointHealth.Healthy,
                    },
                    // Resolved once here, as Envoy resolves a host's transport socket factory when the host is created.
                    TransportSocket = cluster.TransportSocketMatches.Count == 0 ? 0
                        : UpstreamTransportPlan.Resolve(cluster.TransportSocketMatches, EnvoyMetadata.From(lbEndpoint.Metadata), EnvoyMetadata.From(locality.Metadata)),
                });
            }
        }
        var lb = LbPolicyTranslation.Translate(cluster);
        var zoneRouted = localCluster is not null && localCluster != cluster.Name && lb.HashLb is null;
        return new ClusterPlan(
            Name: cluster.Name!,
            Type: cluster.Type,
            LbPolicy: lb.Policy,
            ConnectTimeout: cluster.ConnectTimeout ?? DefaultConnectTimeout,
            DnsLookupFamily: cluster.DnsLookupFamily,
            DnsRefreshRate: cluster.DnsRefreshRate ?? DefaultDnsRefreshRate,
            Endpoints: endpoints)
        {
            Thresholds = [Thresholds(cluster, RoutingPriority.Default), Thresholds(cluster, RoutingPriority.High)],
            HealthyPanicThreshold = cluster.CommonLbConfig?.HealthyPanicThreshold?.Value ?? ClusterPlan.DefaultHealthyPanicThreshold,
            OverprovisioningFactor = cluster.LoadAssignment?.Policy?.OverprovisioningFactor ?? ClusterPlan.DefaultOverprovisioningFactor,
            IgnoreNewHostsUntilFirstHc = cluster.CommonLbConfig?.IgnoreNewHostsUntilFirstHc ?? false,
            // The hashing policies carry their own switch (the typed RingHash/Maglev have the field themselves).
            LocalityWeighted = lb.LocalityWeighted || lb.HashLb is { LocalityWeighted: true },
            ZoneAware = lb.ZoneAware,
            // Envoy's consistent-hashing load balancers do not route by zone.
            LocalCluster = zoneRouted ? localCluster : null,
            NodeLocality = zoneRouted ? nodeLocality : null,
            WeightedPriorityHealth = cluster.LoadAssignment?.Policy?.WeightedPriorityHealth ?? false,
            DropOverload = DropOverloadRatio(cluster.LoadAssignment?.Policy),
            DropCategory = cluster.LoadAssignment?.Policy?.DropOverloads is [{ } drop] ? drop.Category : null,
            OutlierDetection = cluster.OutlierDetection is { } outlier ? TranslateOutlierDetection(outlier) : null,
            HealthCheck = cluster.HealthChecks.Count > 0 ? TranslateHealthCheck(cluster.Name!, cluster.HealthChecks[0]) with
            {
                TransportSocket = cluster.HealthChecks[0].TransportSocketMatchCriteria is { } criteria
                    ? UpstreamTransportPlan.ResolveCriteria(cluster.TransportSocketMatches, criteria)
                    : null,
            } : null,
            Transport = UpstreamTransportPlan.Translate(cluster, secrets),
            Protocol = UpstreamProtocolPlan.Translate(cluster),
            Metadata = EnvoyMetadata.From(cluster.Metadata),
            HashLb = lb.HashLb,
            LeastRequest = lb.LeastRequest,
            SlowStart = lb.SlowStart,
            Subset = lb.Subset ?? SubsetLbTranslation.Subset(cluster),
        };
    }

    /// <summary>Envoy's ClusterImplBase::parseDropOverloadConfig: numerator / denominator of the one category, capped at 1.</summary>
    private static double DropOverloadRatio(ClusterLoadAssignmentPolicy? policy)
    {
        if (policy?.DropOverloads is not [{ DropPercentage: { } percent }])
        {
            return 0;
        }
        var denominator = percent.Denominator switch
        {
            DenominatorType.TenThousand => 10_000.0,
            DenominatorType.Million => 1_000_000.0,
            _ => 100.0,
        };
        return Math.Min(1.0, percent.Numerator / denominator);
    }

    private static OutlierDetectionPlan TranslateOutlierDetection(OutlierDetection outlier)
    {
        var d = OutlierDetectionPlan.Defaults;
        var baseEjectionTime = outlier.BaseEjectionTime ?? d.BaseEjectionTime;
        return new OutlierDetectionPlan
        {
            Consecutive5xx = outlier.Consecutive5xx ?? d.Consecutive5xx,
            Interval = outlier.Interval ?? d.Interval,
            BaseEjectionTime = baseEjectionTime,
            MaxEjectionPercent = outlier.MaxEjectionPercent ?? d.MaxEjectionPercent,
            EnforcingConsecutive5xx = outlier.EnforcingConsecutive5xx ?? d.EnforcingConsecutive5xx,
            EnforcingSuccessRate = outlier.EnforcingSuccessRate ?? d.EnforcingSuccessRate,
            SuccessRateMinimumHosts = outlier.SuccessRateMinimumHosts ?? d.SuccessRateMinimumHosts,
            SuccessRateRequestVolume = outlier.SuccessRateRequestVolume ?? d.SuccessRateRequestVolume,
            SuccessRateStdevFactor = outlier.SuccessRateStdevFactor ?? d.SuccessRateStdevFactor,
            ConsecutiveGatewayFailure = outlier.ConsecutiveGatewayFailure ?? d.ConsecutiveGatewayFailure,
            EnforcingConsecutiveGatewayFailure = outlier.EnforcingConsecutiveGatewayFailure ?? d.EnforcingConsecutiveGatewayFailure,
            FailurePercentageThreshold = outlier.FailurePercentageThreshold ?? d.FailurePercentageThreshold,
            EnforcingFailurePercentage = outlier.EnforcingFailurePercentage ?? d.EnforcingFailurePercentage,
            FailurePercentageMinimumHosts = outlier.FailurePercentageMinimumHosts ?? d.FailurePercentageMinimumHosts,
            FailurePercentageRequestVolume = outlier.FailurePercentageRequestVolume ?? d.FailurePercentageRequestVolume,
            // Unset, Envoy takes the larger of 300s and base_ejection_time.
            MaxEjectionTime = outlier.MaxEjectionTime ?? (baseEjectionTime > d.MaxEjectionTime ? baseEjectionTime : d.MaxEjectionTime),
            MaxEjectionTimeJitter = outlier.MaxEjectionTimeJitter ?? d.MaxEjectionTimeJitter,
            SuccessfulActiveHealthCheckUnejectHost = outlier.SuccessfulActiveHealthCheckUnejectHost ?? d.SuccessfulActiveHealthCheckUnejectHost,
            AlwaysEjectOneHost = outlier.AlwaysEjectOneHost ?? d.AlwaysEjectOneHost,
        };
    }

    private static HealthCheckPlan TranslateHealthCheck(string clusterName, HealthCheck check)
    {
        var http = check.HttpHealthCheck;
        var interval = check.Interval!.Value;
        var noTraffic = check.NoTrafficInterval ?? HealthCheckPlan.DefaultNoTrafficInterval;
        var unhealthy = check.UnhealthyInterval ?? interval;
        static int Clamp(uint value) => (int)Math.Min(value, int.MaxValue);
        static List<StatusRange> Ranges(List<Int64Range> ranges) => ranges.Select(r => new StatusRange((int)r.Start, (int)r.End)).ToList();
        return new HealthCheckPlan(
            Timeout: check.Timeout!.Value,
            Interval: interval,
            UnhealthyThreshold: Clamp(check.UnhealthyThreshold!.Value),
            HealthyThreshold: Clamp(check.HealthyThreshold!.Value),
            Host: string.IsNullOrEmpty(http?.Host) ? clusterName : http.Host,
            Path: http?.Path ?? string.Empty,
            Method: http is null || http.Method == RequestMethod.MethodUnspecified ? "GET" : http.Method.ToString().ToUpperInvariant())
        {
            InitialJitter = check.InitialJitter ?? TimeSpan.Zero,
            IntervalJitter = check.IntervalJitter ?? TimeSpan.Zero,
            IntervalJitterPercent = Clamp(check.IntervalJitterPercent),
            ReuseConnection = check.ReuseConnection ?? true,
            NoTrafficInterval = noTraffic,
            NoTrafficHealthyInterval = check.NoTrafficHealthyInterval ?? noTraffic,
            UnhealthyInterval = unhealthy,
            UnhealthyEdgeInterval = check.UnhealthyEdgeInterval ?? unhealthy,
            HealthyEdgeInterval = check.HealthyEdgeInterval ?? interval,
            RequestHeadersToRemove = http?.RequestHeadersToRemove.Select(h => h.ToLowerInvariant()).ToList() ?? [],
            ExpectedStatuses = http?.ExpectedStatuses.Count > 0 ? Ranges(http.ExpectedStatuses) : [new StatusRange(200, 201)],
            RetriableStatuses = http is null ? [] : Ranges(http.RetriableStatuses),
            Tcp = check.TcpHealthCheck is { } tcp ? TranslateTcpHealthCheck(tcp) : null,
        };
    }

    private static TcpHealthCheckPlan TranslateTcpHealthCheck(TcpHealthCheck tcp)
    {
        // Envoy's PayloadMatcher::loadProtoBytes: empty blocks are dropped.
        var send = tcp.Send is { } payload ? HealthCheckPayloads.Decode(payload) : [];
        var receive = tcp.Receive.Select(HealthCheckPayloads.Decode).Where(b => b.Length > 0).ToList();
        return new TcpHealthCheckPlan(send, receive);
    }

    private static ThresholdsPlan Thresholds(Cluster cluster, RoutingPriority priority)
    {
        // The first thresholds entry for a priority wins, as in Envoy; missing values take Envoy's defaults.
        var configured = cluster.CircuitBreakers?.Thresholds.FirstOrDefault(t => t.Priority == priority);
        if (configured is null)
        {
            return ThresholdsPlan.Defaults;
        }
        var defaults = ThresholdsPlan.Defaults;
        return new ThresholdsPlan(
            (int)Math.Min(configured.MaxConnections ?? (uint)defaults.MaxConnections, int.MaxValue),
            (int)Math.Min(configured.MaxPendingRequests ?? (uint)defaults.MaxPendingRequests, int.MaxValue),
            (int)Math.Min(configured.MaxRequests ?? (uint)defaults.MaxRequests, int.MaxValue),
            (int)Math.Min(configured.MaxRetries ?? (uint)defaults.MaxRetries, int.MaxValue),
            configured.TrackRemaining,
            // A retry_budget message, even empty, replaces max_retries (ClusterInfoImpl::getRetryBudgetParams);
            // a budget_percent message without a value is 0%, as protobuf reads it.
            configured.RetryBudget is { } budget
                ? new RetryBudgetPlan(
                    budget.BudgetPercent?.Value ?? RetryBudgetPlan.DefaultBudgetPercent,
                    budget.MinRetryConcurrency ?? RetryBudgetPlan.DefaultMinRetryConcurrency)
                : null);
    }

    /// <summary>True when the endpoint carries anything besides its address (its index is then recorded on destinations).</summary>
    private static bool HasSettings(EndpointPlan endpoint)
        => endpoint.Metadata is not null || endpoint.Weight != 1 || endpoint.Priority != 0 || !endpoint.Locality.IsEmpty
            || endpoint.LocalityWeight != 0 || endpoint.Health != EndpointHealth.Healthy || endpoint.TransportSocket != 0;

    private static ClusterConfig ToYarpCluster(ClusterPlan plan)
    {
        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var isDns = plan.Type is DiscoveryType.StrictDns or DiscoveryType.LogicalDns;
        for (var index = 0; index < plan.Endpoints.Count; index++)
        {
            var endpoint = plan.Endpoints[index];
            var id = FormatHostPort(endpoint.Address, endpoint.Port);
            if (destinations.ContainsKey(id))
            {
                continue;
            }
            var metadata = isDns
                ? new Dictionary<string, string>
                {
                    [DiscoveryTypeMetadata] = plan.Type == DiscoveryType.LogicalDns ? "LOGICAL_DNS" : "STRICT_DNS",
                    [DnsLookupFamilyMetadata] = EnvoyNames.ToSnakeCase(plan.DnsLookupFamily.ToString()).ToUpperInvariant(),
                    [DnsRefreshRateMetadata] = ((long)plan.DnsRefreshRate.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                }
                : null;
            if (HasSettings(endpoint))
            {
                // DNS resolution copies a destination's metadata onto every address it resolves to, so each
                // host finds its endpoint (and that endpoint's metadata and weight) by this index.
                (metadata ??= new Dictionary<string, string>())[EndpointIndexMetadata] = index.ToString(CultureInfo.InvariantCulture);
            }
            destinations[id] = new DestinationConfig
            {
                Address = "http://" + id,
                Host = endpoint.Hostname,
                Metadata = metadata,
            };
        }

        return new ClusterConfig
        {
            ClusterId = plan.Name,
            LoadBalancingPolicy = plan.LbPolicy switch
            {
                LbPolicy.LeastRequest => Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.PowerOfTwoChoices,
                LbPolicy.Random => Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.Random,
                _ => Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.RoundRobin,
            },
            Destinations = destinations,
            // Host health is the gateway's (active checks, outlier detection); its policy applies Envoy's panic threshold.
            HealthCheck = new HealthCheckConfig { AvailableDestinationsPolicy = AvailableDestinationsPolicy },
            // max_connections bounds the connection pool (per host in SocketsHttpHandler, per cluster in Envoy).
            HttpClient = new HttpClientConfig { MaxConnectionsPerServer = plan.Thresholds[0].MaxConnectionsPerHost() },
            HttpRequest = new ForwarderRequestConfig
            {
                // Envoy speaks HTTP/1.1 to upstreams unless protocol options say otherwise; HTTP/2 never falls back.
                Version = plan.Protocol.RequestVersion,
                VersionPolicy = plan.Protocol.RequestVersionPolicy,
                ActivityTimeout = UpstreamActivityTimeout,
            },
            Metadata = ClusterMetadata(plan),
        };
    }

    private static Dictionary<string, string> ClusterMetadata(ClusterPlan plan)
    {
        var metadata = new Dictionary<string, string>
        {
            [ClusterKindMetadata] = "true",
            [ConnectTimeoutMetadata] = ((long)plan.ConnectTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
        if (plan.Transport?.FollowsRequestHost == true)
        {
            metadata[HostPoolsMetadata] = "true";
        }
        if (!ReferenceEquals(plan.Protocol, UpstreamProtocolPlan.Default))
        {
            metadata[ProtocolMetadata] = plan.Protocol.ToMetadata();
        }
        return metadata;
    }

    /// <summary><c>host:port</c>, with IPv6 literals bracketed.</summary>
    public static string FormatHostPort(string host, int port)
        => IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{host}]:{port}"
            : $"{host}:{port}";
}
