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
    /// <summary>True once the configuration removed the cluster (<see cref="ClusterRegistry.Remove"/>): no new request picks it.</summary>
    public bool Retired
    {
        get => Volatile.Read(ref _retired);
        set => Volatile.Write(ref _retired, value);
    }

    private bool _retired;

    public ClusterPlan? Plan
    {
        get => _plan;
        set
        {
            Volatile.Write(ref _transports, BuildTransports(value?.Transport));
            _plan = value;
            // A reload may change the policy, the weights or the configured health without changing the hosts (YARP then
            // recomputes nothing): a changed health recomputes the available hosts, anything else rebuilds the picker.
            var healthChanged = false;
            var all = Volatile.Read(ref _allDestinations);
            for (var i = 0; i < all.Count; i++)
            {
                healthChanged |= RefreshEndpoint(Host(all[i]), all[i], value);
            }
            RebuildPicker();
            if (healthChanged)
            {
                OnHostHealthChanged();
            }
        }
    }

    private ClusterPlan? _plan;
    private Tls.UpstreamTls?[] _transports = [];
    private TlsStats? _tlsStats;

    /// <summary>
    /// The transport of new connections to <paramref name="host"/>: the TLS context its endpoint resolved to when the
    /// configuration was applied (transport_socket_matches, else the cluster's transport_socket), or null for plain text.
    /// </summary>
    public Tls.UpstreamTls? TransportOf(UpstreamHost host) => TransportAt(host.Endpoint?.TransportSocket ?? 0);

    /// <summary>The transport at an index of the plan's sockets (null: plain text, or no such socket).</summary>
    public Tls.UpstreamTls? TransportAt(int index)
    {
        var transports = Volatile.Read(ref _transports);
        return (uint)index < (uint)transports.Length ? transports[index] : null;
    }

    private HostConnectionPools? _hostPools;

    /// <summary>
    /// Makes <paramref name="pools"/> the forwarder's host pools of this cluster (null: it has none) and disposes the ones a
    /// reload replaced or removed (their requests in flight finish on their connections).
    /// </summary>
    public void AdoptHostPools(HostConnectionPools? pools)
    {
        var old = Interlocked.Exchange(ref _hostPools, pools);
        if (old is not null && !ReferenceEquals(old, pools))
        {
            old.Dispose();
        }
    }

    /// <summary>Every TLS context the plan built (for <c>/certs</c>): the cluster's, then the matches', plain ones skipped.</summary>
    public IReadOnlyList<Tls.UpstreamTls> TlsContexts
    {
        get
        {
            var list = new List<Tls.UpstreamTls>();
            foreach (var transport in Volatile.Read(ref _transports))
            {
                if (transport is not null)
                {
                    list.Add(transport);
                }
            }
            return list;
        }
    }

    /// <summary>Loads the plan's certificates; the <c>ssl.*</c> stats are the cluster's (created with its first TLS context) and survive reloads.</summary>
    private Tls.UpstreamTls?[] BuildTransports(UpstreamTransportPlan? plan)
    {
        if (plan is null)
        {
            return [];
        }
        var transports = new Tls.UpstreamTls?[plan.Sockets.Count];
        for (var i = 0; i < transports.Length; i++)
        {
            if (plan.Sockets[i] is { } tls)
            {
                _tlsStats ??= new TlsStats(Stats.Store, Stats.Prefix.TrimEnd('.'));
                transports[i] = new Tls.UpstreamTls(tls, _tlsStats, plan.AutoSni, plan.AutoSanValidation, SecretsResolver?.Invoke());
            }
        }
        return transports;
    }

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

    /// <summary>
    /// Envoy's <c>connections().canCreate()</c>: whether a new connection stays under the priority's <c>max_connections</c>
    /// (the TCP proxy asks before it connects; the HTTP path's limit is in <see cref="AdmitRequest"/>).
    /// </summary>
    public bool CanCreateConnection(RoutingPriority priority) => Stats.UpstreamCxActive.Value < Thresholds(priority).MaxConnections;

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
        var healthChanged = false;
        for (var i = 0; i < members.Length; i++)
        {
            members[i] = Host(destinations[i]);
            // A destination's config changes with the plan (a reload), the host object does not: refresh it here.
            healthChanged |= RefreshEndpoint(members[i], destinations[i], Plan);
        }
        Volatile.Write(ref _members, members);
        MembersChanged?.Invoke(this);
        if (healthChanged)
        {
            OnHostHealthChanged();
        }
    }

    /// <summary>Observes request outcomes per host (the outlier detector), or null.</summary>
    public IUpstreamOutcomeObserver? OutcomeObserver { get; set; }

    /// <summary>True while a priority level that takes load is in panic (too few hosts usable, all of them used).</summary>
    public bool InPanic => _inPanic;

    /// <summary>A host's health changed: the available hosts are recomputed.</summary>
    internal void OnHostHealthChanged() => _availabilityChanged?.Invoke(this);

    /// <summary>
    /// The hosts the load balancer may pick from, by Envoy's priority set (LoadBalancerBase): of each priority level
    /// that takes load, its healthy and degraded hosts, or all of them when the level is in panic (fewer than
    /// <c>healthy_panic_threshold</c> percent usable). Empty when there is no host at all, or none is usable and the
    /// threshold is 0 (<c>no healthy upstream</c>). Sets <c>membership_healthy</c> and <c>membership_degraded</c>.
    /// </summary>
    public IReadOnlyList<DestinationState> SelectAvailable(IReadOnlyList<DestinationState> all)
    {
        var plan = Plan;
        // One pass, so the counts and the lists agree even while health flags change (this runs only on changes).
        var hosts = new LoadBalancing.WeightedHost[all.Count];
        for (var i = 0; i < hosts.Length; i++)
        {
            var host = Host(all[i]);
            RefreshEndpoint(host, all[i], plan);
            hosts[i] = ToWeightedHost(all[i], host);
        }
        var state = LoadBalancing.PrioritySetState.Compute(hosts, PrioritySetOptions(plan));
        _inPanic = state.AnyPanic;
        var reachable = state.Reachable(FailsTrafficOnPanic);
        IReadOnlyList<DestinationState> available;
        if (reachable.Count == all.Count)
        {
            available = all;
        }
        else
        {
            var list = new DestinationState[reachable.Count];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = reachable[i].Destination;
            }
            available = list;
        }
        Volatile.Write(ref _allDestinations, all);
        RebuildPicker(hosts);
        // After the rebuild (and the zone routing of the clusters that follow this one), so the gauges show a state in effect.
        Stats.MembershipHealthy.Set(state.HealthyCount);
        Stats.MembershipDegraded.Set(state.DegradedCount);
        return available;
    }

    private IReadOnlyList<DestinationState> _allDestinations = [];

    private static LoadBalancing.PrioritySetOptions PrioritySetOptions(ClusterPlan? plan)
        => plan is null
            ? LoadBalancing.PrioritySetOptions.Defaults
            : new LoadBalancing.PrioritySetOptions(plan.OverprovisioningFactor, plan.HealthyPanicThreshold, plan.LocalityWeighted)
            {
                // Envoy's consistent-hashing balancers ignore zone_aware_lb_config (validation refuses it with them).
                ZoneAware = plan.HashLb is null ? plan.ZoneAware : null,
                NodeLocality = plan.NodeLocality,
                WeightedPriorityHealth = plan.WeightedPriorityHealth,
            };

    /// <summary><c>fail_traffic_on_panic</c>: requests to a priority level in panic fail instead of using all its hosts.</summary>
    public bool FailsTrafficOnPanic => Plan is { HashLb: null, ZoneAware.FailTrafficOnPanic: true };

    /// <summary>A host as the load balancer sees it: its endpoint's weight, priority and locality, and its health now.</summary>
    private static LoadBalancing.WeightedHost ToWeightedHost(DestinationState destination, UpstreamHost host)
    {
        var endpoint = host.Endpoint;
        return new LoadBalancing.WeightedHost(destination, host, endpoint?.Weight ?? 1)
        {
            Priority = endpoint?.Priority ?? 0,
            Health = host.Health,
            Excluded = host.IsExcluded,
            Locality = endpoint?.Locality,
            LocalityWeight = endpoint?.LocalityWeight ?? 0,
        };
    }

    /// <summary>
    /// Points a host at its endpoint in <paramref name="plan"/> (metadata, weight, priority, locality) and sets its EDS
    /// health flags from the endpoint's <c>health_status</c>; true when those flags changed.
    /// </summary>
    private static bool RefreshEndpoint(UpstreamHost host, DestinationState destination, ClusterPlan? plan)
    {
        var endpoint = EndpointOf(destination, plan);
        host.Endpoint = endpoint;
        host.Metadata = endpoint?.Metadata ?? EnvoyMetadata.Empty;
        return host.SetEdsHealth(endpoint?.Health ?? EndpointHealth.Healthy);
    }

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
                (_pickerFactory as LoadBalancing.SubsetPickerFactory)?.Retire();
                _pickerFactory = null;
            }
            RebuildPicker();
        }
    }

    private Random _pickerRandom = Random.Shared;

    /// <summary>The clock of slow start (tests use a fake one); set before the first plan.</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    private void RebuildPicker(LoadBalancing.WeightedHost[] hosts)
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
            var options = PrioritySetOptions(plan);
            var local = FollowLocalCluster(plan);
            object key = (plan.HashLb is { } hashKey ? hashKey : (object)(plan.LbPolicy, plan.LeastRequest, plan.SlowStart), options, plan.Subset, local);
            if (_pickerFactory is null || !key.Equals(_pickerFactoryKey))
            {
                (_pickerFactory as LoadBalancing.SubsetPickerFactory)?.Retire();
                var slowStart = plan.SlowStart is { } slow ? new LoadBalancing.SlowStart(slow, Time) : null;
                LoadBalancing.IHostPickerFactory policy = plan.HashLb is { } hash
                    ? LoadBalancing.HashPickerFactory.Create(hash, PickerRandom, LoadBalancing.HashLbStats.For(Stats.Store, Stats.Prefix, hash))
                    : plan.LbPolicy switch
                    {
                        Configuration.LbPolicy.LeastRequest => LoadBalancing.PickerFactory.LeastRequest(PickerRandom, plan.LeastRequest.ChoiceCount, plan.LeastRequest.ActiveRequestBias, slowStart, plan.LeastRequest.FullScan),
                        Configuration.LbPolicy.Random => LoadBalancing.PickerFactory.Random(PickerRandom),
                        // Validation admits no other policy.
                        _ => LoadBalancing.PickerFactory.RoundRobin(PickerRandom, slowStart),
                    };
                // Priorities, panic, degraded hosts and localities wrap the policy; Envoy's subset load balancer wraps
                // that, so each subset is a full priority set (ignoring locality weights unless locality_weight_aware).
                var levels = plan.Subset is { LocalityWeightAware: false } ? options with { LocalityWeighted = false } : options;
                var zone = local is null ? null : new LoadBalancing.ZoneRoutingSource(() => local.LoadBalancerHosts, LoadBalancing.ZoneRoutingStats.For(Stats));
                LoadBalancing.IHostPickerFactory prioritySet = new LoadBalancing.PrioritySetPickerFactory(policy, levels, PickerRandom, zone, Stats.LbHealthyPanic);
                _pickerFactory = plan.Subset is { } subset ? new LoadBalancing.SubsetPickerFactory(subset, prioritySet, Stats, PickerRandom) : prioritySet;
                _pickerFactoryKey = key;
            }
            Volatile.Write(ref _picker, _pickerFactory.Create(hosts));
            Volatile.Write(ref _loadBalancerHosts, hosts);
        }
        // Outside the lock: the clusters routing by zone against this one rebuild theirs (Envoy's member update callback).
        LoadBalancerHostsChanged?.Invoke(this);
    }

    private LoadBalancing.WeightedHost[] _loadBalancerHosts = [];
    private ClusterRuntime? _localCluster;

    /// <summary>Every host as the load balancer last saw it (health included): what zone-aware routing reads of the local cluster.</summary>
    internal IReadOnlyList<LoadBalancing.WeightedHost> LoadBalancerHosts => Volatile.Read(ref _loadBalancerHosts);

    /// <summary>Raised after the picker was rebuilt over changed hosts, health or plan.</summary>
    internal event Action<ClusterRuntime>? LoadBalancerHostsChanged;

    /// <summary>Finds the runtime of another cluster by name (the registry's); zone-aware routing needs the local cluster's.</summary>
    internal Func<string, ClusterRuntime>? ClusterResolver { get; init; }

    /// <summary>Where a client certificate from file-based SDS is served from (the registry's subscriptions).</summary>
    internal Func<Tls.SdsSubscriptions?>? SecretsResolver { get; init; }

    /// <summary>
    /// The local cluster this cluster routes by zone against (<see cref="ClusterPlan.LocalCluster"/>), or null; keeps this
    /// cluster subscribed to its host changes, so they refresh the routing structures here.
    /// </summary>
    private ClusterRuntime? FollowLocalCluster(ClusterPlan plan)
    {
        var local = plan.LocalCluster is { } name ? ClusterResolver?.Invoke(name) : null;
        if (!ReferenceEquals(local, _localCluster))
        {
            if (_localCluster is not null)
            {
                _localCluster.LoadBalancerHostsChanged -= OnLocalClusterChanged;
            }
            if (local is not null)
            {
                local.LoadBalancerHostsChanged += OnLocalClusterChanged;
            }
            _localCluster = local;
        }
        return local;
    }

    private void OnLocalClusterChanged(ClusterRuntime local) => RebuildPicker();

    /// <summary>Rebuilds the picker over every destination last seen, with the hosts' current weights and health.</summary>
    private void RebuildPicker()
    {
        var all = Volatile.Read(ref _allDestinations);
        var hosts = new LoadBalancing.WeightedHost[all.Count];
        for (var i = 0; i < hosts.Length; i++)
        {
            hosts[i] = ToWeightedHost(all[i], Host(all[i]));
        }
        RebuildPicker(hosts);
    }

    /// <summary>The stats of a YARP destination, resolved once per destination object.</summary>
    public UpstreamHost Host(DestinationState destination)
        => _byDestination.GetValue(destination, d =>
        {
            var host = Host(HostPortOf(d.Model.Config.Address));
            RefreshEndpoint(host, d, Plan);
            return host;
        });

    /// <summary>
    /// The endpoint a destination was made from, when the translator recorded its index (an endpoint with metadata, a
    /// weight, a priority, a locality or a health status; DNS resolution keeps it on every resolved address); else null.
    /// </summary>
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

    /// <summary>The file-based SDS subscriptions client certificates are served from (set by the running gateway).</summary>
    public Tls.SdsSubscriptions? Secrets { get; set; }

    private readonly Dictionary<string, ClusterRuntime> _clusters = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ClusterRuntime GetOrCreate(string name)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(name, out var cluster))
            {
                cluster = new ClusterRuntime(name, new ClusterStats(stats, name), c => AvailabilityChanged?.Invoke(c)) { Time = time ?? TimeProvider.System, ClusterResolver = GetOrCreate, SecretsResolver = () => Secrets };
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

    /// <summary>The cluster named <paramref name="name"/>, or null when the configuration has none.</summary>
    public ClusterRuntime? Find(string name) => TryGet(name, out var cluster) ? cluster : null;

    /// <summary>
    /// Takes a cluster the configuration no longer has out of the registry. Requests already holding it finish on it (as
    /// Envoy's in-flight requests keep a removed cluster alive); a route still naming it picks nothing (503 NC).
    /// </summary>
    public void Remove(string name)
    {
        lock (_lock)
        {
            if (_clusters.Remove(name, out var cluster))
            {
                cluster.Retired = true;
            }
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
