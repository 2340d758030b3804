namespace Gateway.RateLimit;

/// <summary>
/// Envoy's TokenBucketImpl (xDS <c>rate_limit_settings</c>): starts full, refills continuously at a fill rate per second,
/// and says how long until the next token. The local rate limiters' bucket (<see cref="TokenBucketState"/>) fills in
/// whole steps per interval instead, as Envoy's does.
/// </summary>
internal sealed class FillRateTokenBucket(uint maxTokens, double fillRate, TimeProvider time)
{
    private readonly Lock _sync = new();
    private double _tokens = maxTokens;
    private long _last = time.GetTimestamp();

    /// <summary>Takes a token: null when one was taken, else how long until one is there.</summary>
    public TimeSpan? TryTake()
    {
        lock (_sync)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(maxTokens, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * fillRate));
            _last = now;
            if (_tokens >= 1)
            {
                _tokens--;
                return null;
            }
            return TimeSpan.FromSeconds((1 - _tokens) / fillRate);
        }
    }
}
