using Gateway.Clusters;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Router;

/// <summary>
/// How a route (or a weighted cluster entry) names its upstream cluster per request: Envoy's <c>cluster_header</c> (the
/// header's first value, looked up in the registry), or a weighted entry's named cluster, which may have been removed from
/// the configuration since. A route's fixed <c>cluster</c> needs no specifier; <c>weighted_clusters</c> are picked when the
/// route is selected (<see cref="WeightedRoutes"/>), each entry a route of its own.
/// </summary>
internal sealed class ClusterSpecifier
{
    private readonly ClusterRegistry? _registry;
    private readonly string? _header;
    private readonly ClusterRuntime? _cluster;

    private ClusterSpecifier(ClusterRegistry registry, string header)
    {
        _registry = registry;
        _header = header;
    }

    private ClusterSpecifier(ClusterRuntime? cluster) => _cluster = cluster;

    /// <summary>The specifier of a route, or null when it names one fixed cluster, none, or weighted clusters.</summary>
    public static ClusterSpecifier? For(RoutePlan plan, ClusterRegistry registry)
        => plan.ClusterHeader is { } header ? new ClusterSpecifier(registry, header) : null;

    /// <summary>A weighted entry's: by its <c>cluster_header</c>, or its named cluster while that exists.</summary>
    public static ClusterSpecifier ForEntry(WeightedClusterPlan entry, ClusterRegistry registry)
        => entry.ClusterHeader is { } header ? new ClusterSpecifier(registry, header) : new ClusterSpecifier(registry.Find(entry.Name!));

    /// <summary>The cluster of this request, or null when the header names none or a cluster that does not exist.</summary>
    public ClusterRuntime? Pick(IHeaderDictionary headers)
    {
        if (_header is null)
        {
            // A weighted cluster removed from the config since (or never applied) is not found, as in Envoy.
            return _cluster is { Plan: not null, Retired: false } ? _cluster : null;
        }
        var named = headers[_header];
        if (named.Count == 0 || string.IsNullOrEmpty(named[0]))
        {
            return null;
        }
        return _registry!.Find(named[0]!) is { Plan: not null } cluster ? cluster : null;
    }

    /// <summary>Envoy's pickClusterIndex: the random value modulo the weights' total, walking the entries' ranges in order.</summary>
    internal static int PickIndex(uint[] weights, ulong totalWeight, ulong randomValue)
    {
        var selected = randomValue % totalWeight;
        ulong end = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            end += weights[i];
            if (selected < end)
            {
                return i;
            }
        }
        return weights.Length - 1;
    }
}
