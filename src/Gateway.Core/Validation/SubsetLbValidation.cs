using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Validation;

/// <summary>
/// Envoy's checks of <c>lb_subset_config</c>, with Envoy's messages: the selectors' fallback keys (SubsetSelector's
/// constructor in source/extensions/load_balancing_policies/subset/subset_lb_config.cc) and locality weight awareness
/// (ClusterInfoImpl in source/common/upstream/upstream_impl.cc).
/// </summary>
internal static class SubsetLbValidation
{
    public static void Validate(ValidationContext context, Cluster cluster)
    {
        if (cluster.LbSubsetConfig is not { } config)
        {
            return;
        }
        if (cluster.LoadBalancingPolicy is not null)
        {
            // Envoy reads lb_subset_config only with the legacy lb_policy; the typed form is the subset extension, not supported here.
            context.Error(cluster, "lb_subset_config", "lb_subset_config with load_balancing_policy is not supported by this gateway (use lb_policy, or leave out the subsets)");
        }
        if (config.LocalityWeightAware && cluster.CommonLbConfig?.LocalityWeightedLbConfig is null)
        {
            context.Error(config, "locality_weight_aware", $"Locality weight aware subset LB requires that a locality_weighted_lb_config be set in {cluster.Name}");
        }
        foreach (var selector in config.SubsetSelectors)
        {
            // Envoy drops selectors without keys before it checks them.
            if (selector.Keys.Count == 0)
            {
                continue;
            }
            var keys = SubsetLbTranslation.SortedSet(selector.Keys);
            var fallbackKeys = SubsetLbTranslation.SortedSet(selector.FallbackKeysSubset);
            if (selector.FallbackPolicy != LbSubsetSelectorFallbackPolicy.KEYS_SUBSET)
            {
                if (fallbackKeys.Length > 0)
                {
                    context.Error(selector, "fallback_keys_subset", "fallback_keys_subset can be set only for KEYS_SUBSET fallback_policy");
                }
                continue;
            }
            if (fallbackKeys.Length == 0)
            {
                context.Error(selector, "fallback_keys_subset", "fallback_keys_subset cannot be empty");
            }
            else if (!fallbackKeys.All(key => Array.BinarySearch(keys, key, StringComparer.Ordinal) >= 0))
            {
                context.Error(selector, "fallback_keys_subset", "fallback_keys_subset must be a subset of selector keys");
            }
            else if (fallbackKeys.Length == keys.Length)
            {
                context.Error(selector, "fallback_keys_subset", "fallback_keys_subset cannot be equal to keys");
            }
        }
    }
}
