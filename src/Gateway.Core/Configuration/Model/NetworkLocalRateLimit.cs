using Gateway.Configuration.Types;

namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit</c> (<c>envoy.filters.network.local_ratelimit</c>):
/// a non-terminal network filter that takes one token of its bucket for each new connection and closes the connection
/// when the bucket is empty.
/// </summary>
[EnvoyType("envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit", NotSupported = ["runtime_enabled"])]
public sealed class NetworkLocalRateLimitConfig : EnvoyMessage
{
    /// <summary>The stats' prefix: <c>local_rate_limit.&lt;stat_prefix&gt;.</c> (required).</summary>
    [ProtoField(1)]
    public string? StatPrefix { get; set; }

    /// <summary>The connections' token bucket (required).</summary>
    [ProtoField(2)]
    public TokenBucket? TokenBucket { get; set; }

    /// <summary>Filters with the same key and token bucket settings share one bucket (empty: the filter's own).</summary>
    [ProtoField(4)]
    public string? ShareKey { get; set; }
}
