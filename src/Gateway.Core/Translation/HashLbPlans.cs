namespace Gateway.Translation;

/// <summary>Which hash the ring uses for its entries (<c>RingHashLbConfig.HashFunction</c>).</summary>
public enum RingHashFunction
{
    /// <summary><c>XX_HASH</c> (the default).</summary>
    XxHash,

    /// <summary><c>MURMUR_HASH_2</c>: libstdc++'s 64-bit MurmurHash2, for rings compatible with <c>std::hash</c>.</summary>
    MurmurHash2,
}

/// <summary>A hash-based load balancer's settings: <see cref="RingHashPlan"/> or <see cref="MaglevPlan"/>.</summary>
public abstract record HashLbPlan(bool UseHostnameForHashing)
{
    /// <summary><c>hash_balance_factor</c> (bounded loads, at least 100); 0 when not set (loads not bounded).</summary>
    public uint HashBalanceFactor { get; init; }

    /// <summary>
    /// <c>locality_weighted_lb_config</c> is set (the typed policy's own, or <c>common_lb_config</c>'s with <c>lb_policy</c>):
    /// each host's share of the ring or table is its weight within its locality times the locality's weight share.
    /// </summary>
    public bool LocalityWeighted { get; init; }
}

/// <summary>RING_HASH (<c>ring_hash_lb_config</c>, or the typed <c>ring_hash.v3.RingHash</c>) with Envoy's defaults applied.</summary>
public sealed record RingHashPlan(ulong MinimumRingSize, ulong MaximumRingSize, RingHashFunction HashFunction, bool UseHostnameForHashing)
    : HashLbPlan(UseHostnameForHashing)
{
    /// <summary>Envoy's default <c>minimum_ring_size</c>.</summary>
    public const ulong DefaultMinimumRingSize = 1024;

    /// <summary>Envoy's default (and largest allowed) <c>maximum_ring_size</c>, 8M.</summary>
    public const ulong DefaultMaximumRingSize = 8 * 1024 * 1024;
}

/// <summary>MAGLEV (<c>maglev_lb_config</c>, or the typed <c>maglev.v3.Maglev</c>) with Envoy's default table size applied.</summary>
public sealed record MaglevPlan(ulong TableSize, bool UseHostnameForHashing) : HashLbPlan(UseHostnameForHashing)
{
    /// <summary>Envoy's <c>MaglevTable::DefaultTableSize</c>.</summary>
    public const ulong DefaultTableSize = 65537;

    /// <summary>The largest table Envoy's proto allows (<c>table_size</c> lte 5000011).</summary>
    public const ulong MaxTableSize = 5000011;
}

/// <summary>One route <c>hash_policy</c> entry, compiled by <see cref="Router.HashPolicy"/>.</summary>
public sealed record HashPolicyPlan(HashPolicyKind Kind, string Name, bool Terminal)
{
    /// <summary>A cookie policy's <c>ttl</c>: when set and the cookie is absent, one is generated.</summary>
    public TimeSpan? CookieTtl { get; init; }

    /// <summary>A cookie policy's <c>path</c> (empty: none).</summary>
    public string CookiePath { get; init; } = "";

    /// <summary>A cookie policy's <c>attributes</c>, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> CookieAttributes { get; init; } = [];

    /// <summary>A header policy's <c>regex_rewrite</c>, applied to each value before it is hashed; null when it has none.</summary>
    public RegexRewritePlan? HeaderRewrite { get; init; }
}

/// <summary>What a hash policy hashes.</summary>
public enum HashPolicyKind
{
    /// <summary>A request header's values (<see cref="HashPolicyPlan.Name"/> is the lower-case header name).</summary>
    Header,

    /// <summary>A cookie's value (<see cref="HashPolicyPlan.Name"/> is the cookie name).</summary>
    Cookie,

    /// <summary>The downstream source IP (<c>connection_properties.source_ip</c>).</summary>
    SourceIp,

    /// <summary>A query parameter's first value (<see cref="HashPolicyPlan.Name"/> is the parameter name).</summary>
    QueryParameter,
}
