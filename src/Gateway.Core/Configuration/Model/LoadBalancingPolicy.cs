namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.cluster.v3.LoadBalancingPolicy</c>: candidate policies in order of preference; Envoy uses the first
/// whose type it has a factory for and fails the cluster when it has none (ClusterInfoImpl::configureLbPolicies).
/// </summary>
[EnvoyType("envoy.config.cluster.v3.LoadBalancingPolicy")]
public sealed class LoadBalancingPolicy : EnvoyMessage
{
    /// <summary>The candidates, most preferred first.</summary>
    [ProtoField(1)]
    public List<LoadBalancingPolicyEntry> Policies { get; set; } = [];
}

/// <summary><c>envoy.config.cluster.v3.LoadBalancingPolicy.Policy</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.LoadBalancingPolicy.Policy")]
public sealed class LoadBalancingPolicyEntry : EnvoyMessage
{
    /// <summary>The policy's name and typed configuration.</summary>
    [ProtoField(4)]
    public LbPolicyExtensionConfig? TypedExtensionConfig { get; set; }
}

/// <summary>
/// An <c>envoy.config.core.v3.TypedExtensionConfig</c> in <c>load_balancing_policy.policies</c>: the same message as
/// <see cref="Configuration.TypedExtensionConfig"/>, whose <c>typed_config</c> may only hold a load-balancing policy.
/// A type this gateway does not implement binds to null (Envoy looks the factory up as optional and tries the next).
/// </summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class LbPolicyExtensionConfig : EnvoyMessage
{
    /// <summary>The policy's name (listed in the error when no candidate is supported).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The policy's configuration; null when its type is not one this gateway implements.</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.LoadBalancingPolicy)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.SlowStartConfig</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.SlowStartConfig")]
public sealed class CommonSlowStartConfig : SlowStartConfigBase;

/// <summary>
/// <c>envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig</c>: how ROUND_ROBIN, LEAST_REQUEST and RANDOM
/// treat localities, zone-aware routing or locality weights (a required one-of).
/// </summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig")]
public sealed class CommonLocalityLbConfig : EnvoyMessage
{
    /// <summary>Zone-aware routing against <c>cluster_manager.local_cluster_name</c>.</summary>
    [ProtoField(1, InOneOf = true)]
    public CommonZoneAwareLbConfig? ZoneAwareLbConfig { get; set; }

    /// <summary>Set (it has no fields): a locality is picked by its <c>load_balancing_weight</c>, then a host in it.</summary>
    [ProtoField(2, InOneOf = true)]
    public CommonLocalityWeightedLbConfig? LocalityWeightedLbConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.ZoneAwareLbConfig</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.ZoneAwareLbConfig")]
public sealed class CommonZoneAwareLbConfig : ZoneAwareLbConfigBase
{
    /// <summary>Deprecated form of <see cref="ForceLocalZone"/> with <c>min_size</c> 1.</summary>
    [ProtoField(4)]
    public bool ForceLocalityDirectRouting { get; set; }

    /// <summary>All requests to the local zone while it has at least <c>min_size</c> healthy upstream hosts.</summary>
    [ProtoField(5)]
    public ForceLocalZone? ForceLocalZone { get; set; }

    /// <summary>What the per-zone percentages count: healthy hosts (default) or their weights.</summary>
    [ProtoField(6)]
    public LocalityBasis LocalityBasis { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.ZoneAwareLbConfig.ForceLocalZone</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.ZoneAwareLbConfig.ForceLocalZone")]
public sealed class ForceLocalZone : EnvoyMessage
{
    /// <summary>The healthy upstream hosts the local zone needs for forced local routing; default 1.</summary>
    [ProtoField(1)]
    public uint? MinSize { get; set; }
}

/// <summary><c>ZoneAwareLbConfig.LocalityBasis</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum LocalityBasis
{
    /// <summary>The number of healthy hosts per locality.</summary>
    HEALTHY_HOSTS_NUM = 0,

    /// <summary>The sum of the healthy hosts' <c>load_balancing_weight</c> per locality.</summary>
    HEALTHY_HOSTS_WEIGHT = 1,
}

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.LocalityWeightedLbConfig</c> (no fields).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.LocalityWeightedLbConfig")]
public sealed class CommonLocalityWeightedLbConfig : EnvoyMessage;

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.ConsistentHashingLbConfig</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.ConsistentHashingLbConfig", NotSupported = ["hash_policy"])]
public sealed class CommonConsistentHashingLbConfig : EnvoyMessage
{
    /// <summary>Hash hosts by host name instead of address.</summary>
    [ProtoField(1)]
    public bool UseHostnameForHashing { get; set; }

    /// <summary>Bounded loads: a host takes at most this percentage of the average load (at least 100); unset: unbounded.</summary>
    [ProtoField(2)]
    public uint? HashBalanceFactor { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin</c> (<c>envoy.load_balancing_policies.round_robin</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin")]
public sealed class RoundRobinPolicy : EnvoyMessage
{
    /// <summary>Slow start of new (or newly healthy) hosts.</summary>
    [ProtoField(1)]
    public CommonSlowStartConfig? SlowStartConfig { get; set; }

    /// <summary>Zone-aware routing or locality weights.</summary>
    [ProtoField(2)]
    public CommonLocalityLbConfig? LocalityLbConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest</c> (<c>envoy.load_balancing_policies.least_request</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest", NotSupported =
    ["enable_full_scan", "selection_method", "connection_aware_lb_config"])]
public sealed class LeastRequestPolicy : EnvoyMessage
{
    /// <summary>How many random hosts are compared (equal weights); default 2, at least 2.</summary>
    [ProtoField(1)]
    public uint? ChoiceCount { get; set; }

    /// <summary>The exponent of the active requests in the weighted pick; default 1.0.</summary>
    [ProtoField(2)]
    public RuntimeDouble? ActiveRequestBias { get; set; }

    /// <summary>Slow start of new (or newly healthy) hosts.</summary>
    [ProtoField(3)]
    public CommonSlowStartConfig? SlowStartConfig { get; set; }

    /// <summary>Zone-aware routing or locality weights.</summary>
    [ProtoField(4)]
    public CommonLocalityLbConfig? LocalityLbConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.random.v3.Random</c> (<c>envoy.load_balancing_policies.random</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.random.v3.Random")]
public sealed class RandomPolicy : EnvoyMessage
{
    /// <summary>Zone-aware routing or locality weights.</summary>
    [ProtoField(1)]
    public CommonLocalityLbConfig? LocalityLbConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash</c> (<c>envoy.load_balancing_policies.ring_hash</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash")]
public sealed class RingHashPolicy : EnvoyMessage
{
    /// <summary>Hash of the ring entries; DEFAULT_HASH is XX_HASH.</summary>
    [ProtoField(1)]
    public RingHashPolicyHashFunction HashFunction { get; set; }

    /// <summary>Smallest ring; default 1024, at most 8M.</summary>
    [ProtoField(2)]
    public ulong? MinimumRingSize { get; set; }

    /// <summary>Largest ring; default 8M, at most 8M.</summary>
    [ProtoField(3)]
    public ulong? MaximumRingSize { get; set; }

    /// <summary>Deprecated form of <c>consistent_hashing_lb_config.use_hostname_for_hashing</c> (used when that is absent).</summary>
    [ProtoField(4)]
    public bool UseHostnameForHashing { get; set; }

    /// <summary>Deprecated form of <c>consistent_hashing_lb_config.hash_balance_factor</c> (used when that is absent).</summary>
    [ProtoField(5)]
    public uint? HashBalanceFactor { get; set; }

    /// <summary>Settings common to the consistent-hashing policies.</summary>
    [ProtoField(6)]
    public CommonConsistentHashingLbConfig? ConsistentHashingLbConfig { get; set; }

    /// <summary>Set: hosts weigh in the ring by their locality's <c>load_balancing_weight</c> share.</summary>
    [ProtoField(7)]
    public CommonLocalityWeightedLbConfig? LocalityWeightedLbConfig { get; set; }
}

/// <summary><c>RingHash.HashFunction</c> (numbered unlike the cluster's <c>RingHashLbConfig.HashFunction</c>).</summary>
[ProtoEnumNamesVerbatim]
public enum RingHashPolicyHashFunction
{
    /// <summary>XX_HASH.</summary>
    DEFAULT_HASH = 0,

    /// <summary>xxHash64.</summary>
    XX_HASH = 1,

    /// <summary>libstdc++'s 64-bit MurmurHash2.</summary>
    MURMUR_HASH_2 = 2,
}

/// <summary><c>envoy.extensions.load_balancing_policies.maglev.v3.Maglev</c> (<c>envoy.load_balancing_policies.maglev</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.maglev.v3.Maglev")]
public sealed class MaglevPolicy : EnvoyMessage
{
    /// <summary>Lookup table size, a prime; default 65537, at most 5000011.</summary>
    [ProtoField(1)]
    public ulong? TableSize { get; set; }

    /// <summary>Settings common to the consistent-hashing policies.</summary>
    [ProtoField(2)]
    public CommonConsistentHashingLbConfig? ConsistentHashingLbConfig { get; set; }

    /// <summary>Set: hosts weigh in the table by their locality's <c>load_balancing_weight</c> share.</summary>
    [ProtoField(3)]
    public CommonLocalityWeightedLbConfig? LocalityWeightedLbConfig { get; set; }
}
