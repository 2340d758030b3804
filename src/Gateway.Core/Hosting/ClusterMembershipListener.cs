using Gateway.Clusters;
using Yarp.ReverseProxy.Model;

namespace Gateway.Hosting;

/// <summary>
/// Keeps each cluster's members and <c>membership_total</c> equal to YARP's destinations (after DNS);
/// <c>membership_healthy</c> is set where availability is computed (<see cref="EnvoyAvailableDestinationsPolicy"/>).
/// </summary>
internal sealed class ClusterMembershipListener(ClusterRegistry clusters) : IClusterChangeListener
{
    public void OnClusterAdded(ClusterState cluster) => Update(cluster);

    public void OnClusterChanged(ClusterState cluster) => Update(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        if (clusters.TryGet(cluster.ClusterId, out var runtime))
        {
            runtime.Stats.MembershipTotal.Set(0);
            runtime.Stats.MembershipHealthy.Set(0);
            runtime.Stats.MembershipDegraded.Set(0);
            runtime.ProxyCluster = null;
        }
    }

    private void Update(ClusterState cluster)
    {
        // The gateway's clusters are in the registry before YARP has them; an application's own YARP clusters are not.
        if (!clusters.TryGet(cluster.ClusterId, out var runtime))
        {
            return;
        }
        var destinations = cluster.DestinationsState;
        if (runtime.Stats.MembershipTotal.Used && runtime.Stats.MembershipTotal.Value != destinations.AllDestinations.Count)
        {
            runtime.Stats.MembershipChange.Increment();
        }
        runtime.Stats.MembershipTotal.Set(destinations.AllDestinations.Count);
        runtime.SetMembers(destinations.AllDestinations);
        runtime.ProxyCluster = cluster;
    }
}
