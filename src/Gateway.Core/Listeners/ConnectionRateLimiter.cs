using Gateway.RateLimit;
using Gateway.Stats;

namespace Gateway.Listeners;

/// <summary>
/// One <c>envoy.filters.network.local_ratelimit</c> of a chain (Envoy's network LocalRateLimitFilter): each new
/// connection takes a token of the filter's bucket; with none left it counts in
/// <c>local_rate_limit.&lt;stat_prefix&gt;.rate_limited</c>, its stream info gets Envoy's <c>URX</c> flag, and it is
/// closed at once.
/// </summary>
internal sealed class ConnectionRateLimiter(StatsStore store, string statPrefix, TokenBucketState bucket) : ConnectionAdmission
{
    public Counter RateLimited { get; } = store.Counter("local_rate_limit." + statPrefix + ".rate_limited");

    public override bool TryAdmit(RequestStreamInfo? connection)
    {
        if (bucket.TryConsume())
        {
            return true;
        }
        RateLimited.Increment();
        connection?.SetResponseFlag(Filters.ResponseFlags.UpstreamRetryLimitExceeded);
        return false;
    }
}
