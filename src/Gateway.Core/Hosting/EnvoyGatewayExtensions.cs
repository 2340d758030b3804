using System.Net;
using Gateway.Admin;
using Gateway.Clusters;
using Gateway.Clusters.HealthChecking;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Proxy;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Gateway.Hosting;

/// <summary>Adds an Envoy-configured gateway to an ASP.NET Core application.</summary>
public static class EnvoyGatewayExtensions
{
    /// <summary>
    /// Registers the gateway for <paramref name="bootstrap"/> (already loaded and validated, e.g. by
    /// <see cref="EnvoyConfigLoader"/> with <paramref name="types"/>): YARP with the translated routes and clusters,
    /// and Kestrel endpoints for every listener and for <c>admin.address</c>. HTTP filters the configuration names
    /// must be registered on the returned builder (or already be in <paramref name="types"/>) before the application is built.
    /// </summary>
    public static IEnvoyGatewayBuilder AddEnvoyGateway(this IServiceCollection services, Bootstrap bootstrap, EnvoyTypeRegistry? types = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        return AddEnvoyGateway(services, types).LoadFromBootstrap(bootstrap);
    }

    /// <summary>
    /// Registers the gateway, YARP-style: the configuration is given on the returned builder (or in
    /// <paramref name="configure"/>) with <see cref="IEnvoyGatewayBuilder.LoadFromFile"/>,
    /// <see cref="IEnvoyGatewayBuilder.LoadFromYaml"/> or <see cref="IEnvoyGatewayBuilder.LoadFromBootstrap"/>, with the
    /// HTTP filters it names (<see cref="IEnvoyGatewayBuilder.AddHttpFilter{TFactory}"/>), and loaded when the
    /// application is built; then <c>app.MapEnvoyGateway()</c>.
    /// </summary>
    public static IEnvoyGatewayBuilder AddEnvoyGateway(this IServiceCollection services, Action<IEnvoyGatewayBuilder>? configure = null)
    {
        var builder = AddEnvoyGateway(services, (EnvoyTypeRegistry?)null);
        configure?.Invoke(builder);
        return builder;
    }

    /// <summary>
    /// Registers the gateway for the configuration documents in <paramref name="sources"/> (Envoy's <c>-c</c> then
    /// <c>--config-yaml</c>), loaded when the application is built, with the HTTP filters registered on the returned
    /// builder by then. A bad configuration fails the build with an <see cref="EnvoyConfigException"/>.
    /// </summary>
    public static IEnvoyGatewayBuilder AddEnvoyGateway(this IServiceCollection services, IReadOnlyList<ConfigSource> sources, EnvoyTypeRegistry? types = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var builder = AddEnvoyGateway(services, types);
        foreach (var source in sources)
        {
            builder.LoadFromYaml(source.Text, source.Name);
        }
        return builder;
    }

    private static EnvoyGatewayBuilder AddEnvoyGateway(IServiceCollection services, EnvoyTypeRegistry? types)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new EnvoyGatewayBuilder(services, types ?? EnvoyTypeRegistry.CreateDefault());
        var setup = new GatewaySetup(builder);
        services.AddSingleton(setup);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<StatsStore>();
        services.TryAddSingleton(sp => new ServerStats(sp.GetRequiredService<StatsStore>(), sp.GetRequiredService<TimeProvider>(), BuildRevision()));
        services.AddHostedService<StatsFlushService>();
        // The stats as OpenTelemetry metrics (meter "Gateway.Envoy"), from the application's meter factory when it has one.
        services.TryAddSingleton(sp => new StatsMeter(sp.GetRequiredService<StatsStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<ClusterRegistry>();
        services.TryAddSingleton<RateLimit.SharedTokenBuckets>();
        services.TryAddSingleton<ServerState>();
        services.TryAddSingleton<AdminHandler>();
        services.TryAddSingleton(sp => new ConfigDumpSource(setup.Bootstrap, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new AccessLog.AccessLogManager(sp.GetRequiredService<StatsStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<AccessLog.AccessLogOptions>()?.FlushInterval));
        services.TryAddSingleton(sp => new Router.ShadowWriter(sp.GetRequiredService<ClusterClients>(), sp.GetRequiredService<ClusterRegistry>(),
            sp.GetService<Random>() ?? Random.Shared, sp.GetService<ILogger<Router.ShadowWriter>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<Router.ShadowWriter>.Instance));
        services.TryAddSingleton<Router.RouterFilter>();
        services.TryAddSingleton<ConnectionManager>();
        services.TryAddSingleton(sp => new ConfigManager(setup.Bootstrap, setup.Types, sp.GetRequiredService<StatsStore>(), sp.GetRequiredService<ServerStats>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, sp.GetService<Random>()));
        services.TryAddSingleton(sp => new GatewayRuntime(sp.GetRequiredService<ConfigManager>().Plan, sp.GetRequiredService<ClusterRegistry>(), sp.GetRequiredService<StatsStore>(), sp.GetRequiredService<ServerState>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetService<ILoggerFactory>(), FilterServicesFrom(sp),
            sp.GetService<Tracing.TracingClusterClient>() ?? new Tracing.TracingClusterClient(sp.GetRequiredService<ClusterClients>().Factory))
        {
            DynamicEndpoints = sp.GetRequiredService<ConfigManager>().DynamicListeners ? new ListenerEndpoints() : null,
            Drain = sp.GetService<DrainOptions>() ?? new DrainOptions(),
        });
        services.TryAddSingleton<IEnvoyGateway>(sp => sp.GetRequiredService<GatewayRuntime>());
        services.AddSingleton<IClusterChangeListener, ClusterMembershipListener>();
        services.AddSingleton<IDestinationResolver, DnsDestinationResolver>();
        services.AddSingleton<IForwarderHttpClientFactory, GatewayHttpClientFactory>();
        // The gateway's own requests to its clusters (tracers' collectors): ClusterClients.Factory is TracerContext.ClusterClient.
        services.TryAddSingleton<ClusterClients>();
        services.AddSingleton<IAvailableDestinationsPolicy, EnvoyAvailableDestinationsPolicy>();
        services.TryAddSingleton<HealthCheckService>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthCheckService>());

        // YARP once: an application that uses YARP itself has called AddReverseProxy() already (YARP's registrations
        // are not all idempotent, so it must come first); the gateway's transforms act on its own routes only.
        if (!services.Any(static d => d.ServiceType == typeof(IProxyStateLookup)))
        {
            services.AddReverseProxy();
        }
        services.AddSingleton<Yarp.ReverseProxy.Transforms.Builder.ITransformProvider, EnvoyTransformProvider>();
        // The gateway's YARP provider, made when YARP first asks: the configuration is translated by then, and the
        // configuration manager replaces its snapshot on every change.
        services.TryAddSingleton(sp =>
        {
            var plan = sp.GetRequiredService<GatewayRuntime>().Plan;
            return new GatewayProxyConfigProvider(plan.Routes, plan.Clusters);
        });
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayProxyConfigProvider>());

        services.AddOptions<KestrelServerOptions>().Configure<GatewayRuntime, AdminHandler>((kestrel, runtime, admin) => BindListeners(kestrel, runtime, admin));
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>().Configure<GatewayRuntime>(static (sockets, runtime) =>
        {
            sockets.Backlog = Backlog(runtime.Plan);
            sockets.CreateBoundListenSocket = runtime.ListenSockets.Create;
        });
        return builder;
    }

    private static Filters.FilterServices FilterServicesFrom(IServiceProvider services)
        => new(services.GetRequiredService<StatsStore>(), services.GetRequiredService<TimeProvider>(),
            services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, services,
            services.GetService<Random>() ?? Random.Shared);

    /// <summary>
    /// Puts the gateway first in the pipeline (requests on its listeners and admin are handled there to the end) and maps
    /// YARP's endpoints for its clusters; the application's own endpoints and YARP routes keep working beside it.
    /// </summary>
    public static WebApplication MapEnvoyGateway(this WebApplication app) => UseEnvoyGateway(app);

    /// <summary>Puts the gateway first in the pipeline and maps YARP's endpoints for the clusters (the same as <see cref="MapEnvoyGateway"/>).</summary>
    public static WebApplication UseEnvoyGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<GatewayMiddleware>();
        // Routing after the gateway: requests on listeners never reach the matcher.
        app.UseRouting();
        if (app.Services.GetService<IAuthorizationHandlerProvider>() is not null)
        {
            // YARP registers authorization, and WebApplication would otherwise put it in front of every
            // request, listener requests included; here it serves the embedding app's endpoints only.
            app.UseAuthorization();
        }
        app.MapReverseProxy(pipeline =>
        {
            // The gateway's requests (the router gave them their load balancer context) pick their host as Envoy does; an
            // application's own YARP routes keep YARP's steps.
            pipeline.UseWhen(static context => context.Features.Get<ILoadBalancerContext>() is null, branch =>
            {
                var yarp = new ReverseProxyBranch(branch);
                yarp.UseSessionAffinity();
                yarp.UseLoadBalancing();
                yarp.UsePassiveHealthChecks();
            });
            pipeline.UseMiddleware<HostSelectionMiddleware>();
        })
            .ConfigureEndpoints((endpoint, route) =>
            {
                if (route.Metadata?.ContainsKey(EnvoyTranslator.RouteKindMetadata) == true)
                {
                    // Only the gateway's router dispatches to these; ASP.NET routing must never match them.
                    endpoint.WithMetadata(new SuppressMatchingMetadata());
                }
            });

        var runtime = app.Services.GetRequiredService<GatewayRuntime>();
        // Made now, so the meter is there before anything collects.
        app.Services.GetRequiredService<StatsMeter>();
        var proxyState = app.Services.GetRequiredService<IProxyStateLookup>();
        var destinationsUpdater = app.Services.GetRequiredService<IClusterDestinationsUpdater>();
        runtime.Clusters.AvailabilityChanged = cluster =>
        {
            if (proxyState.TryGetCluster(cluster.Name, out var state))
            {
                destinationsUpdater.UpdateAvailableDestinations(state);
            }
        };
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>();
        var tracking = runtime.TrackProxyEndpoints(endpoints);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var serverStats = app.Services.GetRequiredService<ServerStats>();
        serverStats.OpenConnections = runtime.OpenDownstreamConnections;
        var clock = app.Services.GetRequiredService<TimeProvider>();
        serverStats.DaysUntilFirstCertExpiring = () => Admin.CertsHandler.DaysUntilFirstCertExpiring(Admin.CertsHandler.Contexts(runtime), clock.GetUtcNow());
        // Changes from xDS are applied to the running gateway from now on, YARP's part through its provider.
        var manager = app.Services.GetRequiredService<ConfigManager>();
        var proxyProvider = app.Services.GetRequiredService<GatewayProxyConfigProvider>();
        var healthChecks = app.Services.GetRequiredService<HealthCheckService>();
        manager.Attach(plan => runtime.ApplyAsync(plan, proxyProvider, healthChecks), runtime.Plan);
        lifetime.ApplicationStarted.Register(() =>
        {
            runtime.Server.SetState(ServerState.Live);
            serverStats.WorkersStarted.Set(1);
            manager.Started();
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            serverStats.InitializationTimeMs.Record((DateTime.Now - process.StartTime).TotalMilliseconds);
        });
        lifetime.ApplicationStopping.Register(() => runtime.Server.SetState(ServerState.Draining));
        lifetime.ApplicationStopping.Register(manager.Dispose);
        lifetime.ApplicationStopped.Register(tracking.Dispose);
        var badRequests = KestrelBadRequestObserver.Subscribe(app.Services.GetService<System.Diagnostics.DiagnosticListener>(), app.Services.GetRequiredService<AdminHandler>().Stats);
        if (badRequests is not null)
        {
            lifetime.ApplicationStopped.Register(badRequests.Dispose);
        }
        return app;
    }

    /// <summary>The build revision (hex) from the entry assembly's informational version (<c>1.0.0+&lt;sha&gt;</c>).</summary>
    private static string? BuildRevision()
    {
        var informational = System.Reflection.Assembly.GetEntryAssembly()?
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
        var plus = informational?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        return plus >= 0 ? informational![(plus + 1)..] : null;
    }

    /// <summary>
    /// Kestrel's limits set from Envoy's defaults (they are server-wide; Envoy's are per connection manager, and
    /// the HCM fields that would change the others are not supported yet). Envoy streams bodies of any size at
    /// any rate, keeps idle connections an hour (<c>common_http_protocol_options.idle_timeout</c>), and allows
    /// <paramref name="maxRequestHeadersBytes"/> of URL and headers (<c>max_request_headers_kb</c>) and 100
    /// headers (<c>max_headers_count</c>).
    /// </summary>
    internal static void ApplyEnvoyLimits(KestrelServerLimits limits, int maxRequestHeadersBytes, TimeSpan requestHeadersTimeout = default, TimeSpan? idleTimeout = null,
        int maxHeadersCount = DownstreamRequestValidator.MaxRequestHeadersCount, DownstreamHttp2Plan? http2 = null)
    {
        limits.MaxRequestBodySize = null;
        limits.MinRequestBodyDataRate = null;
        limits.MinResponseDataRate = null;
        // common_http_protocol_options.idle_timeout: how long a connection with no request may stay (0: for ever).
        var idle = idleTimeout ?? ConnectionManagerPlan.DefaultIdleTimeout;
        limits.KeepAliveTimeout = idle > TimeSpan.Zero ? idle : Timeout.InfiniteTimeSpan;
        // Kestrel limits the request line and the header lines apart, counting ": " and CRLF; Envoy counts the
        // URL and every name and value together. Kestrel's limits are set so that whatever Envoy accepts passes
        // (the longest method and the version on the line; separators on 100 header lines), and
        // DownstreamRequestValidator applies Envoy's sum.
        limits.MaxRequestLineSize = (2 * maxRequestHeadersBytes) + 32;
        limits.MaxRequestHeadersTotalSize = maxRequestHeadersBytes + (4 * maxHeadersCount) + 2;
        // common_http_protocol_options.max_headers_count: Kestrel answers 431 beyond it, as Envoy's HTTP/1 codec.
        limits.MaxRequestHeaderCount = maxHeadersCount;
        // request_headers_timeout, from the headers' first byte as in Envoy. Unset, Kestrel's 30 s is kept: Envoy has none
        // by default, which leaves an edge proxy open to slowloris. See docs/compatibility.md.
        if (requestHeadersTimeout > TimeSpan.Zero)
        {
            limits.RequestHeadersTimeout = requestHeadersTimeout;
        }
        // HTTP/2: the connection managers' http2_protocol_options (agreed by validation), else Envoy's defaults since 1.36
        // (max_concurrent_streams 1024, initial windows 16 MiB / 24 MiB).
        http2 ??= DownstreamHttp2Plan.Default;
        limits.Http2.MaxStreamsPerConnection = http2.MaxConcurrentStreams;
        limits.Http2.InitialStreamWindowSize = http2.InitialStreamWindowSize;
        limits.Http2.InitialConnectionWindowSize = http2.InitialConnectionWindowSize;
        limits.Http2.HeaderTableSize = http2.HpackTableSize;
        limits.Http2.KeepAlivePingDelay = http2.KeepaliveInterval ?? Timeout.InfiniteTimeSpan;
        if (http2.KeepaliveTimeout is { } pingTimeout)
        {
            limits.Http2.KeepAlivePingTimeout = pingTimeout;
        }
        limits.Http2.MaxRequestHeaderFieldSize = maxRequestHeadersBytes;
    }

    private static bool IsHttp2(Microsoft.AspNetCore.Connections.ConnectionContext connection)
        => connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>()?.ApplicationProtocol.Span
            .SequenceEqual(System.Net.Security.SslApplicationProtocol.Http2.Protocol.Span) == true;

    /// <summary>
    /// TLS termination between the listener's connection step (which charges <c>ssl.connection_error</c> for a handshake
    /// that failed for another reason than peer verification) and the connection manager: Kestrel's HTTPS middleware with
    /// the listener's current TLS context, then a step charging a completed handshake's stats (Envoy's
    /// ContextImpl::logHandshake) and the codec ALPN chose.
    /// </summary>
    private static void UseDownstreamTls(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions options)
    {
        Microsoft.AspNetCore.Hosting.ListenOptionsHttpsExtensions.UseHttps(options, new Microsoft.AspNetCore.Server.Kestrel.Https.TlsHandshakeCallbackOptions
        {
            OnConnection = static context =>
            {
                var state = context.Connection.Features.Get<Gateway.Tls.TlsHandshakeState>()!;
                return ValueTask.FromResult(state.Tls.OptionsFor(state, context.ClientHelloInfo.ServerName));
            },
        });
        options.Use(next => connection =>
        {
            var state = connection.Features.Get<Gateway.Tls.TlsHandshakeState>()!;
            state.Completed = true;
            var stats = state.Tls.Stats;
            stats.Handshake.Increment();
            var handshake = connection.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>();
            if (handshake is not null)
            {
                stats.Version(handshake.Protocol).Increment();
                if (handshake.NegotiatedCipherSuite is { } suite)
                {
                    stats.Cipher(suite).Increment();
                }
            }
            var clientCertificate = connection.Features.Get<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>()?.ClientCertificate;
            if (clientCertificate is null)
            {
                stats.NoCertificate.Increment();
            }
            // The connection's TLS facts, read by x-forwarded-client-cert and the %DOWNSTREAM_PEER_*% operators.
            connection.Features.Set(state.Tls.Describe(state, connection.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream,
                handshake?.Protocol ?? System.Security.Authentication.SslProtocols.None, handshake?.NegotiatedCipherSuite, clientCertificate));
            var http2 = IsHttp2(connection);
            state.Http2 = http2;
            state.ConnectionManager.CodecCreated(http2);
            if (connection.Features.Get<DownstreamConnection>() is { } tracked)
            {
                connection.Transport = tracked.Observe(connection.Transport);
            }
            // A TCP proxy chain's decrypted bytes go to its session, never to HTTP.
            return connection.Features.Get<TcpProxy.TcpProxySession>() is { } session ? session.RunAsync(connection) : next(connection);
        });
    }

    /// <summary>
    /// The listeners' <c>tcp_backlog_size</c> (validation made them agree), else Envoy's Linux default: the kernel's
    /// <c>net.core.somaxconn</c>, which <c>listen()</c> caps any larger backlog at. Kestrel's transport has one for all endpoints.
    /// </summary>
    internal static int Backlog(GatewayPlan plan)
    {
        foreach (var listener in plan.Listeners)
        {
            if (listener.TcpBacklogSize is { } backlog)
            {
                return backlog;
            }
        }
        return int.MaxValue;
    }

    private static void BindListeners(KestrelServerOptions kestrel, GatewayRuntime runtime, AdminHandler admin)
    {
        // Envoy sends its own server header (server_name); Kestrel's would be a second one.
        kestrel.AddServerHeader = false;
        // Header values are bytes to Envoy: Latin-1 maps each byte to one char and back, so obs-text reaches
        // the upstream (and upstream bytes the client) unchanged. Kestrel's default is ASCII, or UTF-8 on a
        // request, which turns such bytes into chars the upstream connection cannot encode.
        // Content-Length keeps Kestrel's own decoding: with a custom encoding Kestrel copies the value into a
        // fixed buffer and an over-long value kills the connection instead of getting its 400 (it is digits anyway).
        kestrel.RequestHeaderEncodingSelector = static name =>
            string.Equals(name, HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase) ? null : System.Text.Encoding.Latin1;
        kestrel.ResponseHeaderEncodingSelector = static _ => System.Text.Encoding.Latin1;
        // An absolute-form target's authority replaces the Host header, as in Envoy's codec; Kestrel would answer 400 when they differ.
        kestrel.AllowHostHeaderOverride = true;
        // Kestrel's limits are server-wide: they admit the largest max_request_headers_kb of any connection
        // manager, and each listener's own is applied by DownstreamRequestValidator.
        var maxRequestHeadersBytes = AdminHandler.AdminMaxRequestHeadersBytes;
        // Validation made the connection managers that set request_headers_timeout agree.
        var requestHeadersTimeout = TimeSpan.Zero;
        TimeSpan? idleTimeout = null;
        var maxHeadersCount = DownstreamRequestValidator.MaxRequestHeadersCount;
        DownstreamHttp2Plan? http2 = null;
        foreach (var listener in runtime.Plan.Listeners)
        {
            foreach (var chain in listener.AllChains())
            {
                maxRequestHeadersBytes = Math.Max(maxRequestHeadersBytes, chain.ConnectionManager.MaxRequestHeadersBytes);
                if (chain.TcpProxy is null)
                {
                    // Validation made every connection manager agree on these (unset ones have Envoy's defaults).
                    idleTimeout = chain.ConnectionManager.IdleTimeout;
                    maxHeadersCount = chain.ConnectionManager.MaxHeadersCount;
                    http2 = chain.ConnectionManager.Http2;
                }
                if (chain.ConnectionManager.RequestHeadersTimeout > TimeSpan.Zero)
                {
                    requestHeadersTimeout = chain.ConnectionManager.RequestHeadersTimeout;
                }
            }
        }
        ApplyEnvoyLimits(kestrel.Limits, maxRequestHeadersBytes, requestHeadersTimeout, idleTimeout, maxHeadersCount, http2);
        if (runtime.AdminSlot is { } adminSlot && runtime.AdminEndPoint is { } adminEndPoint)
        {
            kestrel.Listen(adminEndPoint, options =>
            {
                runtime.RecordBinding(adminSlot, options);
                options.Protocols = HttpProtocols.Http1;
                options.Use(next => connection =>
                {
                    connection.Features.Set(adminSlot);
                    return admin.OnConnectionAsync(next, connection);
                });
            });
        }
        runtime.ConfigureListener = ConfigureListener;
        foreach (var listener in runtime.Plan.Listeners)
        {
            if (listener.FromLds)
            {
                continue;
            }
            var slot = runtime.SlotFor(listener.Name);
            var endPoint = new IPEndPoint(IPAddress.Parse(listener.Address), listener.Port);
            if (listener.SocketOptions.Count != 0)
            {
                runtime.ListenSockets.Register(endPoint, listener.SocketOptions);
            }
            kestrel.Listen(endPoint, options => ConfigureListener(options, slot, listener, runtime));
        }
        if (runtime.DynamicEndpoints is { } dynamic)
        {
            // LDS listeners are Kestrel configuration endpoints, the only ones Kestrel binds and unbinds while it runs.
            dynamic.Attach(kestrel);
            runtime.SyncDynamicEndpoints();
        }
    }

    /// <summary>One listener's Kestrel endpoint: its connection step, the TLS step when a chain has TLS, then HTTP.</summary>
    private static void ConfigureListener(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions options, ListenerSlot slot, ListenerPlan listener, GatewayRuntime runtime)
    {
        runtime.RecordBinding(slot, options);
        options.Protocols = listener.Protocols;
        var handler = new ListenerConnectionHandler(slot, runtime.Server);
        options.Use(next =>
        {
            // With TLS chains, next is the TLS step; the plain-text chains' way round it is captured below.
            handler.TlsPipeline = next;
            return handler.OnConnectionAsync;
        });
        if (listener.AnyTls)
        {
            UseDownstreamTls(options);
        }
        options.Use(next =>
        {
            // Kestrel's HTTP step (added after the configure callback), where a plain-text chain goes directly.
            handler.PlainPipeline = next;
            return next;
        });
    }

    /// <summary>A branch of YARP's pipeline, so that YARP's own steps (whose extensions want its builder type) can be added to it.</summary>
    private sealed class ReverseProxyBranch(IApplicationBuilder inner) : IReverseProxyApplicationBuilder
    {
        public IServiceProvider ApplicationServices
        {
            get => inner.ApplicationServices;
            set => inner.ApplicationServices = value;
        }

        public Microsoft.AspNetCore.Http.Features.IFeatureCollection ServerFeatures => inner.ServerFeatures;

        public IDictionary<string, object?> Properties => inner.Properties;

        public RequestDelegate Build() => inner.Build();

        public IApplicationBuilder New() => inner.New();

        public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware) => inner.Use(middleware);
    }
}
