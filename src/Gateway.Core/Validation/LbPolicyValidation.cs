using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Envoy's checks of a cluster's typed <c>load_balancing_policy</c> (ClusterInfoImpl::configureLbPolicies in
/// source/common/upstream/upstream_impl.cc) and of the slow start and LEAST_REQUEST settings both forms share.
/// </summary>
internal static class LbPolicyValidation
{
    /// <summary>The legacy per-policy settings, which the typed policy replaces.</summary>
    private static readonly string[] LegacyLbConfigs = ["ring_hash_lb_config", "maglev_lb_config", "least_request_lb_config", "round_robin_lb_config"];

    /// <summary>A cluster with <c>load_balancing_policy</c>: Envoy uses it and ignores <c>lb_policy</c>.</summary>
    public static void ValidateTyped(ValidationContext context, Cluster cluster, LoadBalancingPolicy policy)
    {
        if (cluster.HasField("lb_policy") && cluster.LbPolicy != LbPolicy.LoadBalancingPolicyConfig)
        {
            // Envoy would ignore it; a setting that does nothing is refused here.
            context.Error(cluster, "lb_policy", $"'lb_policy' {BootstrapValidator.EnumName(cluster.LbPolicy)} is ignored when 'load_balancing_policy' is set; remove it (or use LOAD_BALANCING_POLICY_CONFIG)");
        }
        foreach (var legacy in LegacyLbConfigs)
        {
            if (cluster.HasField(legacy))
            {
                context.Error(cluster, legacy, $"'{legacy}' is ignored when 'load_balancing_policy' is set; configure the policy in its typed_config");
            }
        }
        if (cluster.CommonLbConfig is { } common && (common.ConsistentHashingLbConfig is not null || common.HasField("zone_aware_lb_config") || common.HasField("locality_weighted_lb_config")))
        {
            context.Error(cluster, "common_lb_config", "cluster: load_balancing_policy cannot be combined with partial fields (zone_aware_lb_config, locality_weighted_lb_config, consistent_hashing_lb_config) of common_lb_config");
        }
        ValidateCandidates(context, cluster, "load_balancing_policy", cluster.Name, policy, nested: false);
    }

    /// <summary>The first candidate whose type is implemented is checked; Envoy fails the cluster when none is.</summary>
    private static void ValidateCandidates(ValidationContext context, EnvoyMessage owner, string field, string? clusterName, LoadBalancingPolicy policy, bool nested)
    {
        if (policy.HasBindingError("policies"))
        {
            return;
        }
        var missing = new List<string>();
        foreach (var entry in policy.Policies)
        {
            if (entry.TypedExtensionConfig is { } extension && extension.HasBindingError("typed_config"))
            {
                // The entry's type is known but its configuration was refused: that error is the one to fix.
                return;
            }
            if (entry.TypedExtensionConfig?.TypedConfig is { } config)
            {
                ValidatePolicy(context, config, clusterName, nested);
                return;
            }
            missing.Add(entry.TypedExtensionConfig?.Name ?? "");
        }
        context.Error(owner, field, $"cluster: didn't find a registered load balancer factory implementation for cluster: '{clusterName}' with names from [{string.Join(", ", missing)}]");
    }

    private static void ValidatePolicy(ValidationContext context, EnvoyMessage config, string? clusterName, bool nested)
    {
        switch (config)
        {
            case RoundRobinPolicy rr:
                ValidateSlowStart(context, rr.SlowStartConfig);
                ZoneAwareValidation.ValidateTyped(context, rr.LocalityLbConfig);
                break;
            case LeastRequestPolicy lr:
                ValidateLeastRequest(context, lr, lr.ChoiceCount, lr.ActiveRequestBias, "LeastRequestValidationError");
                ValidateSlowStart(context, lr.SlowStartConfig);
                ZoneAwareValidation.ValidateTyped(context, lr.LocalityLbConfig);
                break;
            case RandomPolicy random:
                ZoneAwareValidation.ValidateTyped(context, random.LocalityLbConfig);
                break;
            case RingHashPolicy ring:
                HashLbValidation.ValidateRingSizes(context, ring, ring.MinimumRingSize, ring.MaximumRingSize, "RingHashValidationError");
                HashLbValidation.ValidateHashBalanceFactor(context, ring, ring.HashBalanceFactor, "RingHashValidationError");
                ValidateConsistentHashing(context, ring.ConsistentHashingLbConfig);
                break;
            case MaglevPolicy maglev:
                HashLbValidation.ValidateTableSize(context, maglev, maglev.TableSize, "MaglevValidationError");
                ValidateConsistentHashing(context, maglev.ConsistentHashingLbConfig);
                break;
            case SubsetPolicy subset when nested:
                context.Error(subset, "a subset policy inside a subset policy's subset_lb_policy is not supported by this gateway");
                break;
            case SubsetPolicy subset:
                var chosen = Translation.LbPolicyTranslation.ChosenTypedPolicy(subset.SubsetLbPolicy);
                var childLocalityWeighted = chosen switch
                {
                    RingHashPolicy ring => ring.LocalityWeightedLbConfig is not null,
                    MaglevPolicy maglev => maglev.LocalityWeightedLbConfig is not null,
                    _ => Translation.LbPolicyTranslation.LocalityLbConfig(chosen)?.LocalityWeightedLbConfig is not null,
                };
                SubsetLbValidation.ValidateTyped(context, clusterName, subset, childLocalityWeighted,
                    child => ValidateCandidates(context, subset, "subset_lb_policy", clusterName, child, nested: true));
                break;
        }
    }

    private static void ValidateConsistentHashing(ValidationContext context, CommonConsistentHashingLbConfig? config)
    {
        if (config is not null)
        {
            HashLbValidation.ValidateHashBalanceFactor(context, config, config.HashBalanceFactor, "ConsistentHashingLbConfigValidationError");
        }
    }

    /// <summary><c>choice_count</c> (at least 2) and <c>active_request_bias</c> (a non-negative number with a runtime key).</summary>
    public static void ValidateLeastRequest(ValidationContext context, EnvoyMessage owner, uint? choiceCount, RuntimeDouble? activeRequestBias, string errorType)
    {
        if (choiceCount is { } choices && choices < 2)
        {
            context.Error(owner, "choice_count", $"Proto constraint validation failed ({errorType}.ChoiceCount: value must be greater than or equal to 2)");
        }
        if (activeRequestBias is { } bias)
        {
            RequireRuntimeKey(context, bias);
            if (bias.DefaultValue is < 0 or double.NaN or double.PositiveInfinity)
            {
                // Envoy logs and falls back to 1.0 for a negative bias; a value that is not used is refused here.
                context.Error(bias, "default_value", $"'active_request_bias' must be a non-negative number, not {bias.DefaultValue.ToString(CultureInfo.InvariantCulture)}");
            }
        }
    }

    /// <summary>
    /// <c>slow_start_config</c>: a window that is not negative, an aggression above 0 (Envoy logs and uses 1.0 for
    /// another; refused here as a value that would not be used) and a <c>min_weight_percent</c> in [0, 100].
    /// </summary>
    public static void ValidateSlowStart(ValidationContext context, SlowStartConfigBase? slowStart)
    {
        if (slowStart is null)
        {
            return;
        }
        if (slowStart.SlowStartWindow is { } window && window < TimeSpan.Zero)
        {
            context.Error(slowStart, "slow_start_window", "'slow_start_window' may not be negative");
        }
        if (slowStart.Aggression is { } aggression)
        {
            RequireRuntimeKey(context, aggression);
            if (!(aggression.DefaultValue > 0) || double.IsPositiveInfinity(aggression.DefaultValue))
            {
                context.Error(aggression, "default_value", $"'aggression' must be a number greater than 0, not {aggression.DefaultValue.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        if (slowStart.MinWeightPercent is { Value: var percent } minWeight && !(percent >= 0 && percent <= 100))
        {
            context.Error(minWeight, "value", $"'min_weight_percent' must be a percentage in [0, 100], not {percent.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void RequireRuntimeKey(ValidationContext context, RuntimeDouble value)
    {
        if (string.IsNullOrEmpty(value.RuntimeKey))
        {
            context.Error(value, "runtime_key", "'runtime_key' is required");
        }
    }
}
