namespace Gateway.Configuration;

/// <summary><c>envoy.config.cluster.v3.Cluster.RingHashLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.RingHashLbConfig")]
public sealed class RingHashLbConfig : EnvoyMessage
{
    /// <summary>Smallest ring; default 1024, at most 8M.</summary>
    [ProtoField(1)]
    public ulong? MinimumRingSize { get; set; }

    /// <summary>Hash of the ring entries; default XX_HASH.</summary>
    [ProtoField(3)]
    public RingHashFunctionKind HashFunction { get; set; }

    /// <summary>Largest ring; default 8M, at most 8M.</summary>
    [ProtoField(4)]
    public ulong? MaximumRingSize { get; set; }
}

/// <summary><c>Cluster.RingHashLbConfig.HashFunction</c>.</summary>
[ProtoEnumNamesVerbatim]
public enum RingHashFunctionKind
{
    /// <summary>xxHash64.</summary>
    XX_HASH = 0,

    /// <summary>libstdc++'s 64-bit MurmurHash2.</summary>
    MURMUR_HASH_2 = 1,
}

/// <summary><c>envoy.config.cluster.v3.Cluster.MaglevLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.MaglevLbConfig")]
public sealed class MaglevLbConfig : EnvoyMessage
{
    /// <summary>Lookup table size, a prime; default 65537, at most 5000011.</summary>
    [ProtoField(1)]
    public ulong? TableSize { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig")]
public sealed class ConsistentHashingLbConfig : EnvoyMessage
{
    /// <summary>Hash hosts by host name instead of address.</summary>
    [ProtoField(1)]
    public bool UseHostnameForHashing { get; set; }

    /// <summary>Bounded loads: a host takes at most this percentage of the average load (at least 100); unset: unbounded.</summary>
    [ProtoField(2)]
    public uint? HashBalanceFactor { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy")]
public sealed class HashPolicy : EnvoyMessage
{
    /// <summary>Hash a request header.</summary>
    [ProtoField(1, InOneOf = true)]
    public HashPolicyHeader? Header { get; set; }

    /// <summary>Hash a cookie (generated when absent and <c>ttl</c> is set).</summary>
    [ProtoField(2, InOneOf = true)]
    public HashPolicyCookie? Cookie { get; set; }

    /// <summary>Hash connection properties.</summary>
    [ProtoField(3, InOneOf = true)]
    public HashPolicyConnectionProperties? ConnectionProperties { get; set; }

    /// <summary>Stop at this policy when it produced a hash.</summary>
    [ProtoField(4)]
    public bool Terminal { get; set; }

    /// <summary>Hash a query parameter.</summary>
    [ProtoField(5, InOneOf = true)]
    public HashPolicyQueryParameter? QueryParameter { get; set; }

    /// <summary>Hash a filter state object; bound so that the validator can refuse it with the reason (the gateway has no filter state).</summary>
    [ProtoField(6, InOneOf = true)]
    public HashPolicyFilterState? FilterState { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.Header</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.Header")]
public sealed class HashPolicyHeader : EnvoyMessage
{
    /// <summary>The header whose values are hashed.</summary>
    [ProtoField(1)]
    public string? HeaderName { get; set; }

    /// <summary>Each value rewritten (every match replaced) before it is hashed.</summary>
    [ProtoField(2)]
    public PathRegexRewrite? RegexRewrite { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.Cookie</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.Cookie")]
public sealed class HashPolicyCookie : EnvoyMessage
{
    /// <summary>The cookie's name.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>When set and the cookie is absent, a cookie is generated with this Max-Age.</summary>
    [ProtoField(2)]
    public TimeSpan? Ttl { get; set; }

    /// <summary>The generated cookie's Path.</summary>
    [ProtoField(3)]
    public string? Path { get; set; }

    /// <summary>More attributes of the generated cookie.</summary>
    [ProtoField(4)]
    public List<HashPolicyCookieAttribute> Attributes { get; set; } = [];
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.CookieAttribute</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.CookieAttribute")]
public sealed class HashPolicyCookieAttribute : EnvoyMessage
{
    /// <summary>Attribute name.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Attribute value (empty: the name alone).</summary>
    [ProtoField(2)]
    public string? Value { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties")]
public sealed class HashPolicyConnectionProperties : EnvoyMessage
{
    /// <summary>Hash the downstream source IP.</summary>
    [ProtoField(1)]
    public bool SourceIp { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter")]
public sealed class HashPolicyQueryParameter : EnvoyMessage
{
    /// <summary>The parameter's name (case-sensitive).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.HashPolicy.FilterState</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.HashPolicy.FilterState")]
public sealed class HashPolicyFilterState : EnvoyMessage
{
    /// <summary>The filter state object's key.</summary>
    [ProtoField(1)]
    public string? Key { get; set; }
}
