using Gateway.Clusters;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Router;

/// <summary>
/// How a route names its upstream cluster per request: Envoy's <c>cluster_header</c> (the header's first value, looked
/// up in the registry) or <c>weighted_clusters</c> (WeightedClusterSpecifierPlugin's pick over the configured weights).
/// A fixed <c>cluster</c> needs no specifier. Clusters of the weighted entries are resolved when the config is applied.
/// </summary>
internal sealed class ClusterSpecifier
{
    private readonly ClusterRegistry? _registry;
    private readonly string? _header;
    private readonly ClusterRuntime[] _clusters = [];
    private readonly uint[] _weights = [];
    private readonly Clusters.LoadBalancing.SubsetCriteria?[] _criteria = [];
    private readonly ulong _totalWeight;
    private readonly string? _randomValueHeader;

    private ClusterSpecifier(ClusterRegistry registry, string header)
    {
        _registry = registry;
        _header = header;
    }

    private ClusterSpecifier(ClusterRuntime[] clusters, uint[] weights, Clusters.LoadBalancing.SubsetCriteria?[] criteria, string? randomValueHeader)
    {
        _clusters = clusters;
        _weights = weights;
        _criteria = criteria;
        _randomValueHeader = randomValueHeader;
        foreach (var weight in weights)
        {
            _totalWeight += weight;
        }
    }

    /// <summary>The specifier of a route, or null when it names one fixed cluster (or none).</summary>
    public static ClusterSpecifier? For(RoutePlan plan, ClusterRegistry registry)
    {
        if (plan.ClusterHeader is { } header)
        {
            return new ClusterSpecifier(registry, header);
        }
        if (plan.WeightedClusters is not { } weighted)
        {
            return null;
        }
        var clusters = new ClusterRuntime[weighted.Clusters.Count];
        var weights = new uint[clusters.Length];
        var criteria = new Clusters.LoadBalancing.SubsetCriteria?[clusters.Length];
        for (var i = 0; i < clusters.Length; i++)
        {
            clusters[i] = registry.GetOrCreate(weighted.Clusters[i].Name);
            weights[i] = weighted.Clusters[i].Weight;
            criteria[i] = weighted.Clusters[i].MetadataMatch;
        }
        return new ClusterSpecifier(clusters, weights, criteria, weighted.RandomValueHeader);
    }

    /// <summary>
    /// The cluster of this request, or null when the header names none or a cluster that does not exist; for a weighted
    /// entry <paramref name="criteria"/> becomes the entry's subset criteria, else it is left as passed (the route's).
    /// </summary>
    public ClusterRuntime? Pick(IHeaderDictionary headers, ulong randomValue, ref Clusters.LoadBalancing.SubsetCriteria? criteria)
    {
        if (_header is not null)
        {
            var named = headers[_header];
            if (named.Count == 0 || string.IsNullOrEmpty(named[0]))
            {
                return null;
            }
            return _registry!.TryGet(named[0]!, out var cluster) && cluster.Plan is not null ? cluster : null;
        }
        var index = PickIndex(_weights, _totalWeight, RandomValue(headers, randomValue));
        var picked = _clusters[index];
        criteria = _criteria[index];
        // A weighted cluster removed from the config since (or never applied) is not found, as in Envoy.
        return picked.Plan is null ? null : picked;
    }

    /// <summary>The random value of the pick: a single-valued unsigned integer header when configured, else the stream's.</summary>
    private ulong RandomValue(IHeaderDictionary headers, ulong randomValue)
    {
        if (_randomValueHeader is not null)
        {
            var values = headers[_randomValueHeader];
            // Several values would make picks inconsistent: Envoy falls back to the stream's value, as for a non-number.
            if (values.Count == 1 && ulong.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromHeader))
            {
                return fromHeader;
            }
        }
        return randomValue;
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
