using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RoutingPriority = Gateway.Configuration.RoutingPriority;
using EnvoyMetadata = Gateway.Configuration.EnvoyMetadata;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters;

/// <summary>
/// The running side of one cluster: its stats and the YARP endpoint that forwards to it. One object
/// per cluster name for the life of the process, so request-path references stay valid across reloads.
/// </summary>
internal sealed class ClusterRuntime
{
    private readonly ConcurrentDictionary<string, UpstreamHost> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConditionalWeakTable<DestinationState, UpstreamHost> _byDestination = new();
    private Endpoint? _proxyEndpoint;
    private readonly int[] _activeRequests = new int[2];
    private readonly int[] _activeRetries = new int[2];

    private readonly Action<ClusterRuntime>? _availabilityChanged;
    private UpstreamHost[] _members = [];
    private volatile bool _inPanic;

    public ClusterRuntime(string name, ClusterStats stats, Action<ClusterRuntime>? availabilityChanged = null)
    {
        Name = name;
        Stats = stats;
        RouteId = EnvoyTranslator.RouteIdFor(name);
        _availabilityChanged = availabilityChanged;
    }

    public string Name { get; }

    public string RouteId { get; }

    public ClusterStats Stats { get; }

    /// <summary>The plan currently applied.</summary>
    public ClusterPlan? Plan
    {
        get => _plan;
        set
        {
            _plan = value;
            // A reload may change the policy or the weights without changing the hosts (YARP then recomputes nothing).
            RebuildPicker(Volatile.Read(ref _available));
        }
    }

    private ClusterPlan? _plan;

    /// <summary>The cluster's <c>metadata</c> (Envoy's <c>ClusterInfo::metadata()</c>), frozen with the plan; empty when it has none.</summary>
    public EnvoyMetadata Metadata => Plan?.Metadata ?? EnvoyMetadata.Empty;

    /// <summary>
    /// Takes a request slot (an upstream attempt) under the priority's <c>max_requests</c> and
    /// <c>max_pending_requests</c>; false means overflow: Envoy answers 503 with x-envoy-overloaded.
    /// Requests beyond the open connections wait for one (HTTP/1.1), so that many are "pending". A request
    /// that finds no idle connection while <c>max_connections</c> are open counts <c>upstream_cx_overflow</c>
    /// (Envoy's ConnPoolImplBase::tryCreateNewConnection: a new connection was wanted and refused).
    /// </summary>
    public bool TryAcquireRequest(RoutingPriority priority) => AdmitRequest(priority) == RequestAdmission.Admitted;

    /// <summary>
    /// <see cref="TryAcquireRequest"/>, saying which limit refused: with no idle connection the request would wait, so
    /// <c>max_pending_requests</c> is checked first (Envoy's pool fails it before it has a connection, so without a host);
    /// otherwise <c>max_requests</c> (Envoy checks it when attaching the stream to a connection of the chosen host).
    /// </summary>
    public RequestAdmission AdmitRequest(RoutingPriority priority)
    {
        var limits = Thresholds(priority);
        ref var active = ref _activeRequests[(int)priority];
        while (true)
        {
            var current = Volatile.Read(ref active);
            var connections = Stats.UpstreamCxActive.Value;
            var atConnectionLimit = connections >= limits.MaxConnections;
            var pendingOverflow = atConnectionLimit && current - connections >= limits.MaxPendingRequests;
            if (pendingOverflow || current >= limits.MaxRequests)
            {
                Stats.UpstreamRqPendingOverflow.Increment();
                PublishLimits(priority);
                return pendingOverflow ? RequestAdmission.PendingOverflow : RequestAdmission.RequestsOverflow;
            }
            if (Interlocked.CompareExchange(ref active, current + 1, current) == current)
            {
                // Connections are shared by both priorities' requests: idle ones exist only if they outnumber all requests.
                if (atConnectionLimit && TotalActiveRequests() - 1 >= connections)
                {
                    Stats.UpstreamCxOverflow.Increment();
                }
                PublishLimits(priority);
                return RequestAdmission.Admitted;
            }
        }
    }

    /// <summary>Gives a request slot back.</summary>
    public void ReleaseRequest(RoutingPriority priority)
    {
        Interlocked.Decrement(ref _activeRequests[(int)priority]);
        PublishLimits(priority);
    }

    /// <summary>
    /// Takes a retry slot, or returns false (retry overflow). The limit is the priority's <c>retry_budget</c>
    /// when one is configured (computed over the priority's active and pending requests, the asking request
    /// included), else <c>max_retries</c>.
    /// </summary>
    public bool TryAcquireRetry(RoutingPriority priority)
    {
        var limits = Thresholds(priority);
        ref var active = ref _activeRetries[(int)priority];
        while (true)
        {
            var current = Volatile.Read(ref active);
            // The caller gave its attempt's request slot back before asking; Envoy decides while that upstream
            // stream is still counted, so the asking request is added to the budget's base.
            var limit = limits.RetryBudget is { } budget
                ? budget.Limit(Volatile.Read(ref _activeRequests[(int)priority]) + 1L)
                : limits.MaxRetries;
            if (current >= limit)
            {
                PublishLimits(priority);
                return false;
            }
            if (Interlocked.CompareExchange(ref active, current + 1, current) == current)
            {
                PublishLimits(priority);
                return true;
            }
        }
    }

    /// <summary>Gives a retry slot back.</summary>
    public void ReleaseRetry(RoutingPriority priority)
    {
        Interlocked.Decrement(ref _activeRetries[(int)priority]);
        PublishLimits(priority);
    }

    /// <summary>
    /// The retry limit <c>/clusters</c> prints for a priority (Envoy's <c>retries().max()</c>): <c>max_retries</c>,
    /// or with a retry budget the budget over the requests active and pending right now.
    /// </summary>
    public long RetryLimit(RoutingPriority priority)
        => Thresholds(priority).RetryLimit(Volatile.Read(ref _activeRequests[(int)priority]));

    /// <summary>
    /// An upstream connection was opened or closed: <c>cx_open</c> (and <c>remaining_cx</c>) follow the
    /// connection count as Envoy's connection resource sets them on every increment and decrement.
    /// </summary>
    public void OnConnectionsChanged()
    {
        var connections = Stats.UpstreamCxActive.Value;
        for (var priority = 0; priority < _activeRequests.Length; priority++)
        {
            var limits = Thresholds((RoutingPriority)priority);
            var gauges = Stats.CircuitBreakers[priority];
            SetIfChanged(gauges.CxOpen, connections >= limits.MaxConnections ? 1 : 0);
            if (limits.TrackRemaining)
            {
                SetIfChanged(gauges.Remaining().Cx, Math.Max(0, limits.MaxConnections - connections));
            }
        }
    }

    private int TotalActiveRequests() => Volatile.Read(ref _activeRequests[0]) + Volatile.Read(ref _activeRequests[1]);

    private static void SetIfChanged(Gauge gauge, long value)
    {
        if (gauge.Value != value || !gauge.Used)
        {
            gauge.Set(value);
        }
    }

    private ThresholdsPlan Thresholds(RoutingPriority priority) => Plan?.Thresholds[(int)priority] ?? ThresholdsPlan.Defaults;

    /// <summary>Sets the <c>circuit_breakers.&lt;priority&gt;.*_open</c> (and <c>remaining_*</c>) gauges.</summary>
    private void PublishLimits(RoutingPriority priority)
    {
        var limits = Thresholds(priority);
        var gauges = Stats.CircuitBreakers[(int)priority];
        var requests = Volatile.Read(ref _activeRequests[(int)priority]);
        var retries = Volatile.Read(ref _activeRetries[(int)priority]);
        var connections = Stats.UpstreamCxActive.Value;
        var pending = Math.Max(0, requests - connections);
        // Written only when they change: the request path calls this twice per attempt on shared cache lines.
        SetIfChanged(gauges.RqOpen, requests >= limits.MaxRequests ? 1 : 0);
        // Envoy's rq_retry_open belongs to the max_retries resource nested in the retry budget, so it follows
        // max_retries even when a budget decides (RetryBudgetImpl keeps max_retry_resource_ for inc/dec).
        SetIfChanged(gauges.RqRetryOpen, retries >= limits.MaxRetries ? 1 : 0);
        SetIfChanged(gauges.CxOpen, connections >= limits.MaxConnections ? 1 : 0);
        SetIfChanged(gauges.RqPendingOpen, pending >= limits.MaxPendingRequests ? 1 : 0);
        if (limits.TrackRemaining)
        {
            var remaining = gauges.Remaining();
            SetIfChanged(remaining.Cx, Math.Max(0, limits.MaxConnections - connections));
            SetIfChanged(remaining.Pending, Math.Max(0, limits.MaxPendingRequests - pending));
            SetIfChanged(remaining.Rq, Math.Max(0, limits.MaxRequests - requests));
            // With a budget the remaining retries depend on other resources, so Envoy keeps the gauge at 0.
            SetIfChanged(remaining.Retries, limits.RetryBudget is null ? Math.Max(0, limits.MaxRetries - retries) : 0);
        }
    }

    /// <summary>Every host the cluster has had, by <c>ip:port</c> (stats outlive membership, as admin <c>/clusters</c> shows them).</summary>
    public IReadOnlyDictionary<string, UpstreamHost> Hosts => _hosts;

    /// <summary>The host at <paramref name="hostPort"/> (<c>ip:port</c>).</summary>
    public UpstreamHost Host(string hostPort) => _hosts.GetOrAdd(hostPort, static (key, cluster) => new UpstreamHost(key, cluster), this);

    /// <summary>The hosts currently in the cluster (YARP's destinations after DNS resolution).</summary>
    public IReadOnlyList<UpstreamHost> Members => Volatile.Read(ref _members);

    /// <summary>Raised after <see cref="Members"/> changed (active health checking follows it).</summary>
    public event Action<ClusterRuntime>? MembersChanged;

    /// <summary>Replaces the member list; called when YARP's destinations for the cluster change.</summary>
    public void SetMembers(IReadOnlyList<DestinationState> destinations)
    {
        var members = new UpstreamHost[destinations.Count];
        for (var i = 0; i < members.Length; i++)
        {
            members[i] = Host(destinations[i]);
            // A destination's config changes with the plan (a reload), the host object does not: refresh it here.
            members[i].Metadata = EndpointMetadata(destinations[i]);
        }
        Volatile.Write(ref _members, members);
        MembersChanged?.Invoke(this);
    }

    /// <summary>Observes request outcomes per host (the outlier detector), or null.</summary>
    public IUpstreamOutcomeObserver? OutcomeObserver { get; set; }

    /// <summary>True while too few hosts are healthy and the load balancer uses all of them (Envoy's panic mode).</summary>
    public bool InPanic => _inPanic;

    /// <summary>A host's health changed: the available hosts are recomputed.</summary>
    internal void OnHostHealthChanged() => _availabilityChanged?.Invoke(this);

    /// <summary>
    /// The hosts the load balancer may pick from (Envoy's LoadBalancerBase::isHostSetInPanic): the healthy
    /// ones, unless fewer than <c>healthy_panic_threshold</c> percent are healthy, then all of them. Empty
    /// when there is no host at all, or none is healthy and the threshold is 0 (<c>no healthy upstream</c>).
    /// </summary>
    public IReadOnlyList<DestinationState> SelectAvailable(IReadOnlyList<DestinationState> all)
    {
        // One pass, so the count and the list agree even while health flags change (this runs only on changes).
        var healthy = new List<DestinationState>(all.Count);
        foreach (var destination in all)
        {
            if (Host(destination).IsHealthy)
            {
                healthy.Add(destination);
            }
        }
        Stats.MembershipHealthy.Set(healthy.Count);
        var threshold = Plan?.HealthyPanicThreshold ?? ClusterPlan.DefaultHealthyPanicThreshold;
        var panic = all.Count > 0 && 100.0 * healthy.Count / all.Count < threshold;
        _inPanic = panic;
        var available = panic || healthy.Count == all.Count ? all : healthy;
        Volatile.Write(ref _available, available);
        RebuildPicker(available);
        return available;
    }

    private IReadOnlyList<DestinationState> _available = [];
    private LoadBalancing.IHostPickerFactory? _pickerFactory;
    private object? _pickerFactoryKey;
    private LoadBalancing.IHostPicker? _picker;
    private readonly Lock _pickerLock = new();

    /// <summary>
    /// The cluster's load balancer over the available hosts (ROUND_ROBIN, LEAST_REQUEST, RANDOM, or the RING_HASH /
    /// MAGLEV table), rebuilt whenever they or the plan change, as Envoy rebuilds its per-priority load balancer on
    /// a host set change; null before the first plan.
    /// </summary>
    public LoadBalancing.IHostPicker? Picker => Volatile.Read(ref _picker);

    /// <summary>The Random the pickers draw from (tests make it deterministic); setting it rebuilds the picker.</summary>
    internal Random PickerRandom
    {
        get => _pickerRandom;
        set
        {
            lock (_pickerLock)
            {
                _pickerRandom = value;
                _pickerFactory = null;
            }
            RebuildPicker(Volatile.Read(ref _available));
        }
    }

    private Random _pickerRandom = Random.Shared;

    /// <summary>The clock of slow start (tests use a fake one); set before the first plan.</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    private void RebuildPicker(IReadOnlyList<DestinationState> available)
    {
        var plan = Plan;
        if (plan is null)
        {
            Volatile.Write(ref _picker, null);
            return;
        }
        lock (_pickerLock)
        {
            // The factory (and the hash stats it publishes) lives as long as the policy's settings stay the same.
            object key = plan.HashLb is { } hashKey ? hashKey : (plan.LbPolicy, plan.LeastRequest, plan.SlowStart);
            if (_pickerFactory is null || !key.Equals(_pickerFactoryKey))
            {
                var slowStart = plan.SlowStart is { } slow ? new LoadBalancing.SlowStart(slow, Time) : null;
                _pickerFactory = plan.HashLb is { } hash
                    ? LoadBalancing.HashPickerFactory.Create(hash, PickerRandom, LoadBalancing.HashLbStats.For(Stats.Store, Stats.Prefix, hash))
                    : plan.LbPolicy switch
                    {
                        Configuration.LbPolicy.LeastRequest => LoadBalancing.PickerFactory.LeastRequest(PickerRandom, plan.LeastRequest.ChoiceCount, plan.LeastRequest.ActiveRequestBias, slowStart),
                        Configuration.LbPolicy.Random => LoadBalancing.PickerFactory.Random(PickerRandom),
                        // Validation admits no other policy.
                        _ => LoadBalancing.PickerFactory.RoundRobin(PickerRandom, slowStart),
                    };
                _pickerFactoryKey = key;
            }
            var hosts = new LoadBalancing.WeightedHost[available.Count];
            for (var i = 0; i < hosts.Length; i++)
            {
                hosts[i] = new LoadBalancing.WeightedHost(available[i], Host(available[i]), EndpointOf(available[i], plan)?.Weight ?? 1);
            }
            Volatile.Write(ref _picker, _pickerFactory.Create(hosts));
        }
    }

    /// <summary>The stats of a YARP destination, resolved once per destination object.</summary>
    public UpstreamHost Host(DestinationState destination)
        => _byDestination.GetValue(destination, d =>
        {
            var host = Host(HostPortOf(d.Model.Config.Address));
            host.Metadata = EndpointMetadata(d);
            return host;
        });

    /// <summary>
    /// The <c>metadata</c> of the endpoint a destination was made from (the translator records the endpoint's
    /// index on destinations whose endpoint has metadata or a weight; DNS resolution keeps it on every resolved address).
    /// </summary>
    private EnvoyMetadata EndpointMetadata(DestinationState destination)
        => EndpointOf(destination, Plan)?.Metadata ?? EnvoyMetadata.Empty;

    /// <summary>The endpoint a destination was made from, when the translator recorded its index (metadata or a weight); else null.</summary>
    private static EndpointPlan? EndpointOf(DestinationState destination, ClusterPlan? plan)
    {
        var endpoints = plan?.Endpoints;
        if (endpoints is null
            || destination.Model?.Config.Metadata is not { } metadata
            || !metadata.TryGetValue(EnvoyTranslator.EndpointIndexMetadata, out var text)
            || !int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            || (uint)index >= (uint)endpoints.Count)
        {
            return null;
        }
        return endpoints[index];
    }

    /// <summary><c>http://10.0.0.1:8000/</c> → <c>10.0.0.1:8000</c>.</summary>
    public static string HostPortOf(string address)
        => Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Authority : address;

    /// <summary>
    /// YARP's state of this cluster (its destinations and the ones available), set when YARP adds or changes the
    /// cluster and cleared when it removes it; the gateway's own requests (<see cref="ClusterClients"/>) pick from it.
    /// </summary>
    public ClusterState? ProxyCluster
    {
        get => Volatile.Read(ref _proxyCluster);
        set => Volatile.Write(ref _proxyCluster, value);
    }

    private ClusterState? _proxyCluster;

    /// <summary>YARP's endpoint for this cluster's route; null until YARP has applied the configuration.</summary>
    public Endpoint? ProxyEndpoint
    {
        get => Volatile.Read(ref _proxyEndpoint);
        set => Volatile.Write(ref _proxyEndpoint, value);
    }
}

/// <summary>Cluster runtimes by name, created on demand when a configuration is applied.</summary>
internal sealed class ClusterRegistry(StatsStore stats, TimeProvider? time = null)
{
    /// <summary>Called when a host's health changed in a cluster, so its available hosts are recomputed (wired to YARP at start-up).</summary>
    public Action<ClusterRuntime>? AvailabilityChanged { get; set; }

    private readonly Dictionary<string, ClusterRuntime> _clusters = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ClusterRuntime GetOrCreate(string name)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(name, out var cluster))
            {
                cluster = new ClusterRuntime(name, new ClusterStats(stats, name), c => AvailabilityChanged?.Invoke(c)) { Time = time ?? TimeProvider.System };
                _clusters[name] = cluster;
            }
            return cluster;
        }
    }

    public bool TryGet(string name, out ClusterRuntime cluster)
    {
        lock (_lock)
        {
            return _clusters.TryGetValue(name, out cluster!);
        }
    }

    public IReadOnlyList<ClusterRuntime> All
    {
        get
        {
            lock (_lock)
            {
                return _clusters.Values.ToArray();
            }
        }
    }
}

/// <summary>What the circuit breakers said to an upstream attempt (<see cref="ClusterRuntime.AdmitRequest"/>).</summary>
internal enum RequestAdmission
{
    /// <summary>A request slot was taken; <see cref="ClusterRuntime.ReleaseRequest"/> gives it back.</summary>
    Admitted,

    /// <summary><c>max_requests</c> refused it.</summary>
    RequestsOverflow,

    /// <summary><c>max_pending_requests</c> refused it (no idle connection and the wait list full).</summary>
    PendingOverflow,
}
