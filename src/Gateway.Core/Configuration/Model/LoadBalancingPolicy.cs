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

/// <summary><c>envoy.extensions.load_balancing_policies.common.v3.ConsistentHashingLbConfig</c>.</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.common.v3.ConsistentHashingLbConfig", NotSupported = ["hash_balance_factor", "hash_policy"])]
public sealed class CommonConsistentHashingLbConfig : EnvoyMessage
{
    /// <summary>Hash hosts by host name instead of address.</summary>
    [ProtoField(1)]
    public bool UseHostnameForHashing { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin</c> (<c>envoy.load_balancing_policies.round_robin</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin", NotSupported = ["locality_lb_config"])]
public sealed class RoundRobinPolicy : EnvoyMessage
{
    /// <summary>Slow start of new (or newly healthy) hosts.</summary>
    [ProtoField(1)]
    public CommonSlowStartConfig? SlowStartConfig { get; set; }
}

/// <summary><c>envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest</c> (<c>envoy.load_balancing_policies.least_request</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest", NotSupported =
    ["locality_lb_config", "connection_aware_lb_config"])]
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

    /// <summary>Deprecated and unused by Envoy (replaced by <see cref="SelectionMethod"/>): accepted and ignored, as there.</summary>
    [ProtoField(5)]
    public bool? EnableFullScan { get; set; }

    /// <summary>Which hosts the pick compares when the weights are equal: <c>choice_count</c> random ones (default) or all.</summary>
    [ProtoField(6)]
    public LeastRequestSelectionMethod SelectionMethod { get; set; }
}

/// <summary><c>LeastRequest.SelectionMethod</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum LeastRequestSelectionMethod
{
    /// <summary>The fewest active requests of <c>choice_count</c> random hosts.</summary>
    N_CHOICES = 0,

    /// <summary>The fewest active requests of all hosts, a random one of those tied.</summary>
    FULL_SCAN = 1,
}

/// <summary><c>envoy.extensions.load_balancing_policies.random.v3.Random</c> (<c>envoy.load_balancing_policies.random</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.random.v3.Random", NotSupported = ["locality_lb_config"])]
public sealed class RandomPolicy : EnvoyMessage;

/// <summary><c>envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash</c> (<c>envoy.load_balancing_policies.ring_hash</c>).</summary>
[EnvoyType("envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash", NotSupported = ["hash_balance_factor", "locality_weighted_lb_config"])]
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

    /// <summary>Settings common to the consistent-hashing policies.</summary>
    [ProtoField(6)]
    public CommonConsistentHashingLbConfig? ConsistentHashingLbConfig { get; set; }
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
[EnvoyType("envoy.extensions.load_balancing_policies.maglev.v3.Maglev", NotSupported = ["locality_weighted_lb_config"])]
public sealed class MaglevPolicy : EnvoyMessage
{
    /// <summary>Lookup table size, a prime; default 65537, at most 5000011.</summary>
    [ProtoField(1)]
    public ulong? TableSize { get; set; }

    /// <summary>Settings common to the consistent-hashing policies.</summary>
    [ProtoField(2)]
    public CommonConsistentHashingLbConfig? ConsistentHashingLbConfig { get; set; }
}
