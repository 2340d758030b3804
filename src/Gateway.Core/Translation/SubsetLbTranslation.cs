using System.Text.Json;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>Turns <c>lb_subset_config</c> and the <c>metadata_match</c> fields into the subset load balancer's plan and criteria.</summary>
internal static class SubsetLbTranslation
{
    /// <summary>
    /// The cluster's subset plan, or null when the subset load balancer is off: Envoy enables it only when
    /// <c>subset_selectors</c> is not empty, and drops selectors without keys (LoadBalancerSubsetInfoImpl).
    /// </summary>
    public static SubsetLbPlan? Subset(Cluster cluster)
        => cluster.LbSubsetConfig is { SubsetSelectors.Count: > 0 } config ? Subset(config) : null;

    /// <summary>The plan of a subset configuration, the legacy <c>lb_subset_config</c> or the typed subset policy (used whatever its selectors).</summary>
    public static SubsetLbPlan Subset<TSelector>(LbSubsetConfigBase<TSelector> config)
        where TSelector : LbSubsetSelectorBase
    {
        var selectors = new List<SubsetSelectorPlan>();
        foreach (var selector in config.SubsetSelectors)
        {
            if (selector.Keys.Count > 0)
            {
                selectors.Add(new SubsetSelectorPlan(SortedSet(selector.Keys), selector.FallbackPolicy, SortedSet(selector.FallbackKeysSubset), selector.SingleHostPerSubset));
            }
        }
        return new SubsetLbPlan(config.FallbackPolicy, selectors, config.ListAsAny, config.PanicModeAny, config.LocalityWeightAware, config.ScaleLocalityWeight, config.MetadataFallbackPolicy)
        {
            DefaultSubset = config.DefaultSubset is { } subset ? SubsetCriteria.Merge(null, ToElement(subset)) : null,
        };
    }

    /// <summary>A route's criteria: its <c>metadata_match</c>'s <c>envoy.lb</c> fields (Envoy's RouteEntryImplBase).</summary>
    public static SubsetCriteria? RouteCriteria(RouteAction? action) => SubsetCriteria.From(EnvoyMetadata.From(action?.MetadataMatch));

    /// <summary>
    /// A weighted cluster entry's criteria: its own <c>envoy.lb</c> fields merged over the route's (the entry's win), or the
    /// route's when it has none (Envoy's WeightedClusterEntry).
    /// </summary>
    public static SubsetCriteria? EntryCriteria(SubsetCriteria? route, ClusterWeight entry)
        => EnvoyMetadata.From(entry.MetadataMatch) is { } metadata && metadata.TryGetNamespace(SubsetCriteria.EnvoyLbNamespace, out var fields)
            ? SubsetCriteria.Merge(route, fields)
            : route;

    /// <summary>Sorted and without duplicates, as Envoy's std::set.</summary>
    internal static string[] SortedSet(IEnumerable<string> values)
    {
        var set = new SortedSet<string>(values, StringComparer.Ordinal);
        return [.. set];
    }

    private static JsonElement ToElement(System.Text.Json.Nodes.JsonObject value)
    {
        using var document = JsonDocument.Parse(value.ToJsonString(), new JsonDocumentOptions { MaxDepth = 256 });
        return document.RootElement.Clone();
    }
}
