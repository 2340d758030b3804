using Gateway.Clusters;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.TcpProxy;

/// <summary>
/// One filter chain's <c>envoy.filters.network.tcp_proxy</c> as it runs: its clusters resolved (null for a name the
/// bootstrap has no cluster of), their weights, its stats, loggers, clock and random source. Built when a configuration is
/// applied; each connection runs a <see cref="TcpProxySession"/> over it.
/// </summary>
internal sealed class TcpProxyRuntime
{
    private readonly ClusterRuntime?[] _clusters;
    private readonly uint[] _weights;
    private readonly ulong _totalWeight;

    private TcpProxyRuntime(TcpProxyPlan plan, ClusterRuntime?[] clusters, uint[] weights, TcpProxyStats stats)
    {
        Plan = plan;
        _clusters = clusters;
        _weights = weights;
        for (var i = 0; i < weights.Length; i++)
        {
            _totalWeight += weights[i];
        }
        Stats = stats;
    }

    public TcpProxyPlan Plan { get; }

    public TcpProxyStats Stats { get; }

    /// <summary>The filter's access loggers (empty: none).</summary>
    public AccessLog.AccessLogger[] AccessLogs { get; private init; } = [];

    public TimeProvider Time { get; private init; } = TimeProvider.System;

    /// <summary>The gateway's random source: the weighted cluster choice draws from it.</summary>
    public Random Random { get; private init; } = Random.Shared;

    /// <summary><c>tunneling_config</c>, compiled; null: connections go to the host over TCP.</summary>
    public TcpProxyTunnel? Tunnel { get; private init; }

    /// <summary>
    /// The connection's cluster (Envoy's WeightedClusterUtil::pickCluster for weighted clusters: a random value modulo the
    /// total weight); null when the chosen name has no cluster.
    /// </summary>
    public ClusterRuntime? PickCluster()
        => _clusters.Length == 1 ? _clusters[0] : _clusters[Router.ClusterSpecifier.PickIndex(_weights, _totalWeight, (ulong)Random.NextInt64())];

    public static TcpProxyRuntime Build(TcpProxyPlan plan, ClusterRegistry clusters, StatsStore store, Filters.FilterServices? services)
    {
        var runtimes = new ClusterRuntime?[plan.Clusters.Count];
        var weights = new uint[runtimes.Length];
        for (var i = 0; i < runtimes.Length; i++)
        {
            var entry = plan.Clusters[i];
            runtimes[i] = entry.Known ? clusters.GetOrCreate(entry.Name) : null;
            weights[i] = entry.Weight;
        }
        var time = services?.Time ?? TimeProvider.System;
        var random = services?.Random ?? Random.Shared;
        return new TcpProxyRuntime(plan, runtimes, weights, new TcpProxyStats(store, plan.StatPrefix))
        {
            AccessLogs = Listeners.ListenerRuntime.BuildLogs(plan.AccessLogs, services),
            Time = time,
            Random = random,
            Tunnel = plan.Tunnel is { } tunnel
                ? new TcpProxyTunnel(tunnel, new Formatting.FormatterOptions { Time = time, Random = random }, services?.Services.GetService(typeof(ClusterClients)) as ClusterClients, time)
                : null,
        };
    }
}
