using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
    private int _activeRetries;

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

    /// <summary>Envoy's default <c>circuit_breakers</c> <c>max_retries</c>: retries in flight at once per cluster.</summary>
    public const int MaxRetries = 3;

    /// <summary>Takes a retry slot, or returns false when <see cref="MaxRetries"/> retries are in flight (retry overflow).</summary>
    public bool TryAcquireRetry()
    {
        while (true)
        {
            var active = Volatile.Read(ref _activeRetries);
            if (active >= MaxRetries)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _activeRetries, active + 1, active) == active)
            {
                Stats.RetryOpen.Set(active + 1 >= MaxRetries ? 1 : 0);
                return true;
            }
        }
    }

    /// <summary>Gives a retry slot back.</summary>
    public void ReleaseRetry()
    {
        var active = Interlocked.Decrement(ref _activeRetries);
        Stats.RetryOpen.Set(active >= MaxRetries ? 1 : 0);
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
