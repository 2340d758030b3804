using System.Collections.Frozen;
using System.Globalization;
using System.Net.Sockets;
using Gateway.Clusters;
using Gateway.Routing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's HTTP connection manager and router for one request on a data listener: downstream stats,
/// request header mutation (request id, x-forwarded-proto, internal headers), route selection, the
/// route timeout, and local replies when the upstream fails. Forwarding itself is YARP's.
/// </summary>
internal sealed partial class ConnectionManager
{
    /// <summary>Headers Envoy removes from external requests (conn_manager_utility.cc cleanInternalHeaders).</summary>
    private static readonly FrozenSet<string> InternalOnlyHeaders = new[]
    {
        "x-envoy-internal", "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on",
        "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
        "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
        "x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Envoy's default buffer limit (per_connection_buffer_limit_bytes, 1 MiB): larger bodies are not retried.</summary>
    public const int RetryBufferLimit = 1024 * 1024;

    private readonly TimeProvider _time;
    private readonly ILogger<ConnectionManager> _logger;

    /// <summary>The randomness of retry back-off jitter (replaceable in tests).</summary>
    internal Random Jitter { get; set; } = Random.Shared;

    public ConnectionManager(TimeProvider time, ILogger<ConnectionManager> logger)
    {
        _time = time;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context, ListenerRuntime listener)
    {
        var stats = listener.Stats;
        var start = _time.GetTimestamp();
        stats.RequestStarted(HttpProtocol.IsHttp2(context.Request.Protocol));
        try
        {
            await RouteAsync(context, listener, start).ConfigureAwait(false);
        }
        finally
        {
            stats.RequestFinished(context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, _time.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    private async Task RouteAsync(HttpContext context, ListenerRuntime listener, long start)
    {
        var request = context.Request;
        var plan = listener.ConnectionManager;
        var internalRequest = MutateRequestHeaders(request, plan.GenerateRequestId, listener.InternalRanges);

        var host = request.Headers.Host;
        var authority = host.Count == 0 ? null : host.ToString();
        var pathAndQuery = PathAndQuery(context);
        var route = listener.Routes.Match(authority, request.Method, request.Scheme, pathAndQuery, request.Headers);
        if (route is null)
        {
            listener.RouterStats.NoRoute.Increment();
            await LocalReply.SendAsync(context, StatusCodes.Status404NotFound, null, plan).ConfigureAwait(false);
            return;
        }
        listener.RouterStats.RqTotal.Increment();

        if (route.DirectResponseBody is { } body)
        {
            listener.RouterStats.RqDirectResponse.Increment();
            await LocalReply.SendAsync(context, route.Plan.DirectResponse!.Status, body, plan).ConfigureAwait(false);
            return;
        }

        var cluster = route.Cluster!;
        var endpoint = cluster.ProxyEndpoint;
        if (endpoint?.RequestDelegate is null)
        {
            // YARP has not applied this cluster yet: there is no host to send to.
            cluster.Stats.UpstreamCxNoneHealthy.Increment();
            ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable);
            await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.NoHealthyUpstream, plan).ConfigureAwait(false);
            return;
        }

        var state = new ProxyRequestState(listener, route, start);
        context.Features.Set(state);
        context.SetEndpoint(endpoint);
        var retryPolicy = internalRequest ? InternalRequest.ApplyRouterHeaders(state, request.Headers, route.Retry) : route.Retry;
        if (retryPolicy is { } retry && RequestIsRetriable(route, new RequestView(authority, request.Method, request.Scheme, pathAndQuery, request.Headers)))
        {
            state.Retry = retry;
            state.RetriesRemaining = retry.NumRetries;
            state.CanReplay = PrepareReplay(context);
        }

        var clientAborted = context.RequestAborted;
        CancellationTokenSource? timeout = null;
        CancellationTokenRegistration clientRegistration = default;
        if (state.Timeout > TimeSpan.Zero)
        {
            // The route timeout covers every attempt and back-off; YARP observes it through RequestAborted.
            timeout = new CancellationTokenSource(state.Timeout, _time);
            clientRegistration = clientAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        }
        var overall = timeout?.Token ?? clientAborted;

        var timedOut = false;
        var perTryTimedOut = false;
        try
        {
            while (true)
            {
                state.BeginAttempt();
                if (!cluster.TryAcquireRequest(route.Plan.Priority))
                {
                    // Circuit breaker overflow: answered at once, never retried (Envoy's UO).
                    state.Overflowed = true;
                    break;
                }
                try
                {
                    perTryTimedOut = await RunAttemptAsync(context, endpoint, state, overall).ConfigureAwait(false);
                }
                finally
                {
                    cluster.ReleaseRequest(route.Plan.Priority);
                }
                if (!ShouldRetry(context, state, perTryTimedOut, overall))
                {
                    break;
                }
                state.Host?.RequestEnded(state.UpstreamStatus, perTryTimedOut);
                if (!await BackOffAsync(state, overall).ConfigureAwait(false))
                {
                    break;
                }
                // Nothing of the failed attempt reaches the client: its response was held back or never came.
                context.Response.Clear();
                context.Features.Set<IForwarderErrorFeature>(null);
                if (context.Request.Body.CanSeek)
                {
                    context.Request.Body.Position = 0;
                }
            }
        }
        finally
        {
            context.RequestAborted = clientAborted;
            if (timeout is not null)
            {
                clientRegistration.Dispose();
                timedOut = timeout.IsCancellationRequested && !clientAborted.IsCancellationRequested;
                timeout.Dispose();
            }
        }

        await CompleteAsync(context, state, timedOut, perTryTimedOut && !timedOut).ConfigureAwait(false);
        state.Host?.RequestEnded(state.UpstreamStatus, timedOut || perTryTimedOut);
        if (state.UpstreamStatus != 0 || context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
        {
            var elapsed = _time.GetElapsedTime(start).TotalMilliseconds;
            cluster.Stats.Codes.RecordTime(elapsed);
            cluster.Stats.ExternalCodes.RecordTime(elapsed);
        }
    }

    /// <summary>One upstream attempt through YARP, under the per-try timeout if the route has one; true when that timeout fired.</summary>
    private async Task<bool> RunAttemptAsync(HttpContext context, Endpoint endpoint, ProxyRequestState state, CancellationToken overall)
    {
        CancellationTokenSource? perTry = null;
        CancellationTokenRegistration registration = default;
        if (state.PerTryTimeout > TimeSpan.Zero)
        {
            perTry = new CancellationTokenSource(state.PerTryTimeout, _time);
            registration = overall.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), perTry);
            context.RequestAborted = perTry.Token;
        }
        else
        {
            context.RequestAborted = overall;
        }
        try
        {
            await endpoint.RequestDelegate!(context).ConfigureAwait(false);
        }
        finally
        {
            if (state.UpstreamStarted)
            {
                state.Route.Cluster!.Stats.UpstreamRqActive.Decrement();
            }
            registration.Dispose();
        }
        var fired = perTry is not null && perTry.IsCancellationRequested && !overall.IsCancellationRequested;
        perTry?.Dispose();
        return fired;
    }

    /// <summary>Whether the attempt just made is followed by another, per the retry policy (Envoy's shouldRetry).</summary>
    private static bool ShouldRetry(HttpContext context, ProxyRequestState state, bool perTryTimedOut, CancellationToken overall)
    {
        if (state.RetryScheduled)
        {
            // The response transform held back a retriable response and already took the decision.
            return true;
        }
        if (state.Retry is not { } retry || state.UpstreamStatus != 0 || overall.IsCancellationRequested)
        {
            return false;
        }
        var stats = state.Route.Cluster!.Stats;
        if (perTryTimedOut)
        {
            stats.UpstreamRqPerTryTimeout.Increment();
            if (state.UpstreamStarted)
            {
                stats.UpstreamRqTotal.Increment();
            }
            return TryScheduleRetry(state, retry.RetriesPerTryTimeout);
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error?.Error is not (ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders))
        {
            return false;
        }
        var (_, reason) = DescribeReset(error.Exception);
        var connectFailure = reason.StartsWith("remote connection failure", StringComparison.Ordinal) || reason == "connection timeout";
        if (!TryScheduleRetry(state, retry.RetriesReset(connectFailure)))
        {
            return false;
        }
        if (!connectFailure)
        {
            stats.UpstreamRqTotal.Increment();
            stats.UpstreamRqRxReset.Increment();
        }
        return true;
    }

    /// <summary>
    /// Envoy's retry decision for a finished attempt (retry_state_impl.cc shouldRetry): not retriable →
    /// success if it was a retry; no retries left → limit exceeded; body not replayable → abandoned;
    /// cluster retry limit reached → overflow; otherwise a retry is scheduled and holds a retry slot
    /// until its back-off ends.
    /// </summary>
    internal static bool TryScheduleRetry(ProxyRequestState state, bool retriable)
    {
        var cluster = state.Route.Cluster!;
        var stats = cluster.Stats;
        if (!retriable)
        {
            if (state.Attempt > 1)
            {
                stats.UpstreamRqRetrySuccess.Increment();
            }
            return false;
        }
        if (state.RetriesRemaining == 0)
        {
            stats.UpstreamRqRetryLimitExceeded.Increment();
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
            return false;
        }
        state.HoldsRetrySlot = true;
        stats.UpstreamRqRetry.Increment();
        return true;
    }

    /// <summary>
    /// Whether a response is retriable under <paramref name="retry"/> (Envoy's wouldRetryFromHeaders):
    /// a response from a rate limiter (<c>x-envoy-ratelimited</c>) only with <c>envoy-ratelimited</c>;
    /// otherwise by status, by <c>retriable_headers</c>, or by <c>grpc-status</c>.
    /// </summary>
    internal static bool RetriesResponse(RetryPlan retry, ProxyRequestState state, int status, IHeaderDictionary headers)
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
    internal static TimeSpan? RateLimitedInterval(RateLimitedBackOffPlan plan, IHeaderDictionary headers, DateTimeOffset now)
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

    /// <summary>Envoy's RetryStateImpl::create: with <c>retriable_request_headers</c>, one must match or the request is not retried.</summary>
    private static bool RequestIsRetriable(RouteRuntime route, in RequestView request)
    {
        if (route.RetriableRequestHeaders.Count == 0)
        {
            return true;
        }
        foreach (var predicate in route.RetriableRequestHeaders)
        {
            if (predicate.Matches(request))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Envoy's back-off before a retry: the interval a rate-limited response asked for, jittered to
    /// [interval, 1.5·interval) (JitteredLowerBoundBackOffStrategy); otherwise the jittered exponential
    /// back-off, where the n-th retry waits a random time in [0, min(base·2^(n-1), max)).
    /// False when the route timeout (or the client) ended the request meanwhile.
    /// </summary>
    private async Task<bool> BackOffAsync(ProxyRequestState state, CancellationToken overall)
    {
        var retry = state.Retry!;
        var stats = state.Route.Cluster!.Stats;
        try
        {
            TimeSpan delay;
            if (state.RateLimitedBackOff is { } rateLimited && rateLimited > TimeSpan.FromMilliseconds(1))
            {
                stats.UpstreamRqRetryBackoffRateLimited.Increment();
                delay = rateLimited * (1 + (Jitter.NextDouble() / 2));
            }
            else
            {
                stats.UpstreamRqRetryBackoffExponential.Increment();
                var interval = retry.BaseInterval.TotalMilliseconds * Math.Pow(2, state.Attempt - 1);
                var cap = Math.Min(interval, retry.MaxInterval.TotalMilliseconds);
                delay = TimeSpan.FromMilliseconds(Jitter.NextDouble() * cap);
            }
            state.RateLimitedBackOff = null;
            await Task.Delay(delay, _time, overall).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            if (state.HoldsRetrySlot)
            {
                state.HoldsRetrySlot = false;
                state.Route.Cluster!.ReleaseRetry(state.Route.Plan.Priority);
            }
        }
    }

    /// <summary>Makes the request body replayable for retries: bodiless requests are, bodies up to the buffer limit are buffered.</summary>
    private static bool PrepareReplay(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            return true;
        }
        if (context.Request.ContentLength is { } length && length <= RetryBufferLimit)
        {
            context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: RetryBufferLimit);
            return true;
        }
        return false;
    }

    private async Task CompleteAsync(HttpContext context, ProxyRequestState state, bool timedOut, bool perTryTimedOut)
    {
        var cluster = state.Route.Cluster!;
        var plan = state.Listener.ConnectionManager;
        var attempts = state.Route.Plan.IncludeAttemptCountInResponse ? state.Attempt : 0;
        if (state.Overflowed)
        {
            ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable);
            await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.Overflow, plan, overloaded: true, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (perTryTimedOut && state.UpstreamStatus == 0)
        {
            // The last attempt hit per_try_timeout and no retry followed (the per-try stats are already charged).
            ChargeUpstream(cluster, StatusCodes.Status504GatewayTimeout);
            await LocalReply.SendAsync(context, StatusCodes.Status504GatewayTimeout, LocalReply.UpstreamTimeout, plan, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (timedOut)
        {
            if (state.UpstreamStarted && state.UpstreamStatus == 0)
            {
                cluster.Stats.UpstreamRqTotal.Increment();
            }
            cluster.Stats.UpstreamRqTimeout.Increment();
            if (!context.Response.HasStarted)
            {
                ChargeUpstream(cluster, StatusCodes.Status504GatewayTimeout);
            }
            await LocalReply.SendAsync(context, StatusCodes.Status504GatewayTimeout, LocalReply.UpstreamTimeout, plan, attemptCount: attempts).ConfigureAwait(false);
            return;
        }

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || error.Error == ForwarderError.None || state.UpstreamStatus != 0)
        {
            return;
        }
        switch (error.Error)
        {
            case ForwarderError.NoAvailableDestinations:
                cluster.Stats.UpstreamCxNoneHealthy.Increment();
                ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable);
                await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.NoHealthyUpstream, plan, attemptCount: attempts).ConfigureAwait(false);
                break;
            case ForwarderError.Request:
            case ForwarderError.RequestTimedOut:
            case ForwarderError.ResponseHeaders:
                {
                    if (context.RequestAborted.IsCancellationRequested)
                    {
                        return;
                    }
                    var (status, reason) = DescribeReset(error.Exception);
                    if (reason is "connection termination" or "protocol error")
                    {
                        // The request was on a connection (Envoy counts the attempt then); connect failures never were.
                        cluster.Stats.UpstreamRqTotal.Increment();
                        cluster.Stats.UpstreamRqRxReset.Increment();
                    }
                    Log.UpstreamFailed(_logger, cluster.Name, reason, error.Exception);
                    ChargeUpstream(cluster, status);
                    await LocalReply.SendAsync(context, status, LocalReply.ResetBeforeHeaders(reason, retried: state.Attempt > 1), plan, attemptCount: attempts).ConfigureAwait(false);
                    break;
                }
            case ForwarderError.RequestCanceled:
                cluster.Stats.UpstreamRqCancelled.Increment();
                break;
            default:
                // Failures after the response started (body copy, client gone): nothing more can be said to the client.
                if (context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
                {
                    state.Listener.RouterStats.RqResetAfterDownstreamResponseStarted.Increment();
                }
                break;
        }
    }

    /// <summary>Envoy's reset reason (and status) for a failure before upstream response headers.</summary>
    internal static (int Status, string Reason) DescribeReset(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket when socket.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown:
                    return (StatusCodes.Status503ServiceUnavailable, "connection termination");
                case SocketException socket:
                    return (StatusCodes.Status503ServiceUnavailable, $"remote connection failure, transport failure reason: delayed connect error: {socket.NativeErrorCode}");
                case TimeoutException:
                    // SocketsHttpHandler's ConnectTimeout (cluster connect_timeout) expired.
                    return (StatusCodes.Status503ServiceUnavailable, "connection timeout");
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse }:
                    return (StatusCodes.Status502BadGateway, "protocol error");
            }
        }
        return (StatusCodes.Status503ServiceUnavailable, "connection termination");
    }

    private static void ChargeUpstream(ClusterRuntime cluster, int status)
    {
        cluster.Stats.Codes.Charge(status);
        cluster.Stats.ExternalCodes.Charge(status);
    }

    /// <summary>What the router matches on: the raw request target (Envoy does not decode the path).</summary>
    private static string PathAndQuery(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw) && raw[0] == '/')
        {
            return raw;
        }
        var request = context.Request;
        return request.QueryString.HasValue ? request.Path.Value + request.QueryString.Value : request.Path.Value ?? "/";
    }

    /// <summary>
    /// Envoy's mutateRequestHeaders for this gateway's supported settings (use_remote_address is false):
    /// <c>x-envoy-internal</c> is set for internal requests and removed otherwise, and external requests
    /// lose the internal-only x-envoy-* headers; x-forwarded-proto is set when absent, and x-request-id
    /// added when absent. Returns whether the request is internal.
    /// </summary>
    private static bool MutateRequestHeaders(HttpRequest request, bool generateRequestId, IReadOnlyList<System.Net.IPNetwork> internalRanges)
    {
        var headers = request.Headers;
        headers.Remove(InternalRequest.InternalHeader);
        var internalRequest = InternalRequest.IsInternal(headers, internalRanges);
        if (internalRequest)
        {
            headers[InternalRequest.InternalHeader] = "true";
        }
        else
        {
            List<string>? remove = null;
            foreach (var header in headers)
            {
                if (header.Key.Length > 8 && header.Key.StartsWith("x-envoy-", StringComparison.OrdinalIgnoreCase) && InternalOnlyHeaders.Contains(header.Key))
                {
                    (remove ??= []).Add(header.Key);
                }
            }
            if (remove is not null)
            {
                foreach (var name in remove)
                {
                    headers.Remove(name);
                }
            }
        }

        if (StringValues.IsNullOrEmpty(headers[EnvoyHeaders.ForwardedProto]))
        {
            headers[EnvoyHeaders.ForwardedProto] = request.IsHttps ? "https" : "http";
        }
        if (generateRequestId && StringValues.IsNullOrEmpty(headers[EnvoyHeaders.RequestId]))
        {
            headers[EnvoyHeaders.RequestId] = Guid.NewGuid().ToString();
        }
        return internalRequest;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "upstream request to cluster '{Cluster}' failed before response headers: {Reason}")]
        public static partial void UpstreamFailed(ILogger logger, string cluster, string reason, Exception? exception);
    }
}
