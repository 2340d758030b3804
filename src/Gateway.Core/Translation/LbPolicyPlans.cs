namespace Gateway.Translation;

/// <summary>
/// <c>slow_start_config</c> with Envoy's defaults applied (<c>aggression</c> 1.0, <c>min_weight_percent</c> 10 %):
/// a host healthy for less than <see cref="Window"/> has its weight scaled by
/// <c>max(MinWeight, (time / window)^(1 / aggression))</c>.
/// </summary>
public sealed record SlowStartPlan(TimeSpan Window, double Aggression, double MinWeight)
{
    /// <summary>Envoy's default <c>min_weight_percent</c>.</summary>
    public const double DefaultMinWeightPercent = 10;
}

/// <summary>The policy a cluster runs, from <c>load_balancing_policy</c> (its first supported entry) or <c>lb_policy</c>.</summary>
internal sealed record EffectiveLbPolicy(Configuration.LbPolicy Policy, LeastRequestPlan LeastRequest, HashLbPlan? HashLb, SlowStartPlan? SlowStart)
{
    /// <summary><c>locality_weighted_lb_config</c> (common or the typed policy's <c>locality_lb_config</c>) is set.</summary>
    public bool LocalityWeighted { get; init; }

    /// <summary><c>zone_aware_lb_config</c> (common or the typed policy's <c>locality_lb_config</c>); null when not set.</summary>
    public ZoneAwarePlan? ZoneAware { get; init; }

    /// <summary>The typed <c>envoy.load_balancing_policies.subset</c> around the policy; null without it.</summary>
    public SubsetLbPlan? Subset { get; init; }
}

/// <summary>
/// <c>zone_aware_lb_config</c> with Envoy's defaults applied (ZoneAwareLoadBalancerBase): <c>routing_enabled</c> 100 %
/// (rounded to a whole percent), <c>min_cluster_size</c> 6, <c>fail_traffic_on_panic</c> false, no forced local zone
/// (<c>force_local_zone.min_size</c>, default 1, or 1 for the deprecated <c>force_locality_direct_routing</c>), and
/// percentages by healthy host count (<see cref="WeightBasis"/> false) or by their weights.
/// </summary>
public sealed record ZoneAwarePlan(uint RoutingEnabled, ulong MinClusterSize, bool FailTrafficOnPanic, uint? ForceLocalZoneMinSize, bool WeightBasis)
{
    /// <summary>Envoy's default <c>min_cluster_size</c>.</summary>
    public const ulong DefaultMinClusterSize = 6;

    /// <summary>What a zone-aware load balancer uses without <c>zone_aware_lb_config</c>.</summary>
    public static readonly ZoneAwarePlan Defaults = new(100, DefaultMinClusterSize, false, null, false);
}
