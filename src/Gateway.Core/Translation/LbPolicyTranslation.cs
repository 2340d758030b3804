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

    internal static EnvoyMessage? ChosenTypedPolicy(LoadBalancingPolicy? policy)
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
        var common = cluster.CommonLbConfig;
        return new(
            cluster.LbPolicy,
            leastRequest is null ? LeastRequestPlan.Defaults : LeastRequest(leastRequest.ChoiceCount, leastRequest.ActiveRequestBias),
            HashLbTranslation.HashLb(cluster),
            cluster.LbPolicy switch
            {
                LbPolicy.RoundRobin => SlowStart(cluster.RoundRobinLbConfig?.SlowStartConfig),
                LbPolicy.LeastRequest => SlowStart(leastRequest?.SlowStartConfig),
                _ => null,
            })
        {
            LocalityWeighted = common?.LocalityWeightedLbConfig is not null,
            // Envoy's LoadBalancerConfigHelper::localityLbConfigFromCommonLbConfig: the legacy message has the first three fields.
            ZoneAware = common?.ZoneAwareLbConfig is { } legacy ? ZoneAware(legacy, null, false) : null,
        };
    }

    /// <summary>The policy a typed <c>load_balancing_policy</c> entry runs, with its <c>locality_lb_config</c>.</summary>
    private static EffectiveLbPolicy Typed(EnvoyMessage? config)
    {
        EffectiveLbPolicy typed = config switch
        {
            LeastRequestPolicy lr => new(LbPolicy.LeastRequest, LeastRequest(lr.ChoiceCount, lr.ActiveRequestBias) with
            {
                FullScan = lr.SelectionMethod == LeastRequestSelectionMethod.FULL_SCAN,
            }, null, SlowStart(lr.SlowStartConfig)),
            RandomPolicy => new(LbPolicy.Random, LeastRequestPlan.Defaults, null, null),
            RingHashPolicy ring => new(LbPolicy.RingHash, LeastRequestPlan.Defaults, RingHash(ring), null),
            MaglevPolicy maglev => new(LbPolicy.Maglev, LeastRequestPlan.Defaults, Maglev(maglev), null),
            RoundRobinPolicy rr => new(LbPolicy.RoundRobin, LeastRequestPlan.Defaults, null, SlowStart(rr.SlowStartConfig)),
            // The subset policy wraps its child, with the child's locality settings (validation refuses a subset inside a subset).
            SubsetPolicy subset => Typed(ChosenTypedPolicy(subset.SubsetLbPolicy)) with { Subset = SubsetLbTranslation.Subset(subset) },
            // Validation refuses a list without a supported entry.
            _ => new(LbPolicy.RoundRobin, LeastRequestPlan.Defaults, null, null),
        };
        var locality = LocalityLbConfig(config);
        return locality is null ? typed : typed with
        {
            LocalityWeighted = locality.LocalityWeightedLbConfig is not null,
            ZoneAware = locality.ZoneAwareLbConfig is { } zone ? ZoneAware(zone) : null,
        };
    }

    /// <summary>The typed policy's <c>locality_lb_config</c> (ROUND_ROBIN, LEAST_REQUEST, RANDOM), or null.</summary>
    internal static CommonLocalityLbConfig? LocalityLbConfig(EnvoyMessage? config) => config switch
    {
        RoundRobinPolicy rr => rr.LocalityLbConfig,
        LeastRequestPolicy lr => lr.LocalityLbConfig,
        RandomPolicy random => random.LocalityLbConfig,
        _ => null,
    };

    /// <summary>The typed <c>zone_aware_lb_config</c>: <c>force_local_zone</c> supersedes the deprecated <c>force_locality_direct_routing</c>.</summary>
    private static ZoneAwarePlan ZoneAware(CommonZoneAwareLbConfig zone) => ZoneAware(
        zone,
        zone.ForceLocalZone is { } force ? force.MinSize ?? 1 : zone.ForceLocalityDirectRouting ? 1 : null,
        zone.LocalityBasis == LocalityBasis.HEALTHY_HOSTS_WEIGHT);

    private static ZoneAwarePlan ZoneAware(ZoneAwareLbConfigBase zone, uint? forceLocalZoneMinSize, bool weightBasis)
        => new(RoutingEnabled(zone.RoutingEnabled), zone.MinClusterSize ?? ZoneAwarePlan.DefaultMinClusterSize, zone.FailTrafficOnPanic, forceLocalZoneMinSize, weightBasis);

    /// <summary>Envoy's PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT(…, routing_enabled, 100, 100).</summary>
    private static uint RoutingEnabled(Percent? percent)
        => percent is { } p ? (uint)Math.Clamp(Math.Round(p.Value, MidpointRounding.AwayFromZero), 0, 100) : 100;

    private static LeastRequestPlan LeastRequest(uint? choiceCount, RuntimeDouble? activeRequestBias)
        => new((int)Math.Min(choiceCount ?? 2, int.MaxValue), activeRequestBias?.DefaultValue ?? LeastRequestPlan.Defaults.ActiveRequestBias);

    /// <summary>
    /// The typed RingHash: the deprecated <c>use_hostname_for_hashing</c> and <c>hash_balance_factor</c> apply when
    /// <c>consistent_hashing_lb_config</c> is absent (Envoy's RingHashLoadBalancer).
    /// </summary>
    private static RingHashPlan RingHash(RingHashPolicy ring) => new(
        ring.MinimumRingSize ?? RingHashPlan.DefaultMinimumRingSize,
        ring.MaximumRingSize ?? RingHashPlan.DefaultMaximumRingSize,
        ring.HashFunction == RingHashPolicyHashFunction.MURMUR_HASH_2 ? RingHashFunction.MurmurHash2 : RingHashFunction.XxHash,
        ring.ConsistentHashingLbConfig is { } common ? common.UseHostnameForHashing : ring.UseHostnameForHashing)
    {
        HashBalanceFactor = (ring.ConsistentHashingLbConfig is { } shared ? shared.HashBalanceFactor : ring.HashBalanceFactor) ?? 0,
        LocalityWeighted = ring.LocalityWeightedLbConfig is not null,
    };

    /// <summary>The typed Maglev: <c>hash_balance_factor</c> only in <c>consistent_hashing_lb_config</c>.</summary>
    private static MaglevPlan Maglev(MaglevPolicy maglev) => new(maglev.TableSize ?? MaglevPlan.DefaultTableSize, maglev.ConsistentHashingLbConfig?.UseHostnameForHashing ?? false)
    {
        HashBalanceFactor = maglev.ConsistentHashingLbConfig?.HashBalanceFactor ?? 0,
        LocalityWeighted = maglev.LocalityWeightedLbConfig is not null,
    };

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
