using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Hosting;

/// <summary>
/// YARP's configuration for the gateway's clusters: one route and one cluster per Envoy cluster, replaced as a whole
/// when the configuration manager applies a change (YARP's change-token contract: the old snapshot's token fires
/// after the new one is in place).
/// </summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider
{
    private volatile Snapshot _current;

    public GatewayProxyConfigProvider(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters)
        => _current = new Snapshot(routes, clusters);

    public IProxyConfig GetConfig() => _current;

    /// <summary>Makes <paramref name="routes"/> and <paramref name="clusters"/> YARP's configuration.</summary>
    public void Update(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters)
    {
        var previous = _current;
        _current = new Snapshot(routes, clusters);
        previous.SignalChange();
    }

    private sealed class Snapshot : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public Snapshot(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters)
        {
            Routes = routes;
            Clusters = clusters;
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; }

        public IReadOnlyList<ClusterConfig> Clusters { get; }

        public IChangeToken ChangeToken { get; }

        public string RevisionId { get; } = Guid.NewGuid().ToString("N");

        public void SignalChange() => _changed.Cancel();
    }
}
