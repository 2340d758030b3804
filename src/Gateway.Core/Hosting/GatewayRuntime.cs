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
internal sealed partial class GatewayRuntime : IEnvoyGateway, IDisposable
{
    private readonly ClusterRegistry _clusters;
    private readonly StatsStore _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _outlierLogger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ListenerSlot> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutlierDetector> _outlierDetectors = new(StringComparer.Ordinal);
    private readonly Lock _applyLock = new();
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private readonly ILogger _configLogger;
    private TaskCompletionSource _endpointsResolved = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
        _configLogger = (loggers ?? NullLoggerFactory.Instance).CreateLogger(ConfigLoggerName);
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

    /// <summary>The slot of a listener, when the gateway has it (LDS adds and removes them).</summary>
    public bool TryGetSlot(string listenerName, out ListenerSlot slot) => _slots.TryGetValue(listenerName, out slot!);

    /// <summary>Makes <paramref name="plan"/> current without YARP (at construction, and for tests that drive no proxy).</summary>
    public void Apply(GatewayPlan plan) => ApplyAsync(plan, null, null).GetAwaiter().GetResult();

    /// <summary>
    /// Makes <paramref name="plan"/> current as one unit. Everything that can fail is built first (the listeners' filter
    /// chains, route tables and TLS contexts, against the new cluster set), so a failure leaves the running configuration
    /// untouched. Then: the clusters' settings, YARP with the new clusters added (the removed ones still there) and
    /// their endpoints resolved, the listeners swapped (a request sees the old configuration or the new one, never a
    /// mix; connections keep the chain they were given), and last the removed clusters retired: out of YARP and the
    /// registry, their stats dropped as Envoy drops a removed cluster's scope, their health checks stopped.
    /// </summary>
    /// <param name="proxy">YARP's configuration; null before YARP runs (it then reads the plan at start-up).</param>
    public async Task ApplyAsync(GatewayPlan plan, GatewayProxyConfigProvider? proxy, Clusters.HealthChecking.HealthCheckService? healthChecks)
    {
        await _applyGate.WaitAsync().ConfigureAwait(false);
        try
        {
            // At construction Plan is already this plan: nothing is retired.
            var previous = Plan;
            // Contexts (listeners' and clusters') take their file-based secrets' certificates from the subscriptions.
            _secrets.Apply(plan);
            var wanted = new HashSet<string>(StringComparer.Ordinal);
            var created = new List<string>();
            foreach (var cluster in plan.ClusterPlans)
            {
                wanted.Add(cluster.Name);
                if (!_clusters.TryGet(cluster.Name, out _))
                {
                    // A new cluster's settings go in now: nothing routes to it before the listeners built below, and
                    // what they build may read them (tracers' collector clusters, the health check filter).
                    _clusters.GetOrCreate(cluster.Name).Plan = cluster;
                    created.Add(cluster.Name);
                }
            }
            var retired = new List<ClusterPlan>();
            foreach (var cluster in previous.ClusterPlans)
            {
                if (!wanted.Contains(cluster.Name))
                {
                    retired.Add(cluster);
                }
            }
            // The listeners' routes hold cluster handles: with the same clusters, an unchanged listener plan keeps its chains.
            var sameClusters = created.Count == 0 && retired.Count == 0;
            List<(ListenerSlot Slot, ListenerChains Runtime)> runtimes;
            try
            {
                runtimes = new List<(ListenerSlot, ListenerChains)>();
                foreach (var listener in plan.Listeners)
                {
                    // A listener LDS adds gets its slot now; its Kestrel endpoint is bound once it serves (below).
                    var slot = _slots.GetOrAdd(listener.Name, static name => new ListenerSlot(name, isAdmin: false));
                    var kept = sameClusters && slot.Current is { } current && ReferenceEquals(current.Plan, listener) ? current : null;
                    runtimes.Add((slot, kept ?? ListenerChains.Build(listener, _clusters, _stats, _filterServices, _tracers, plan.Node, _secrets)));
                }
            }
            catch
            {
                foreach (var name in created)
                {
                    _clusters.Remove(name);
                }
                foreach (var (name, slot) in _slots)
                {
                    if (slot.Current is null)
                    {
                        _slots.TryRemove(name, out _);
                    }
                }
                throw;
            }

            foreach (var cluster in plan.ClusterPlans)
            {
                var runtime = _clusters.GetOrCreate(cluster.Name);
                if (!ReferenceEquals(runtime.Plan, cluster))
                {
                    runtime.Plan = cluster;
                }
            }
            ApplyOutlierDetection(plan);
            if (proxy is not null)
            {
                // YARP first gets the new clusters beside the old ones: requests still on the old listeners keep theirs.
                proxy.Update(WithRetired(plan.Routes, previous.Routes, r => r.ClusterId, wanted), WithRetired(plan.Clusters, previous.Clusters, c => c.ClusterId, wanted));
                await WaitForProxyEndpointsAsync(created).ConfigureAwait(false);
            }
            var listenerNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (slot, runtime) in runtimes)
            {
                listenerNames.Add(slot.Name);
                var current = slot.Current;
                if (ReferenceEquals(current, runtime))
                {
                    continue;
                }
                slot.Current = runtime;
                if (current is null)
                {
                    continue;
                }
                if (current.Plan.Definition is { } definition && ReferenceEquals(definition, runtime.Plan.Definition))
                {
                    // Same listener, new routes or clusters: its connections use the new chains from their next request.
                    current.HandOver(runtime);
                }
                else
                {
                    // A changed listener: new connections get the new chains, the old ones drain (Envoy's listener update).
                    DrainListener(current);
                }
            }
            // The plan first: what reads it (admin, stats) then finds a slot for each of its listeners.
            Plan = plan;
            foreach (var (name, slot) in _slots)
            {
                if (!listenerNames.Contains(name) && _slots.TryRemove(name, out _) && slot.Current is { } removed)
                {
                    DrainListener(removed, dropStats: true);
                }
            }
            _tracers.Retain(plan);
            SyncDynamicEndpoints();
            if (proxy is not null && retired.Count > 0)
            {
                proxy.Update(plan.Routes, plan.Clusters);
            }
            foreach (var cluster in retired)
            {
                Retire(cluster.Name, wanted);
            }
            if (healthChecks is not null)
            {
                await healthChecks.ApplyAsync(plan).ConfigureAwait(false);
            }
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>Envoy's <c>--drain-time-s</c> and <c>--drain-strategy</c>: how a changed or removed listener's connections drain.</summary>
    public DrainOptions Drain { get; init; } = new();

    /// <summary>The Kestrel endpoints of LDS listeners; null when the configuration has no <c>lds_config</c>.</summary>
    internal ListenerEndpoints? DynamicEndpoints { get; init; }

    /// <summary>Sets a listener's Kestrel endpoint up (given by the hosting code that binds the listeners).</summary>
    internal Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions, ListenerSlot, ListenerPlan, GatewayRuntime>? ConfigureListener { get; set; }

    /// <summary>Binds the LDS listeners' endpoints that are new or moved and unbinds those removed (once Kestrel follows them).</summary>
    internal void SyncDynamicEndpoints()
    {
        if (DynamicEndpoints is not { Attached: true } endpoints || ConfigureListener is not { } configure)
        {
            return;
        }
        var wanted = new List<(string, string, string, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>)>();
        foreach (var listener in Plan.Listeners)
        {
            if (!listener.FromLds || !_slots.TryGetValue(listener.Name, out var slot))
            {
                continue;
            }
            if (listener.SocketOptions.Count != 0)
            {
                ListenSockets.Register(new IPEndPoint(IPAddress.Parse(listener.Address), listener.Port), listener.SocketOptions);
            }
            var plan = listener;
            wanted.Add((listener.Name, ListenerEndpoints.UrlOf(listener.Address, listener.Port), listener.Binding, options => configure(options, slot, plan, this)));
        }
        endpoints.Set(wanted);
    }

    /// <param name="dropStats">The listener was removed: once drained, its <c>listener.&lt;address or stat_prefix&gt;.</c> stats go (Envoy deletes its scope), unless a listener still serving has that scope.</param>
    private void DrainListener(ListenerChains chains, bool dropStats = false)
    {
        var draining = _stats.Gauge("listener_manager.total_listeners_draining");
        draining.Increment();
        chains.BeginDrain(Drain.DrainTime, Drain.Strategy == DrainStrategy.Gradual, _filterServices?.Random ?? Random.Shared, () =>
        {
            draining.Decrement();
            if (dropStats)
            {
                DropListenerStats(chains.Plan.StatScope);
            }
        });
    }

    private void DropListenerStats(string statScope)
    {
        // The scope is listener.<address> or listener.<stat_prefix> (StatNames.ListenerScope).
        var scope = statScope + ".";
        var keep = new List<string>();
        foreach (var slot in _slots.Values)
        {
            if (slot.Current?.Plan.StatScope is { } other)
            {
                if (other == statScope)
                {
                    return;
                }
                if ((other + ".").StartsWith(scope, StringComparison.Ordinal))
                {
                    keep.Add(other + ".");
                }
            }
        }
        _stats.RemoveScope(scope, keep);
    }

    private static List<T> WithRetired<T>(IReadOnlyList<T> current, IReadOnlyList<T> previous, Func<T, string?> cluster, HashSet<string> wanted)
    {
        var all = new List<T>(current);
        foreach (var item in previous)
        {
            if (cluster(item) is { } name && !wanted.Contains(name))
            {
                all.Add(item);
            }
        }
        return all;
    }

    /// <summary>
    /// A removed cluster: its per-host pools disposed (YARP drops its client without disposing it), out of the registry,
    /// and its <c>cluster.&lt;name&gt;.</c> stats dropped, except those of a remaining cluster whose name extends it with a dot.
    /// </summary>
    private void Retire(string name, HashSet<string> remaining)
    {
        if (_clusters.TryGet(name, out var runtime))
        {
            runtime.AdoptHostPools(null);
        }
        _clusters.Remove(name);
        var scope = "cluster." + name + ".";
        var keep = new List<string>();
        foreach (var other in remaining)
        {
            if (other.StartsWith(name + ".", StringComparison.Ordinal))
            {
                keep.Add("cluster." + other + ".");
            }
        }
        _stats.RemoveScope(scope, keep);
    }

    /// <summary>Waits (bounded) until YARP has made an endpoint for each new cluster, so the listeners routing to them can be swapped in.</summary>
    private async Task WaitForProxyEndpointsAsync(List<string> created)
    {
        if (created.Count == 0)
        {
            return;
        }
        // A safety bound on the real clock: YARP applies a configuration in milliseconds.
        var deadline = TimeProvider.System.GetTimestamp() + (long)(ProxyEndpointsTimeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            var signal = Volatile.Read(ref _endpointsResolved).Task;
            var missing = 0;
            foreach (var name in created)
            {
                if (_clusters.TryGet(name, out var cluster) && cluster.ProxyEndpoint is null)
                {
                    missing++;
                }
            }
            var left = deadline - TimeProvider.System.GetTimestamp();
            if (missing == 0 || left <= 0)
            {
                if (missing > 0)
                {
                    LogProxyEndpointsLate(_configLogger, missing);
                }
                return;
            }
            try
            {
                await signal.WaitAsync(TimeSpan.FromSeconds((double)left / TimeProvider.System.TimestampFrequency)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked once more above, then logged.
            }
        }
    }

    private static readonly TimeSpan ProxyEndpointsTimeout = TimeSpan.FromSeconds(5);

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

    /// <summary>Envoy's "config" logger: the configuration manager and its subscriptions.</summary>
    internal const string ConfigLoggerName = "Gateway.Config";

    [LoggerMessage(EventId = LogEvents.ConfigProxyEndpointsLate, Level = LogLevel.Warning, Message = "YARP has not made the endpoints of {Count} new cluster(s) in time; routes to them answer 503 until it does")]
    private static partial void LogProxyEndpointsLate(ILogger logger, int count);

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
        Interlocked.Exchange(ref _endpointsResolved, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
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
