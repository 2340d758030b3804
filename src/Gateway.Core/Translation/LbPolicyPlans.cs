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
    /// <summary>The typed <c>envoy.load_balancing_policies.subset</c> around the policy; null without it.</summary>
    public SubsetLbPlan? Subset { get; init; }
}
