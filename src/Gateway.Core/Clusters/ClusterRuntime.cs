using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RoutingPriority = Gateway.Configuration.RoutingPriority;
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
    private readonly ConcurrentDictionary<string, HostStats> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConditionalWeakTable<DestinationState, HostStats> _byDestination = new();
    private Endpoint? _proxyEndpoint;
    private readonly int[] _activeRequests = new int[2];
    private readonly int[] _activeRetries = new int[2];

    public ClusterRuntime(string name, ClusterStats stats)
    {
        Name = name;
        Stats = stats;
        RouteId = EnvoyTranslator.RouteIdFor(name);
    }

    public string Name { get; }

    public string RouteId { get; }

    public ClusterStats Stats { get; }

    /// <summary>The plan currently applied.</summary>
    public ClusterPlan? Plan { get; set; }

    /// <summary>
    /// Takes a request slot (an upstream attempt) under the priority's <c>max_requests</c> and
    /// <c>max_pending_requests</c>; false means overflow: Envoy answers 503 with x-envoy-overloaded.
    /// Requests beyond the open connections wait for one (HTTP/1.1), so that many are "pending".
    /// </summary>
    public bool TryAcquireRequest(RoutingPriority priority)
    {
        var limits = Thresholds(priority);
        ref var active = ref _activeRequests[(int)priority];
        while (true)
        {
            var current = Volatile.Read(ref active);
            var connections = Stats.UpstreamCxActive.Value;
            if (current >= limits.MaxRequests || (connections >= limits.MaxConnections && current - connections >= limits.MaxPendingRequests))
            {
                Stats.UpstreamRqPendingOverflow.Increment();
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

    /// <summary>Gives a request slot back.</summary>
    public void ReleaseRequest(RoutingPriority priority)
    {
        Interlocked.Decrement(ref _activeRequests[(int)priority]);
        PublishLimits(priority);
    }

    /// <summary>Takes a retry slot under the priority's <c>max_retries</c>, or returns false (retry overflow).</summary>
    public bool TryAcquireRetry(RoutingPriority priority)
    {
        var limits = Thresholds(priority);
        ref var active = ref _activeRetries[(int)priority];
        while (true)
        {
            var current = Volatile.Read(ref active);
            if (current >= limits.MaxRetries)
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
        SetIfChanged(gauges.RqRetryOpen, retries >= limits.MaxRetries ? 1 : 0);
        SetIfChanged(gauges.CxOpen, connections >= limits.MaxConnections ? 1 : 0);
        SetIfChanged(gauges.RqPendingOpen, pending >= limits.MaxPendingRequests ? 1 : 0);
        if (limits.TrackRemaining)
        {
            var remaining = gauges.Remaining();
            remaining.Cx.Set(Math.Max(0, limits.MaxConnections - connections));
            remaining.Pending.Set(Math.Max(0, limits.MaxPendingRequests - pending));
            remaining.Rq.Set(Math.Max(0, limits.MaxRequests - requests));
            remaining.Retries.Set(Math.Max(0, limits.MaxRetries - retries));
        }
    }

    /// <summary>Per-host stats by <c>ip:port</c>, for admin <c>/clusters</c>.</summary>
    public IReadOnlyDictionary<string, HostStats> Hosts => _hosts;

    /// <summary>The stats of the host at <paramref name="hostPort"/> (<c>ip:port</c>).</summary>
    public HostStats Host(string hostPort) => _hosts.GetOrAdd(hostPort, static key => new HostStats(key));

    /// <summary>The stats of a YARP destination, resolved once per destination object.</summary>
    public HostStats Host(DestinationState destination)
        => _byDestination.GetValue(destination, d => Host(HostPortOf(d.Model.Config.Address)));

    /// <summary><c>http://10.0.0.1:8000/</c> → <c>10.0.0.1:8000</c>.</summary>
    public static string HostPortOf(string address)
        => Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Authority : address;

    /// <summary>YARP's endpoint for this cluster's route; null until YARP has applied the configuration.</summary>
    public Endpoint? ProxyEndpoint
    {
        get => Volatile.Read(ref _proxyEndpoint);
        set => Volatile.Write(ref _proxyEndpoint, value);
    }
}

/// <summary>Cluster runtimes by name, created on demand when a configuration is applied.</summary>
internal sealed class ClusterRegistry(StatsStore stats)
{
    private readonly Dictionary<string, ClusterRuntime> _clusters = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ClusterRuntime GetOrCreate(string name)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(name, out var cluster))
            {
                cluster = new ClusterRuntime(name, new ClusterStats(stats, name));
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
