namespace Gateway.RateLimit;

/// <summary>
/// One token bucket, as Envoy's local rate limiters (the HTTP filter's and the network filter's) keep it: full at start, <c>tokens_per_fill</c> added (up to
/// <c>max_tokens</c>) at every whole fill interval since the limiter was created. Envoy refills on a timer; here the
/// fills due are counted from the clock when the bucket is read, which gives the same tokens at the same instants
/// (and lets tests drive it with a fake <see cref="TimeProvider"/>).
/// </summary>
internal sealed class TokenBucketState
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly long _intervalTicks;
    private uint _tokens;
    private long _fills;

    public TokenBucketState(uint maxTokens, uint tokensPerFill, TimeSpan fillInterval, TimeProvider time)
    {
        MaxTokens = maxTokens;
        TokensPerFill = tokensPerFill;
        FillInterval = fillInterval;
        _time = time;
        _origin = time.GetTimestamp();
        _intervalTicks = fillInterval.Ticks;
        _tokens = maxTokens;
    }

    public uint MaxTokens { get; }

    public uint TokensPerFill { get; }

    public TimeSpan FillInterval { get; }

    /// <summary>Takes one token; false when the bucket is empty.</summary>
    public bool TryConsume()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens == 0)
            {
                return false;
            }
            _tokens--;
            return true;
        }
    }

    /// <summary>The tokens left now (<c>x-ratelimit-remaining</c>).</summary>
    public uint Remaining()
    {
        lock (_lock)
        {
            Refill();
            return _tokens;
        }
    }

    /// <summary>
    /// Whole seconds until the next fill (<c>x-ratelimit-reset</c>), as Envoy computes it: the interval minus the whole
    /// seconds since the last fill, truncated to seconds.
    /// </summary>
    public long ResetSeconds()
    {
        lock (_lock)
        {
            Refill();
            if (_intervalTicks == 0)
            {
                return 0;
            }
            var sinceFill = _time.GetElapsedTime(_origin).Ticks - (_fills * _intervalTicks);
            var wholeSeconds = sinceFill / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;
            return (_intervalTicks - wholeSeconds) / TimeSpan.TicksPerSecond;
        }
    }

    private void Refill()
    {
        if (_intervalTicks == 0)
        {
            // No token bucket configured: Envoy starts no fill timer.
            return;
        }
        var fills = _time.GetElapsedTime(_origin).Ticks / _intervalTicks;
        if (fills <= _fills)
        {
            return;
        }
        var added = (ulong)(fills - _fills) * TokensPerFill;
        _tokens = (uint)Math.Min(MaxTokens, _tokens + added);
        _fills = fills;
    }
}
