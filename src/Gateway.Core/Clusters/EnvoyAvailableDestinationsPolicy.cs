using Gateway.Translation;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters;

/// <summary>
/// YARP's view of which destinations may take requests, computed from the gateway's host health
/// (active health checks, outlier ejections) with Envoy's panic threshold instead of YARP's own
/// health states. YARP calls it when destinations change; the gateway calls it when a host's health changes.
/// </summary>
internal sealed class EnvoyAvailableDestinationsPolicy(ClusterRegistry clusters) : IAvailableDestinationsPolicy
{
    public string Name => EnvoyTranslator.AvailableDestinationsPolicy;

    public IReadOnlyList<DestinationState> GetAvailalableDestinations(ClusterConfig config, IReadOnlyList<DestinationState> allDestinations)
    {
        ArgumentNullException.ThrowIfNull(config);
        return clusters.TryGet(config.ClusterId, out var cluster) ? cluster.SelectAvailable(allDestinations) : allDestinations;
    }
}
