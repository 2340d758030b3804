using System.Globalization;
using Gateway.Listeners;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Router;

/// <summary>
/// Envoy's retry semantics (source/common/router/retry_state_impl.cc): which outcomes are retriable,
/// the retry accounting against <c>num_retries</c> and the cluster's retry circuit breaker, and the
/// back-off. The Polly pipeline (<see cref="UpstreamPipeline"/>) asks these questions through the request;
/// the answers are Envoy's. The <c>upstream_rq_retry*</c> and <c>retry_or_shadow_abandoned</c> counters
/// are charged here because they count decisions, not attempts: each is the answer the decision gave.
/// </summary>
internal static class RetryDecisions
{
    /// <summary>
    /// Envoy's shouldRetry for a finished attempt: not retriable → success if it was a retry; no retries
    /// left → limit exceeded; body not replayable → abandoned; cluster retry limit reached → overflow;
    /// otherwise a retry is scheduled and holds a retry slot until its back-off ends.
    /// </summary>
    public static bool TryScheduleRetry(UpstreamRequest state, bool retriable)
    {
        var cluster = state.Cluster;
        var stats = cluster.Stats;
        if (!retriable)
        {
            if (state.Attempt > 1)
            {
                stats.UpstreamRqRetrySuccess.Increment();
                state.VirtualCluster?.UpstreamRqRetrySuccess.Increment();
                state.Route.Stats?.UpstreamRqRetrySuccess.Increment();
            }
            return false;
        }
        if (state.RetriesRemaining == 0)
        {
            stats.UpstreamRqRetryLimitExceeded.Increment();
            state.VirtualCluster?.UpstreamRqRetryLimitExceeded.Increment();
            state.Route.Stats?.UpstreamRqRetryLimitExceeded.Increment();
            state.StreamInfo.SetResponseFlag(Filters.ResponseFlags.UpstreamRetryLimitExceeded);
            return false;
        }
        state.RetriesRemaining--;
        if (!state.CanReplay)
        {
            stats.RetryOrShadowAbandoned.Increment();
            return false;
        }
        if (!cluster.TryAcquireRetry(state.Route.Plan.Priority))
        {
            stats.UpstreamRqRetryOverflow.Increment();
            state.VirtualCluster?.UpstreamRqRetryOverflow.Increment();
            state.Route.Stats?.UpstreamRqRetryOverflow.Increment();
            state.StreamInfo.SetResponseFlag(Filters.ResponseFlags.UpstreamOverflow);
            return false;
        }
        state.HoldsRetrySlot = true;
        stats.UpstreamRqRetry.Increment();
        state.VirtualCluster?.UpstreamRqRetry.Increment();
        state.Route.Stats?.UpstreamRqRetry.Increment();
        return true;
    }

    /// <summary>
    /// After an attempt hit the per-try timeout: charged as Envoy does (<see cref="UpstreamAccounting.PerTryTimeout"/>),
    /// and retried with 5xx, gateway-error or reset unless response headers had already come.
    /// </summary>
    public static bool AfterPerTryTimeout(UpstreamRequest state, in AttemptOutcome attempt)
    {
        if (attempt.Status != 0)
        {
            return false;
        }
        UpstreamAccounting.PerTryTimeout(state.Cluster.Stats, attempt, state);
        return state.Retry is { } retry && TryScheduleRetry(state, retry.RetriesPerTryTimeout);
    }

    /// <summary>
    /// After an attempt failed before response headers (Envoy's wouldRetryFromReset): retried on connect
    /// failure with connect-failure, on any reset with 5xx, gateway-error or reset.
    /// </summary>
    public static bool AfterReset(UpstreamRequest state, in AttemptOutcome attempt)
        => state.Retry is { } retry && attempt.Kind is AttemptKind.Reset or AttemptKind.ConnectFailure
            && TryScheduleRetry(state, retry.RetriesReset(attempt.Kind == AttemptKind.ConnectFailure));

    /// <summary>
    /// Whether a response is retriable (Envoy's wouldRetryFromHeaders): never an overload answer; a
    /// response from a rate limiter (<c>x-envoy-ratelimited</c>) only with <c>envoy-ratelimited</c>;
    /// otherwise by status, by <c>retriable_headers</c> (or <c>x-envoy-retriable-header-names</c>), or by <c>grpc-status</c>.
    /// </summary>
    public static bool RetriesResponse(RetryPlan retry, UpstreamRequest state, int status, IHeaderDictionary headers)
    {
        if (headers.ContainsKey(EnvoyHeaders.Overloaded))
        {
            return false;
        }
        if (headers.TryGetValue(EnvoyHeaders.RateLimited, out var rateLimited) && rateLimited == "true")
        {
            return (retry.RetryOn & RetryOn.EnvoyRateLimited) != 0;
        }
        if (retry.RetriesStatus(status))
        {
            return true;
        }
        if ((retry.RetryOn & RetryOn.RetriableHeaders) != 0)
        {
            var view = new RequestView(null, string.Empty, string.Empty, "/", headers);
            foreach (var predicate in state.Route.RetriableHeaders)
            {
                if (predicate.Matches(view))
                {
                    return true;
                }
            }
            foreach (var name in state.RetriableHeaderNames ?? [])
            {
                if (headers.ContainsKey(name))
                {
                    return true;
                }
            }
        }
        return (retry.RetryOn & RetryOn.AnyGrpc) != 0
            && headers.TryGetValue(EnvoyHeaders.GrpcStatus, out var grpc)
            && int.TryParse(grpc.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var grpcStatus)
            && retry.RetriesGrpcStatus(grpcStatus);
    }

    /// <summary>
    /// The back-off a rate-limited response asks for through the policy's reset headers (Envoy's
    /// parseResetInterval): the first header that parses to an interval within <c>max_interval</c>.
    /// </summary>
    public static TimeSpan? RateLimitedInterval(RateLimitedBackOffPlan plan, IHeaderDictionary headers, DateTimeOffset now)
    {
        foreach (var reset in plan.ResetHeaders)
        {
            if (!headers.TryGetValue(reset.Name, out var values) || values.Count == 0
                || !ulong.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                continue;
            }
            TimeSpan interval;
            if (reset.Format == Configuration.ResetHeaderFormat.Seconds)
            {
                interval = TimeSpan.FromSeconds(Math.Min(number, (ulong)TimeSpan.MaxValue.TotalSeconds - 1));
            }
            else
            {
                var seconds = (long)Math.Min(number, long.MaxValue) - now.ToUnixTimeSeconds();
                if (seconds <= 0)
                {
                    continue;
                }
                interval = TimeSpan.FromSeconds(seconds);
            }
            if (interval <= plan.MaxInterval)
            {
                return interval;
            }
        }
        return null;
    }

    /// <summary>
    /// Envoy's back-off before a retry, counting which kind it was: the interval a rate-limited response
    /// asked for, jittered to [interval, 1.5·interval) (JitteredLowerBoundBackOffStrategy); otherwise the
    /// fully jittered exponential back-off, where the n-th retry waits a random time in [0, min(base·2^(n-1), max)).
    /// </summary>
    public static TimeSpan BackOff(UpstreamRequest state, Random jitter)
    {
        var retry = state.Retry!;
        var stats = state.Cluster.Stats;
        var rateLimited = state.RateLimitedBackOff;
        state.RateLimitedBackOff = null;
        if (rateLimited is { } interval && interval > TimeSpan.FromMilliseconds(1))
        {
            stats.UpstreamRqRetryBackoffRateLimited.Increment();
            return interval * (1 + (jitter.NextDouble() / 2));
        }
        stats.UpstreamRqRetryBackoffExponential.Increment();
        var exponential = retry.BaseInterval.TotalMilliseconds * Math.Pow(2, state.Attempt - 1);
        var cap = Math.Min(exponential, retry.MaxInterval.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(jitter.NextDouble() * cap);
    }
}
