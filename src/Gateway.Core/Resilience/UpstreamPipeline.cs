using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>What the pipeline asks of the request it runs (the router's per-request state answers).</summary>
internal interface IPipelineRequest
{
    /// <summary>The route timeout in force (zero: none).</summary>
    TimeSpan Timeout { get; }

    /// <summary>The per-try timeout in force (zero: none).</summary>
    TimeSpan PerTryTimeout { get; }

    /// <summary>Whether a retry policy is in force.</summary>
    bool Retries { get; }

    /// <summary>The route timeout ended the request.</summary>
    void OnRouteTimeout();

    /// <summary>Envoy's retry predicate for a finished attempt (a per-try timeout arrives as Polly's <see cref="TimeoutRejectedException"/>).</summary>
    bool ShouldRetry(in Outcome<AttemptKind> outcome);

    /// <summary>The back-off before the scheduled retry.</summary>
    TimeSpan BackOff(Random jitter);
}

/// <summary>
/// The Polly pipelines routed requests run through, outermost first: the route timeout (it covers every
/// attempt and back-off), Envoy's retry (predicate and back-off from the request), the per-try timeout,
/// then one upstream attempt. The per-request values come from the <see cref="IPipelineRequest"/> in the
/// context's properties, so one pipeline serves every route; requests without a retry policy or per-try
/// timeout take the timeout-only pipeline.
/// </summary>
internal sealed class UpstreamPipeline
{
    /// <summary>Where the pipeline finds the request it is running.</summary>
    public static readonly ResiliencePropertyKey<IPipelineRequest> StateKey = new("gateway.upstream_request");

    private readonly ResiliencePipeline<AttemptKind> _retriesWithPerTryTimeout;
    private readonly ResiliencePipeline<AttemptKind> _retries;
    private readonly ResiliencePipeline<AttemptKind> _timeoutOnly;

    public UpstreamPipeline(TimeProvider time)
    {
        _retriesWithPerTryTimeout = Builder(time, "retry-per-try")
            .AddTimeout(RouteTimeout())
            .AddRetry(EnvoyRetry())
            .AddTimeout(new TimeoutStrategyOptions
            {
                Name = "per-try-timeout",
                // The retry predicate recognises a per-try timeout by the rejection this layer returns.
                TimeoutGenerator = static args => new ValueTask<TimeSpan>(OrInfinite(State(args.Context).PerTryTimeout)),
            })
            .Build();
        // Each layer costs an async frame per request, so requests get only the layers they can use.
        _retries = Builder(time, "retry").AddTimeout(RouteTimeout()).AddRetry(EnvoyRetry()).Build();
        _timeoutOnly = Builder(time, "timeout").AddTimeout(RouteTimeout()).Build();
    }

    /// <summary>The randomness of back-off jitter (replaceable in tests).</summary>
    public Random Jitter { get; set; } = Random.Shared;

    /// <summary>The pipeline for a request: with the retry and per-try layers only when it can use them.</summary>
    public ResiliencePipeline<AttemptKind> For(IPipelineRequest request)
        => request.PerTryTimeout > TimeSpan.Zero ? _retriesWithPerTryTimeout
            : !request.Retries ? _timeoutOnly
            : _retries;

    private static ResiliencePipelineBuilder<AttemptKind> Builder(TimeProvider time, string instance)
        => new() { Name = "envoy-router", InstanceName = instance, TimeProvider = time };

    private RetryStrategyOptions<AttemptKind> EnvoyRetry() => new()
    {
        Name = "envoy-retry",
        // num_retries and the cluster's retry circuit breaker are counted by the request's retry state, as Envoy counts them.
        MaxRetryAttempts = int.MaxValue,
        ShouldHandle = static args => new ValueTask<bool>(State(args.Context).ShouldRetry(args.Outcome)),
        DelayGenerator = args => new ValueTask<TimeSpan?>(State(args.Context).BackOff(Jitter)),
    };

    private static TimeoutStrategyOptions RouteTimeout() => new()
    {
        Name = "route-timeout",
        TimeoutGenerator = static args => new ValueTask<TimeSpan>(OrInfinite(State(args.Context).Timeout)),
        OnTimeout = static args =>
        {
            State(args.Context).OnRouteTimeout();
            return default;
        },
    };

    private static IPipelineRequest State(ResilienceContext context) => context.Properties.GetValue(StateKey, null!);

    /// <summary>Envoy's 0 means "no timeout", which Polly spells as an infinite one.</summary>
    private static TimeSpan OrInfinite(TimeSpan timeout) => timeout > TimeSpan.Zero ? timeout : Timeout.InfiniteTimeSpan;
}
