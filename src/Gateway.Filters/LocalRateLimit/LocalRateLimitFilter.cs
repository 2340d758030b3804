using System.Globalization;
using Gateway.RateLimit;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.LocalRateLimit;

/// <summary>The local rate limit filter of one listener (Envoy's <c>LocalRateLimitFilter::Filter</c>).</summary>
internal sealed class LocalRateLimitFilter(LocalRateLimitSettings settings) : IHttpFilter
{
    private const string LimitHeader = "x-ratelimit-limit";
    private const string RemainingHeader = "x-ratelimit-remaining";
    private const string ResetHeader = "x-ratelimit-reset";

    // The response hook runs only for a request whose settings asked for x-ratelimit headers (a per-request feature marks it).
    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var used = context.RouteConfig<LocalRateLimitSettings>() ?? settings;
        if (!used.FilterEnabled.Evaluate(used.Random))
        {
            return new(FilterStatus.Continue);
        }
        used.Enabled.Increment();

        DescriptorEntry[]?[]? descriptors = null;
        if (used.Descriptors.Length != 0 && used.Producers.Length != 0)
        {
            descriptors = new DescriptorEntry[]?[used.Producers.Length];
            for (var i = 0; i < descriptors.Length; i++)
            {
                descriptors[i] = used.Producers[i].Produce(context);
            }
        }

        var allowed = used.RequestAllowed(descriptors);
        if (used.XRateLimitHeaders)
        {
            RateLimitHeadersState.Add(context.HttpContext, this, used.HeaderBucket(descriptors));
        }
        if (allowed)
        {
            used.Ok.Increment();
            return new(FilterStatus.Continue);
        }
        used.RateLimited.Increment();
        if (!used.FilterEnforced.Evaluate(used.Random))
        {
            used.RequestHeaders.Apply(context.HttpContext.Request.Headers);
            return new(FilterStatus.Continue);
        }
        used.Enforced.Increment();
        context.StreamInfo.SetResponseFlag(ResponseFlags.RateLimited);
        return new(context.SendLocalReply(used.Status, "local_rate_limited", "local_rate_limited", used.ResponseHeaders));
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        if (RateLimitHeadersState.Find(context.HttpContext, this) is { } bucket)
        {
            var headers = context.HttpContext.Response.Headers;
            headers.Append(LimitHeader, bucket.MaxTokens.ToString(CultureInfo.InvariantCulture));
            headers.Append(RemainingHeader, bucket.Remaining().ToString(CultureInfo.InvariantCulture));
            headers.Append(ResetHeader, bucket.ResetSeconds().ToString(CultureInfo.InvariantCulture));
        }
        return new(FilterStatus.Continue);
    }

    /// <summary>Which bucket a request's x-ratelimit headers describe, per filter instance (a chain may have several rate limit filters).</summary>
    private sealed class RateLimitHeadersState
    {
        private readonly LocalRateLimitFilter _owner;
        private readonly TokenBucketState _bucket;
        private readonly RateLimitHeadersState? _next;

        private RateLimitHeadersState(LocalRateLimitFilter owner, TokenBucketState bucket, RateLimitHeadersState? next)
        {
            _owner = owner;
            _bucket = bucket;
            _next = next;
        }

        public static void Add(HttpContext context, LocalRateLimitFilter owner, TokenBucketState bucket)
            => context.Features.Set(new RateLimitHeadersState(owner, bucket, context.Features.Get<RateLimitHeadersState>()));

        public static TokenBucketState? Find(HttpContext context, LocalRateLimitFilter owner)
        {
            for (var state = context.Features.Get<RateLimitHeadersState>(); state is not null; state = state._next)
            {
                if (ReferenceEquals(state._owner, owner))
                {
                    return state._bucket;
                }
            }
            return null;
        }
    }
}
