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
            // Envoy's ClusterInfoImpl::configureLbPolicies; the typed form is the envoy.load_balancing_policies.subset policy.
            context.Error(cluster, "lb_subset_config", "cluster: load_balancing_policy cannot be combined with lb_subset_config");
        }
        if (config.LocalityWeightAware && cluster.CommonLbConfig?.LocalityWeightedLbConfig is null)
        {
            context.Error(config, "locality_weight_aware", $"Locality weight aware subset LB requires that a locality_weighted_lb_config be set in {cluster.Name}");
        }
        ValidateSelectors(context, config);
    }

    /// <summary>
    /// The typed <c>envoy.load_balancing_policies.subset</c>: its selectors as the legacy form's, a required
    /// <c>subset_lb_policy</c> (checked as a cluster's <c>load_balancing_policy</c> by <paramref name="validateChild"/>);
    /// <c>locality_weight_aware</c> needs locality weights, here the child policy's (<paramref name="childLocalityWeighted"/>).
    /// </summary>
    public static void ValidateTyped(ValidationContext context, string? clusterName, SubsetPolicy config, bool childLocalityWeighted, Action<LoadBalancingPolicy> validateChild)
    {
        if (config.LocalityWeightAware && !childLocalityWeighted)
        {
            // The legacy form's check (the weights come from the child's locality_lb_config instead of common_lb_config).
            context.Error(config, "locality_weight_aware", $"Locality weight aware subset LB requires that a locality_weighted_lb_config be set in {clusterName}");
        }
        if (config.SubsetLbPolicy is { } child)
        {
            validateChild(child);
        }
        else if (!config.HasBindingError("subset_lb_policy"))
        {
            context.Error(config, "subset_lb_policy", "Proto constraint validation failed (SubsetValidationError.SubsetLbPolicy: value is required)");
        }
        ValidateSelectors(context, config);
    }

    private static void ValidateSelectors<TSelector>(ValidationContext context, LbSubsetConfigBase<TSelector> config)
        where TSelector : LbSubsetSelectorBase
    {
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
