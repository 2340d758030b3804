using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>
/// The load-balancing policy a cluster runs. As in Envoy's ClusterInfoImpl (source/common/upstream/upstream_impl.cc),
/// a set <c>load_balancing_policy</c> wins and <c>lb_policy</c> is ignored; its first entry whose type this gateway
/// implements is used (validation refuses a list with none). Otherwise <c>lb_policy</c> with its legacy settings.
/// </summary>
internal static class LbPolicyTranslation
{
    /// <summary>The first entry of <c>load_balancing_policy</c> whose type is implemented (bound), or null.</summary>
    public static EnvoyMessage? ChosenTypedPolicy(Cluster cluster) => ChosenTypedPolicy(cluster.LoadBalancingPolicy);

    private static EnvoyMessage? ChosenTypedPolicy(LoadBalancingPolicy? policy)
    {
        foreach (var entry in policy?.Policies ?? [])
        {
            if (entry.TypedExtensionConfig?.TypedConfig is { } config)
            {
                return config;
            }
        }
        return null;
    }

    public static EffectiveLbPolicy Translate(Cluster cluster)
    {
        if (cluster.LoadBalancingPolicy is not null)
        {
            return Typed(ChosenTypedPolicy(cluster));
        }
        var leastRequest = cluster.LeastRequestLbConfig;
        return new(
            cluster.LbPolicy,
            leastRequest is null ? LeastRequestPlan.Defaults : LeastRequest(leastRequest.ChoiceCount, leastRequest.ActiveRequestBias),
            HashLbTranslation.HashLb(cluster),
            cluster.LbPolicy switch
            {
                LbPolicy.RoundRobin => SlowStart(cluster.RoundRobinLbConfig?.SlowStartConfig),
                LbPolicy.LeastRequest => SlowStart(leastRequest?.SlowStartConfig),
                _ => null,
            });
    }

    /// <summary>The policy a typed <c>load_balancing_policy</c> entry runs.</summary>
    private static EffectiveLbPolicy Typed(EnvoyMessage? config)
        => config switch
        {
            LeastRequestPolicy lr => new(LbPolicy.LeastRequest, LeastRequest(lr.ChoiceCount, lr.ActiveRequestBias) with
            {
                FullScan = lr.SelectionMethod == LeastRequestSelectionMethod.FULL_SCAN,
            }, null, SlowStart(lr.SlowStartConfig)),
            RandomPolicy => new(LbPolicy.Random, LeastRequestPlan.Defaults, null, null),
            RingHashPolicy ring => new(LbPolicy.RingHash, LeastRequestPlan.Defaults, RingHash(ring), null),
            MaglevPolicy maglev => new(LbPolicy.Maglev, LeastRequestPlan.Defaults, new MaglevPlan(
                maglev.TableSize ?? MaglevPlan.DefaultTableSize, maglev.ConsistentHashingLbConfig?.UseHostnameForHashing ?? false), null),
            RoundRobinPolicy rr => new(LbPolicy.RoundRobin, LeastRequestPlan.Defaults, null, SlowStart(rr.SlowStartConfig)),
            // The subset policy wraps its child (validation refuses a subset inside a subset).
            SubsetPolicy subset => Typed(ChosenTypedPolicy(subset.SubsetLbPolicy)) with { Subset = SubsetLbTranslation.Subset(subset) },
            // Validation refuses a list without a supported entry.
            _ => new(LbPolicy.RoundRobin, LeastRequestPlan.Defaults, null, null),
        };

    private static LeastRequestPlan LeastRequest(uint? choiceCount, RuntimeDouble? activeRequestBias)
        => new((int)Math.Min(choiceCount ?? 2, int.MaxValue), activeRequestBias?.DefaultValue ?? LeastRequestPlan.Defaults.ActiveRequestBias);

    /// <summary>The typed RingHash: the deprecated <c>use_hostname_for_hashing</c> applies when <c>consistent_hashing_lb_config</c> is absent.</summary>
    private static RingHashPlan RingHash(RingHashPolicy ring) => new(
        ring.MinimumRingSize ?? RingHashPlan.DefaultMinimumRingSize,
        ring.MaximumRingSize ?? RingHashPlan.DefaultMaximumRingSize,
        ring.HashFunction == RingHashPolicyHashFunction.MURMUR_HASH_2 ? RingHashFunction.MurmurHash2 : RingHashFunction.XxHash,
        ring.ConsistentHashingLbConfig is { } common ? common.UseHostnameForHashing : ring.UseHostnameForHashing);

    /// <summary>Envoy's EdfLoadBalancerBase reads the window in whole milliseconds; 0 (or unset) disables slow start.</summary>
    private static SlowStartPlan? SlowStart(SlowStartConfigBase? config)
    {
        if (config?.SlowStartWindow is not { } window)
        {
            return null;
        }
        var milliseconds = Math.Floor(window.TotalMilliseconds);
        return milliseconds <= 0 ? null : new SlowStartPlan(
            TimeSpan.FromMilliseconds(milliseconds),
            config.Aggression?.DefaultValue ?? 1.0,
            (config.MinWeightPercent?.Value ?? SlowStartPlan.DefaultMinWeightPercent) / 100.0);
    }
}
