using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Clusters;

/// <summary>
/// The running side of one cluster: its stats and the YARP endpoint that forwards to it. One object
/// per cluster name for the life of the process, so request-path references stay valid across reloads.
/// </summary>
internal sealed class ClusterRuntime
{
    private Endpoint? _proxyEndpoint;

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
