using System.Net;
using Gateway.Admin;
using Gateway.Clusters;
using Gateway.Clusters.OutlierDetection;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Model;

namespace Gateway.Hosting;

/// <summary>
/// The running gateway: the applied plan, one <see cref="ListenerSlot"/> per listener (bound to Kestrel
/// at start-up) and the cluster runtimes. Applying builds everything new first and then swaps, so a
/// request sees either the old configuration or the new one, never a mix.
/// </summary>
internal sealed class GatewayRuntime : IEnvoyGateway, IDisposable
{
    private readonly ClusterRegistry _clusters;
    private readonly StatsStore _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _outlierLogger;
    private readonly Dictionary<string, ListenerSlot> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutlierDetector> _outlierDetectors = new(StringComparer.Ordinal);
    private readonly Lock _applyLock = new();

    private readonly Filters.FilterServices? _filterServices;
    private readonly Tracing.TracerManager _tracers;
    private readonly Tls.SdsSubscriptions _secrets;

    public GatewayRuntime(GatewayPlan plan, ClusterRegistry clusters, StatsStore stats, ServerState server, TimeProvider? time = null, ILoggerFactory? loggers = null, Filters.FilterServices? filterServices = null, Tracing.TracingClusterClient? tracingClusterClient = null)
    {
        _filterServices = filterServices;
        _clusters = clusters;
        _stats = stats;
        _time = time ?? TimeProvider.System;
        _outlierLogger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("Gateway.Clusters.OutlierDetection");
        _tracers = CreateTracerManager(plan, stats, _time, loggers ?? NullLoggerFactory.Instance, filterServices?.Random ?? Random.Shared, tracingClusterClient);
        _secrets = new Tls.SdsSubscriptions(stats, _time, (loggers ?? NullLoggerFactory.Instance).CreateLogger(Tls.SdsSubscriptions.LoggerCategory));
        clusters.Secrets = _secrets;
        Server = server;
        Plan = plan;
        AdminSlot = plan.Admin is null ? null : new ListenerSlot("admin", isAdmin: true);
        foreach (var listener in plan.Listeners)
        {
            _slots[listener.Name] = new ListenerSlot(listener.Name, isAdmin: false);
        }
        Apply(plan);
    }

    public GatewayPlan Plan { get; private set; }

    public ServerState Server { get; }

    public ListenerSlot? AdminSlot { get; }

    public ClusterRegistry Clusters => _clusters;

    public ListenerSlot SlotFor(string listenerName) => _slots[listenerName];

    /// <summary>Makes <paramref name="plan"/> current for the listeners and clusters (YARP's part is pushed by the caller).</summary>
    public void Apply(GatewayPlan plan)
    {
        // First: clusters' and listeners' contexts take their file-based secrets' certificates from the subscriptions.
        _secrets.Apply(plan);
        var configured = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cluster in plan.ClusterPlans)
        {
            _clusters.GetOrCreate(cluster.Name).Plan = cluster;
            configured.Add(cluster.Name);
        }
        foreach (var cluster in _clusters.All)
        {
            if (!configured.Contains(cluster.Name))
            {
                // A removed cluster's client is dropped by YARP, not disposed: its per-host pools are disposed here.
                cluster.AdoptHostPools(null);
            }
        }
        ApplyOutlierDetection(plan);
        var runtimes = new List<(ListenerSlot Slot, ListenerChains Runtime)>();
        foreach (var listener in plan.Listeners)
        {
            if (_slots.TryGetValue(listener.Name, out var slot))
            {
                runtimes.Add((slot, ListenerChains.Build(listener, _clusters, _stats, _filterServices, _tracers, plan.Node, _secrets)));
            }
        }
        foreach (var (slot, runtime) in runtimes)
        {
            slot.Current = runtime;
        }
        Plan = plan;
        _tracers.Retain(plan);
    }

    /// <summary>The file-based SDS subscriptions of the applied configuration.</summary>
    internal Tls.SdsSubscriptions Secrets => _secrets;

    /// <summary>The running tracers (one per distinct provider configuration).</summary>
    internal Tracing.TracerManager Tracers => _tracers;

    /// <summary>
    /// The tracer manager and what its tracers are built with. <see cref="Tracing.TracerContext.ClusterClient"/> is the
    /// seam for the gateway's async cluster client: a registered <see cref="Tracing.TracingClusterClient"/>, else <see cref="Tracing.TracerManager.UnwiredClusterClient"/>.
    /// </summary>
    private static Tracing.TracerManager CreateTracerManager(GatewayPlan plan, StatsStore stats, TimeProvider time, ILoggerFactory loggers, Random random, Tracing.TracingClusterClient? clusterClient)
        => new(new Tracing.TracerContext(stats, time, random, loggers, clusterClient?.ForCluster ?? Tracing.TracerManager.UnwiredClusterClient, plan.Node.ServiceCluster, plan.Node.NodeId),
            loggers.CreateLogger("Gateway.Tracing"));

    /// <summary>
    /// Attaches an outlier detector to each cluster whose plan has outlier detection, keeps the running one
    /// when its settings did not change, and stops (returning its ejected hosts) the ones no longer configured.
    /// </summary>
    private void ApplyOutlierDetection(GatewayPlan plan)
    {
        lock (_applyLock)
        {
            var configured = new HashSet<string>(StringComparer.Ordinal);
            foreach (var clusterPlan in plan.ClusterPlans)
            {
                var cluster = _clusters.GetOrCreate(clusterPlan.Name);
                if (clusterPlan.OutlierDetection is not { } outlier)
                {
                    continue;
                }
                configured.Add(clusterPlan.Name);
                if (_outlierDetectors.TryGetValue(clusterPlan.Name, out var running))
                {
                    if (running.Plan == outlier)
                    {
                        continue;
                    }
                    running.Stop(returnEjectedHosts: true);
                }
                var detector = new OutlierDetector(cluster, outlier, new OutlierDetectionStats(_stats, clusterPlan.Name), _time, _outlierLogger);
                _outlierDetectors[clusterPlan.Name] = detector;
                cluster.OutcomeObserver = detector;
            }
            foreach (var name in _outlierDetectors.Keys.Where(n => !configured.Contains(n)).ToArray())
            {
                _outlierDetectors[name].Stop(returnEjectedHosts: true);
                _outlierDetectors.Remove(name);
            }
        }
    }

    /// <summary>The outlier detector of <paramref name="clusterName"/>, or null when it has none.</summary>
    public OutlierDetector? OutlierDetectorFor(string clusterName)
    {
        lock (_applyLock)
        {
            return _outlierDetectors.GetValueOrDefault(clusterName);
        }
    }

    /// <summary>Stops the outlier detectors' timers and the secret watches (the host is shutting down).</summary>
    public void Dispose()
    {
        lock (_applyLock)
        {
            foreach (var detector in _outlierDetectors.Values)
            {
                detector.Dispose();
            }
            _outlierDetectors.Clear();
        }
        _tracers.Dispose();
        _secrets.Dispose();
    }

    /// <summary>Downstream connections open on all data listeners now (<c>server.total_connections</c>).</summary>
    public long OpenDownstreamConnections()
    {
        long total = 0;
        foreach (var slot in _slots.Values)
        {
            total += slot.Current?.Stats.DownstreamCxActive.Value ?? 0;
        }
        return total;
    }

    /// <summary>Points each cluster at YARP's endpoint for its route; runs whenever YARP's endpoints change.</summary>
    public void ResolveProxyEndpoints(EndpointDataSource dataSource)
    {
        foreach (var endpoint in dataSource.Endpoints)
        {
            var route = endpoint.Metadata.GetMetadata<RouteModel>();
            if (route?.Config.Metadata?.ContainsKey(EnvoyTranslator.RouteKindMetadata) == true
                && route.Config.ClusterId is { } clusterId
                && _clusters.TryGet(clusterId, out var cluster))
            {
                cluster.ProxyEndpoint = endpoint;
            }
        }
    }

    /// <summary>Keeps <see cref="ResolveProxyEndpoints"/> current.</summary>
    public IDisposable TrackProxyEndpoints(EndpointDataSource dataSource)
    {
        ResolveProxyEndpoints(dataSource);
        return ChangeToken.OnChange(dataSource.GetChangeToken, () => ResolveProxyEndpoints(dataSource));
    }

    /// <summary>Where the admin API is really bound once Kestrel has started (port 0 resolved); null without admin.</summary>
    public IPEndPoint? AdminBoundEndPoint => _adminBinding?.IPEndPoint;

    /// <summary>Where a listener is really bound once Kestrel has started (port 0 resolved).</summary>
    public IPEndPoint? ListenerBoundEndPoint(string listenerName) => _bindings.TryGetValue(listenerName, out var options) ? options.IPEndPoint : null;

    /// <summary>The listening sockets Kestrel's transport asks for: the listeners' <c>socket_options</c> are set on them.</summary>
    internal ListenSockets ListenSockets { get; } = new();

    internal void RecordBinding(ListenerSlot slot, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions options)
    {
        if (slot.IsAdmin)
        {
            _adminBinding = options;
        }
        else
        {
            _bindings[slot.Name] = options;
        }
    }

    private readonly Dictionary<string, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> _bindings = new(StringComparer.Ordinal);
    private Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? _adminBinding;

    /// <summary>The endpoint Kestrel should bind for the admin listener.</summary>
    public IPEndPoint? AdminEndPoint => Plan.Admin is { } admin ? new IPEndPoint(IPAddress.Parse(admin.Address), admin.Port) : null;
}
