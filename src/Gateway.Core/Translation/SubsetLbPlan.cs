using System.Text.Json.Serialization;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>
/// A cluster's <c>lb_subset_config</c> as Envoy's LoadBalancerSubsetInfoImpl holds it: the selectors with non-empty
/// keys (keys and fallback keys sorted and without duplicates), the default subset's criteria, the flags.
/// </summary>
public sealed record SubsetLbPlan(
    LbSubsetFallbackPolicy FallbackPolicy,
    IReadOnlyList<SubsetSelectorPlan> Selectors,
    bool ListAsAny,
    bool PanicModeAny,
    bool LocalityWeightAware,
    bool ScaleLocalityWeight,
    LbSubsetMetadataFallbackPolicy MetadataFallbackPolicy)
{
    /// <summary>The hosts of DEFAULT_SUBSET: those matching these <c>envoy.lb</c> values (null: every host).</summary>
    [JsonIgnore]
    internal SubsetCriteria? DefaultSubset { get; init; }

    /// <summary>The <c>default_subset</c> as configured, canonical (for equality and diagnostics).</summary>
    public string DefaultSubsetText => DefaultSubset?.Key.Text ?? "";
}

/// <summary>One <c>subset_selectors</c> entry: its keys and fallback keys sorted (Envoy keeps them as std::set).</summary>
public sealed record SubsetSelectorPlan(
    IReadOnlyList<string> Keys,
    LbSubsetSelectorFallbackPolicy FallbackPolicy,
    IReadOnlyList<string> FallbackKeysSubset,
    bool SingleHostPerSubset);
