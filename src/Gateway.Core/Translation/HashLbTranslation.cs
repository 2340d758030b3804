using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>The consistent-hashing settings of a cluster and the hash policies of a route, into the plan.</summary>
internal static class HashLbTranslation
{
    /// <summary>
    /// The cluster's RING_HASH/MAGLEV settings; null for other policies. Envoy reads <c>use_hostname_for_hashing</c>,
    /// <c>hash_balance_factor</c> and <c>locality_weighted_lb_config</c> from <c>common_lb_config</c> (LoadBalancerConfigHelper::convertHashLbConfigTo).
    /// </summary>
    public static HashLbPlan? HashLb(Cluster cluster)
    {
        var useHostname = cluster.CommonLbConfig?.ConsistentHashingLbConfig?.UseHostnameForHashing ?? false;
        HashLbPlan? plan = cluster.LbPolicy switch
        {
            LbPolicy.RingHash => new RingHashPlan(
                cluster.RingHashLbConfig?.MinimumRingSize ?? RingHashPlan.DefaultMinimumRingSize,
                cluster.RingHashLbConfig?.MaximumRingSize ?? RingHashPlan.DefaultMaximumRingSize,
                cluster.RingHashLbConfig?.HashFunction == RingHashFunctionKind.MURMUR_HASH_2 ? RingHashFunction.MurmurHash2 : RingHashFunction.XxHash,
                useHostname),
            LbPolicy.Maglev => new MaglevPlan(cluster.MaglevLbConfig?.TableSize ?? MaglevPlan.DefaultTableSize, useHostname),
            _ => null,
        };
        return plan is null ? null : plan with
        {
            HashBalanceFactor = cluster.CommonLbConfig?.ConsistentHashingLbConfig?.HashBalanceFactor ?? 0,
            LocalityWeighted = cluster.CommonLbConfig?.LocalityWeightedLbConfig is not null,
        };
    }

    /// <summary>The route's hash policies in order; a <c>connection_properties</c> without <c>source_ip</c> hashes nothing (Envoy skips it).</summary>
    public static IReadOnlyList<HashPolicyPlan>? HashPolicies(RouteAction? action)
    {
        if (action is null || action.HashPolicy.Count == 0)
        {
            return null;
        }
        var plans = new List<HashPolicyPlan>(action.HashPolicy.Count);
        foreach (var policy in action.HashPolicy)
        {
            if (policy.Header is { } header)
            {
                plans.Add(new HashPolicyPlan(HashPolicyKind.Header, header.HeaderName!.ToLowerInvariant(), policy.Terminal)
                {
                    HeaderRewrite = header.RegexRewrite?.Pattern?.Regex is { } pattern ? new RegexRewritePlan(pattern, header.RegexRewrite.Substitution ?? "") : null,
                });
            }
            else if (policy.Cookie is { } cookie)
            {
                var attributes = new List<KeyValuePair<string, string>>(cookie.Attributes.Count);
                foreach (var attribute in cookie.Attributes)
                {
                    attributes.Add(new(attribute.Name!, attribute.Value ?? ""));
                }
                plans.Add(new HashPolicyPlan(HashPolicyKind.Cookie, cookie.Name!, policy.Terminal)
                {
                    // Envoy keeps whole seconds of the ttl.
                    CookieTtl = cookie.Ttl is { } ttl ? TimeSpan.FromSeconds(Math.Floor(ttl.TotalSeconds)) : null,
                    CookiePath = cookie.Path ?? "",
                    CookieAttributes = attributes,
                });
            }
            else if (policy.ConnectionProperties is { SourceIp: true })
            {
                plans.Add(new HashPolicyPlan(HashPolicyKind.SourceIp, "", policy.Terminal));
            }
            else if (policy.QueryParameter is { } query)
            {
                plans.Add(new HashPolicyPlan(HashPolicyKind.QueryParameter, query.Name!, policy.Terminal));
            }
        }
        return plans;
    }
}
