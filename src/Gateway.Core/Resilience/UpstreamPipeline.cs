using Gateway.Listeners;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>What one upstream attempt came to, as the retry strategy sees it; the details are on the request state.</summary>
internal enum AttemptResult
{
    /// <summary>The attempt went to the upstream (it may still have failed: see the request state).</summary>
    Completed,

    /// <summary>A circuit breaker refused the attempt: answered 503 at once and never retried.</summary>
    Overflowed,
}

/// <summary>
/// The Polly pipelines routed requests run through, outermost first: the route timeout (it covers every
/// attempt and back-off), Envoy's retry (predicate and back-off from <see cref="RetryDecisions"/>), the
/// per-try timeout, then one upstream attempt. The per-request values (timeouts, retry policy) come from
/// the <see cref="ProxyRequestState"/> in the context's properties, so one pipeline serves every route;
/// requests without a retry policy or per-try timeout take the timeout-only pipeline.
/// </summary>
internal sealed class UpstreamPipeline
{
    /// <summary>Where the pipeline finds the request it is running.</summary>
    public static readonly ResiliencePropertyKey<ProxyRequestState> StateKey = new("gateway.proxy_request_state");

    private readonly ResiliencePipeline<AttemptResult> _retriesWithPerTryTimeout;
    private readonly ResiliencePipeline<AttemptResult> _retries;
    private readonly ResiliencePipeline<AttemptResult> _timeoutOnly;

    public UpstreamPipeline(TimeProvider time)
    {
        _retriesWithPerTryTimeout = Builder(time, "retry-per-try")
            .AddTimeout(RouteTimeout())
            .AddRetry(EnvoyRetry())
            .AddTimeout(new TimeoutStrategyOptions
            {
                Name = "per-try-timeout",
                TimeoutGenerator = static args => new ValueTask<TimeSpan>(OrInfinite(State(args.Context).PerTryTimeout)),
                OnTimeout = static args =>
                {
                    State(args.Context).PerTryTimedOut = true;
                    return default;
                },
            })
            .Build();
        // Each layer costs an async frame per request, so requests get only the layers they can use.
        _retries = Builder(time, "retry").AddTimeout(RouteTimeout()).AddRetry(EnvoyRetry()).Build();
        _timeoutOnly = Builder(time, "timeout").AddTimeout(RouteTimeout()).Build();
    }

    /// <summary>The randomness of back-off jitter (replaceable in tests).</summary>
    public Random Jitter { get; set; } = Random.Shared;

    /// <summary>The pipeline for a request: with the retry and per-try layers only when it can use them.</summary>
    public ResiliencePipeline<AttemptResult> For(ProxyRequestState state)
        => state.PerTryTimeout > TimeSpan.Zero ? _retriesWithPerTryTimeout
            : state.Retry is null ? _timeoutOnly
            : _retries;

    private static ResiliencePipelineBuilder<AttemptResult> Builder(TimeProvider time, string instance)
        => new() { Name = "envoy-router", InstanceName = instance, TimeProvider = time };

    private RetryStrategyOptions<AttemptResult> EnvoyRetry() => new()
    {
        Name = "envoy-retry",
        // num_retries and the cluster's retry circuit breaker are counted by RetryDecisions, as Envoy counts them.
        MaxRetryAttempts = int.MaxValue,
        ShouldHandle = static args => new ValueTask<bool>(ShouldRetry(State(args.Context), args.Outcome)),
        DelayGenerator = args => new ValueTask<TimeSpan?>(RetryDecisions.BackOff(State(args.Context), Jitter)),
    };

    private static TimeoutStrategyOptions RouteTimeout() => new()
    {
        Name = "route-timeout",
        TimeoutGenerator = static args => new ValueTask<TimeSpan>(OrInfinite(State(args.Context).Timeout)),
        OnTimeout = static args =>
        {
            State(args.Context).RouteTimedOut = true;
            return default;
        },
    };

    private static ProxyRequestState State(ResilienceContext context) => context.Properties.GetValue(StateKey, null!);

    /// <summary>Envoy's 0 means "no timeout", which Polly spells as an infinite one.</summary>
    private static TimeSpan OrInfinite(TimeSpan timeout) => timeout > TimeSpan.Zero ? timeout : Timeout.InfiniteTimeSpan;

    /// <summary>
    /// The retry predicate: a per-try timeout (the inner timeout strategy's rejection), a response the
    /// response transform held back for a retry, or a failure before response headers. An attempt
    /// followed by a retry ends here for its host; the last one ends when the request completes.
    /// </summary>
    private static bool ShouldRetry(ProxyRequestState state, Outcome<AttemptResult> outcome)
    {
        var perTryTimedOut = outcome.Exception is TimeoutRejectedException;
        bool retry;
        if (perTryTimedOut)
        {
            retry = RetryDecisions.AfterPerTryTimeout(state);
        }
        else if (outcome.Exception is not null || outcome.Result == AttemptResult.Overflowed)
        {
            // The route timeout or the client ended the request, or a circuit breaker refused it: never retried.
            retry = false;
        }
        else
        {
            retry = state.RetryScheduled || RetryDecisions.AfterFailure(state);
        }
        if (retry)
        {
            state.Host?.RequestEnded(state.UpstreamStatus, perTryTimedOut);
            state.Host = null;
        }
        return retry;
    }
}
