namespace Gateway.RateLimit;

/// <summary>
/// The token buckets of <c>envoy.filters.network.local_ratelimit</c> filters with a <c>share_key</c> (Envoy's
/// SharedRateLimitSingleton): every filter with the same key and the same token bucket settings, in any chain or
/// listener, takes from one bucket. A bucket lives while a configuration's filter holds it, so a configuration applied
/// while the old one still runs keeps its filters' tokens, as Envoy's registry of weak pointers does.
/// </summary>
internal sealed class SharedTokenBuckets
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Key, WeakReference<TokenBucketState>> _buckets = [];

    /// <summary>The bucket for <paramref name="shareKey"/> and these settings, made (full) when none is alive.</summary>
    public TokenBucketState Get(string shareKey, uint maxTokens, uint tokensPerFill, TimeSpan fillInterval, TimeProvider time)
    {
        var key = new Key(shareKey, maxTokens, tokensPerFill, fillInterval);
        lock (_lock)
        {
            if (_buckets.TryGetValue(key, out var held) && held.TryGetTarget(out var bucket))
            {
                return bucket;
            }
            RemoveCollected();
            bucket = new TokenBucketState(maxTokens, tokensPerFill, fillInterval, time);
            _buckets[key] = new WeakReference<TokenBucketState>(bucket);
            return bucket;
        }
    }

    private void RemoveCollected()
    {
        List<Key>? dead = null;
        foreach (var (key, held) in _buckets)
        {
            if (!held.TryGetTarget(out _))
            {
                (dead ??= []).Add(key);
            }
        }
        if (dead is not null)
        {
            foreach (var key in dead)
            {
                _buckets.Remove(key);
            }
        }
    }

    private readonly record struct Key(string ShareKey, uint MaxTokens, uint TokensPerFill, TimeSpan FillInterval);
}
