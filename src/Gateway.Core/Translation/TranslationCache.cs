using Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Translation;

/// <summary>What a translation of a composed configuration takes besides the bootstrap.</summary>
/// <param name="RdsRoutes">The route table an <c>rds</c> currently has (null: none yet).</param>
/// <param name="Cache">What earlier translations made, reused for resources that did not change; null: translate all.</param>
/// <param name="LdsListeners">The listeners LDS gave (their Kestrel endpoints come and go while the server runs).</param>
internal sealed record TranslationInputs(Func<Rds, RouteConfiguration?>? RdsRoutes, TranslationCache? Cache, IReadOnlySet<Listener>? LdsListeners);

/// <summary>
/// The plans the last translation made, by the model object they were made from (compared by reference: the
/// configuration manager keeps an unchanged resource's object, and a changed one is a new object). A cluster's plan
/// depends only on the cluster (and the bootstrap, which does not change); a listener's also on the cluster names
/// (TCP proxy routes to unknown clusters) and the RDS tables its connection managers read, so it is reused only when
/// those are the same.
/// </summary>
internal sealed class TranslationCache
{
    internal Dictionary<Cluster, ClusterEntry> Clusters { get; set; } = new(ReferenceEqualityComparer.Instance);

    internal Dictionary<Listener, ListenerEntry> Listeners { get; set; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>A cluster's plan, its YARP cluster and its YARP route.</summary>
    internal sealed record ClusterEntry(ClusterPlan Plan, ClusterConfig Yarp, RouteConfig Route);

    /// <summary>A listener's plan and what it was made with.</summary>
    internal sealed record ListenerEntry(ListenerPlan Plan, IReadOnlySet<string> ClusterNames, (Rds Rds, RouteConfiguration? Table)[] Tables)
    {
        public bool StillValid(IReadOnlySet<string> clusterNames, Func<Rds, RouteConfiguration?>? rdsRoutes)
        {
            if (!ReferenceEquals(ClusterNames, clusterNames) && !ClusterNames.SetEquals(clusterNames))
            {
                return false;
            }
            foreach (var (rds, table) in Tables)
            {
                if (!ReferenceEquals(rdsRoutes?.Invoke(rds), table))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
