using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Gateway.Clusters;
using Gateway.Filters;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Polly;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's HTTP connection manager and router for one request on a data listener: downstream stats,
/// request header mutation (request id, x-forwarded-proto, internal headers), route selection, the
/// route timeout, and local replies when the upstream fails. Forwarding itself is YARP's.
/// </summary>
internal sealed partial class ConnectionManager
{
    /// <summary>Headers Envoy removes from external requests besides x-envoy-internal (conn_manager_utility.cc cleanInternalHeaders).</summary>
    private static readonly string[] InternalOnlyHeaderNames =
    [
        "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on",
        "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
        "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
        "x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
    ];

    /// <summary>Envoy's default buffer limit (per_connection_buffer_limit_bytes, 1 MiB): larger bodies are not retried.</summary>
    public const int RetryBufferLimit = 1024 * 1024;

    private readonly TimeProvider _time;
    private readonly ILogger<ConnectionManager> _logger;
    private readonly UpstreamPipeline _pipeline;
    private readonly ILogger _filterLogger;

    public ConnectionManager(TimeProvider time, ILogger<ConnectionManager> logger, ILoggerFactory? loggers = null)
    {
        _time = time;
        _logger = logger;
        _filterLogger = (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Gateway.Filters");
        _pipeline = new UpstreamPipeline(time);
    }

    /// <summary>The randomness of retry back-off jitter (replaceable in tests).</summary>
    internal Random Jitter
    {
        get => _pipeline.Jitter;
        set => _pipeline.Jitter = value;
    }

    public Task HandleAsync(HttpContext context, ListenerRuntime listener)
    {
        var start = _time.GetTimestamp();
        listener.Stats.RequestStarted(HttpProtocol.IsHttp2(context.Request.Protocol));
        return RouteAsync(context, listener, start);
    }

    /// <summary>The request after its downstream stats started; the one async frame of the connection manager, which also finishes them.</summary>
    private async Task RouteAsync(HttpContext context, ListenerRuntime listener, long start)
    {
        FilterChainStream? filters = null;
        try
        {
            var request = context.Request;
            var plan = listener.ConnectionManager;
            var verdict = DownstreamRequestValidator.Validate(context, plan.MaxRequestHeadersBytes);
            if (DownstreamRequestValidator.IsCodecError(verdict))
            {
                // Envoy's codec refuses the request before the connection manager sees it, and closes the connection.
                listener.Stats.DownstreamCxProtocolError.Increment();
                listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
                await LocalReply.SendAsync(context, DownstreamRequestValidator.Status(verdict), DownstreamRequestValidator.Body(verdict), plan, closeConnection: true).ConfigureAwait(false);
                return;
            }
            // The codec treats an upgrade or CONNECT as a stream that never ends: a local reply to it closes the connection.
            var tunnel = verdict != DownstreamVerdict.Accept;
            var pathAndQuery = RequestTarget.PathAndQuery(context, out var targetAuthority, out var targetScheme);
            if (targetAuthority is not null)
            {
                // Absolute-form: the target's authority replaces any Host header (RFC 9112 3.2.2), as Envoy's codec does.
                request.Headers.Host = targetAuthority;
            }
            // A CONNECT in authority form has no :path, so the path checks do not apply to it.
            if (verdict != DownstreamVerdict.Connect && !await CheckPathAsync(context, listener, ref pathAndQuery).ConfigureAwait(false))
            {
                return;
            }
            Answer100Continue(request, listener);
            var internalRequest = MutateRequestHeaders(request, plan.GenerateRequestId, listener.InternalRanges);
            if (!plan.HasRouter)
            {
                await AwaitStreamIdleTimeoutAsync(context, listener).ConfigureAwait(false);
                return;
            }

            var host = request.Headers.Host;
            var authority = host.Count == 0 ? null : host.ToString();
            var scheme = targetScheme ?? request.Scheme;
            // A pathless CONNECT matches only connect_matcher routes, which are not supported.
            var route = verdict == DownstreamVerdict.Connect ? null : listener.Routes.Match(authority, request.Method, scheme, pathAndQuery, request.Headers);
            if (route is not null && verdict == DownstreamVerdict.Upgrade)
            {
                // No upgrade_configs: Envoy refuses the upgrade on a route that does not allow it, before the filters.
                listener.Stats.DownstreamRqWsOnNonWsRoute.Increment();
                CountTunnelReply(listener, tunnel);
                await LocalReply.SendAsync(context, StatusCodes.Status403Forbidden, null, plan, closeConnection: true).ConfigureAwait(false);
                return;
            }

            // The decoder filters, in http_filters order; the router is the terminal one.
            if (!listener.Filters.IsEmpty)
            {
                filters = new FilterChainStream(context, listener, route, scheme, pathAndQuery, start, internalRequest, _time, _filterLogger);
                context.Features.Set(filters);
                if (!await filters.DecodeAsync().ConfigureAwait(false))
                {
                    return;
                }
                route = filters.CurrentRoute;
            }
            await RouterDecodeAsync(context, listener, route, new RouterInput(pathAndQuery, internalRequest, start, tunnel, authority, scheme, filters?.IsHealthCheck == true)).ConfigureAwait(false);
            if (filters is not null)
            {
                await filters.FinishResponseAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            filters?.Complete();
            if (context.RequestAborted.IsCancellationRequested && !HttpProtocol.IsHttp2(context.Request.Protocol))
            {
                // The HTTP/1 connection went under the request (rare: the lookup is off the common path).
                context.Features.Get<DownstreamConnection>()?.RequestAborted();
            }
            listener.Stats.RequestFinished(context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, _time.GetElapsedTime(start).TotalMilliseconds, filters?.IsHealthCheck == true);
        }
    }

    /// <summary>What the router needs of the request besides the route.</summary>
    private readonly record struct RouterInput(string PathAndQuery, bool Internal, long StartTimestamp, bool Tunnel, string? Authority, string Scheme, bool HealthCheck);

    /// <summary>The router filter (the terminal decoder): no route, direct response, or the upstream through the Polly pipeline.</summary>
    private async Task RouterDecodeAsync(HttpContext context, ListenerRuntime listener, RouteRuntime? route, RouterInput input)
    {
        {
            var request = context.Request;
            var plan = listener.ConnectionManager;
            var (pathAndQuery, internalRequest, start, tunnel, authority, scheme, healthCheck) = input;
            if (route is null)
            {
                listener.RouterStats.NoRoute.Increment();
                CountTunnelReply(listener, tunnel);
                await LocalReply.SendAsync(context, StatusCodes.Status404NotFound, null, plan, closeConnection: tunnel).ConfigureAwait(false);
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
                ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable, internalRequest, healthCheck);
                await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.NoHealthyUpstream, plan).ConfigureAwait(false);
                return;
            }

            var state = new ProxyRequestState(listener, route, start) { Internal = internalRequest, PathAndQuery = pathAndQuery, HealthCheck = healthCheck };
            context.Features.Set(state);
            context.SetEndpoint(endpoint);
            var retryPolicy = internalRequest ? InternalRequest.ApplyRouterHeaders(state, request.Headers, route.Retry) : route.Retry;
            if (retryPolicy is { } retry && RequestIsRetriable(route, new RequestView(authority, request.Method, scheme, pathAndQuery, request.Headers)))
            {
                state.Retry = retry;
                state.RetriesRemaining = retry.NumRetries;
                state.CanReplay = PrepareReplay(context);
            }

            // Route timeout, retries and per-try timeout are the Polly pipeline's; each attempt is YARP's forwarding.
            var clientAborted = context.RequestAborted;
            var resilience = ResilienceContextPool.Shared.Get(clientAborted);
            resilience.Properties.Set(UpstreamPipeline.StateKey, state);
            Outcome<AttemptResult> outcome;
            try
            {
                outcome = await _pipeline.For(state).ExecuteOutcomeAsync(AttemptCallback, resilience, (context, endpoint, state)).ConfigureAwait(false);
            }
            finally
            {
                context.RequestAborted = clientAborted;
                // A retry the route timeout cut short in its back-off still holds its slot.
                state.ReleaseRetrySlot();
                ResilienceContextPool.Shared.Return(resilience);
            }
            if (outcome.Exception is { } failure and not (OperationCanceledException or TimeoutRejectedException))
            {
                // Polly hands back what the attempt threw; a fault of the gateway must still surface as one (500).
                ExceptionDispatchInfo.Throw(failure);
            }

            var timedOut = state.RouteTimedOut;
            var perTryTimedOut = state.PerTryTimedOut && !timedOut;
            await CompleteAsync(context, state, timedOut, perTryTimedOut).ConfigureAwait(false);
            if (state.AttemptError == ForwarderError.ResponseBodyDestination && context.Response.HasStarted && !HttpProtocol.IsHttp2(request.Protocol))
            {
                // YARP reset the HTTP/1 client connection under the response when the upstream failed mid-body.
                context.Features.Get<DownstreamConnection>()?.AbortingLocally();
            }
            if (state.FailedLocally || ClientBrokeOff(state, timedOut || perTryTimedOut))
            {
                // Never reached the host, or the client broke the request off: the host neither failed nor
                // served it, and outlier detection must not hear of it.
                state.Host?.RequestAbandoned();
            }
            else
            {
                state.Host?.RequestEnded(state.UpstreamStatus, timedOut || perTryTimedOut);
            }
            if (!state.FailedLocally && (state.UpstreamStatus != 0 || context.Response.StatusCode >= StatusCodes.Status500InternalServerError))
            {
                var elapsed = _time.GetElapsedTime(start).TotalMilliseconds;
                cluster.Stats.Codes.RecordTime(elapsed);
                cluster.Stats.CodesFor(state.Internal).RecordTime(elapsed);
            }
        }
    }

    private static void CountTunnelReply(ListenerRuntime listener, bool tunnel)
    {
        if (tunnel)
        {
            listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
        }
    }

    /// <summary>The pipeline's callback: one upstream attempt through YARP, under the innermost timeout in force.</summary>
    private static readonly Func<ResilienceContext, (HttpContext Context, Endpoint Endpoint, ProxyRequestState State), ValueTask<Outcome<AttemptResult>>> AttemptCallback = AttemptAsync;

    // Pooled state machine: one runs per attempt of every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome<AttemptResult>> AttemptAsync(ResilienceContext resilience, (HttpContext Context, Endpoint Endpoint, ProxyRequestState State) args)
    {
        var (context, endpoint, state) = args;
        var cluster = state.Route.Cluster!;
        var priority = state.Route.Plan.Priority;
        if (state.Attempt > 0)
        {
            // A retry: its back-off is over, and nothing of the failed attempt reached the client (held back or never came).
            state.ReleaseRetrySlot();
            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }
        }
        state.BeginAttempt();
        if (!cluster.TryAcquireRequest(priority))
        {
            // Circuit breaker overflow: answered at once, never retried (Envoy's UO).
            state.Overflowed = true;
            return Outcome.FromResult(AttemptResult.Overflowed);
        }
        var token = resilience.CancellationToken;
        context.RequestAborted = token;
        try
        {
            await endpoint.RequestDelegate!(context).ConfigureAwait(false);
        }
        finally
        {
            if (state.UpstreamStarted)
            {
                cluster.Stats.UpstreamRqActive.Decrement();
            }
            cluster.ReleaseRequest(priority);
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        state.AttemptError = error?.Error ?? ForwarderError.None;
        state.AttemptException = error?.Exception;
        state.FailedLocally = FailedLocally(state.AttemptError, state.AttemptException);
        // YARP reports cancellation as an error, not an exception; Polly's timeouts recognise theirs by the exception.
        return token.IsCancellationRequested
            ? Outcome.FromException<AttemptResult>(new OperationCanceledException(token))
            : Outcome.FromResult(AttemptResult.Completed);
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

    /// <summary>Envoy's default <c>stream_idle_timeout</c> (5 minutes).</summary>
    public static readonly TimeSpan DefaultStreamIdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// An HCM without HTTP filters: no filter answers, so, as in Envoy, the stream stays idle until the
    /// stream idle timeout sends 408 <c>stream timeout</c> (or the client goes away).
    /// </summary>
    private async Task AwaitStreamIdleTimeoutAsync(HttpContext context, ListenerRuntime listener)
    {
        try
        {
            await Task.Delay(DefaultStreamIdleTimeout, _time, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        listener.Stats.DownstreamRqIdleTimeout.Increment();
        await LocalReply.SendAsync(context, StatusCodes.Status408RequestTimeout, LocalReply.StreamTimeout, listener.ConnectionManager).ConfigureAwait(false);
    }

    private async Task CompleteAsync(HttpContext context, ProxyRequestState state, bool timedOut, bool perTryTimedOut)
    {
        var cluster = state.Route.Cluster!;
        var plan = state.Listener.ConnectionManager;
        var attempts = state.Route.Plan.IncludeAttemptCountInResponse ? state.Attempt : 0;
        if (state.Overflowed)
        {
            ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable, state.Internal, state.HealthCheck);
            await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.Overflow, plan, overloaded: true, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (state.FailedLocally && !timedOut)
        {
            // Envoy's router never fails to encode a request it accepted; the nearest answer is an internal error.
            Log.FailedLocally(_logger, cluster.Name, state.AttemptException);
            await LocalReply.SendAsync(context, StatusCodes.Status500InternalServerError, null, plan, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (perTryTimedOut && state.UpstreamStatus == 0)
        {
            // The last attempt hit per_try_timeout and no retry followed (the per-try stats are already charged).
            ChargeUpstream(cluster, StatusCodes.Status504GatewayTimeout, state.Internal, state.HealthCheck);
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
                ChargeUpstream(cluster, StatusCodes.Status504GatewayTimeout, state.Internal, state.HealthCheck);
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
                ChargeUpstream(cluster, StatusCodes.Status503ServiceUnavailable, state.Internal, state.HealthCheck);
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
                    var (status, reason) = DescribeReset(error.Error, error.Exception);
                    ChargeReset(cluster.Stats, reason);
                    Log.UpstreamFailed(_logger, cluster.Name, reason, error.Exception);
                    ChargeUpstream(cluster, status, state.Internal, state.HealthCheck);
                    await LocalReply.SendAsync(context, status, LocalReply.ResetBeforeHeaders(reason, retried: state.Attempt > 1), plan, attemptCount: attempts).ConfigureAwait(false);
                    break;
                }
            case ForwarderError.RequestCanceled:
                cluster.Stats.UpstreamRqCancelled.Increment();
                break;
            case ForwarderError.RequestBodyClient when state.UpstreamStarted || (IsMalformedBody(error.Exception) && !context.Response.HasStarted):
                if (state.UpstreamStarted)
                {
                    // The body was being sent, so the request was on a connection; the gateway reset it there.
                    cluster.Stats.UpstreamRqTotal.Increment();
                    cluster.Stats.UpstreamRqTxReset.Increment();
                }
                if (IsMalformedBody(error.Exception) && !context.Response.HasStarted)
                {
                    // Kestrel found the body malformed (chunk framing) after the headers went upstream: Envoy's codec
                    // error then, a 400 that closes the connection (KestrelBadRequestObserver counts the protocol error).
                    state.Listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
                    await LocalReply.SendAsync(context, StatusCodes.Status400BadRequest, LocalReply.BadRequest, plan, closeConnection: true).ConfigureAwait(false);
                }
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

    /// <summary>Whether a request-body failure is Kestrel refusing the body's framing (YARP wraps it in an AggregateException).</summary>
    private static bool IsMalformedBody(Exception? exception)
    {
        for (var e = exception; e is not null; e = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e.InnerException)
        {
            if (e is BadHttpRequestException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The client ended the attempt before a response: its body was refused, or it went away (not a timeout of ours).</summary>
    private static bool ClientBrokeOff(ProxyRequestState state, bool timedOut)
        => !timedOut && state.UpstreamStatus == 0 && state.AttemptError is ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled;

    /// <summary>
    /// Whether an attempt failed inside the gateway before anything reached an upstream connection: YARP
    /// could not build the request (a transform threw), or the connection could not encode its headers
    /// (SocketsHttpHandler serializes them into its buffer before the first write).
    /// </summary>
    internal static bool FailedLocally(ForwarderError error, Exception? exception)
    {
        if (error == ForwarderError.RequestCreation)
        {
            return true;
        }
        if (error != ForwarderError.Request)
        {
            return false;
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Text.EncoderFallbackException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether a reset reason is a failure to connect (the request was never on a connection).</summary>
    internal static bool IsConnectFailure(string reason)
        => reason.StartsWith("remote connection failure", StringComparison.Ordinal) || reason == "connection timeout";

    /// <summary>
    /// The upstream stats of a reset before response headers: a request that was on a connection counts as an
    /// attempt that the upstream reset (Envoy charges it when the stream attached to the connection), a protocol
    /// error also against the connection; a connect failure was never on one.
    /// </summary>
    internal static void ChargeReset(ClusterStats stats, string reason)
    {
        if (IsConnectFailure(reason))
        {
            return;
        }
        if (reason == "protocol error")
        {
            stats.UpstreamCxProtocolError.Increment();
        }
        stats.UpstreamRqTotal.Increment();
        stats.UpstreamRqRxReset.Increment();
    }

    /// <summary>Envoy's reset reason (and status) for a failure before upstream response headers.</summary>
    internal static (int Status, string Reason) DescribeReset(ForwarderError error, Exception? exception)
    {
        if (error == ForwarderError.ResponseHeaders && exception is InvalidOperationException)
        {
            // Kestrel refused an upstream header value (a control character): Envoy's upstream codec
            // refuses the same response as a protocol error.
            return (StatusCodes.Status502BadGateway, "protocol error");
        }
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

    private static void ChargeUpstream(ClusterRuntime cluster, int status, bool internalRequest, bool healthCheck)
    {
        if (healthCheck)
        {
            // Envoy's router charges no response-code stats for a health check (Filter::chargeUpstreamCode).
            return;
        }
        cluster.Stats.Codes.Charge(status);
        cluster.Stats.CodesFor(internalRequest).Charge(status);
    }

    /// <summary>
    /// Envoy's checks of <c>:path</c> before routing (ConnectionManagerImpl::ActiveStream::decodeHeaders): empty or not
    /// starting with '/' → 404 (<c>downstream_rq_non_relative_path</c>); then the listener's path normalization, whose
    /// result (<paramref name="pathAndQuery"/>) is what is routed and forwarded: a refused path → 400
    /// (<c>downstream_rq_failed_path_normalization</c>), <c>UNESCAPE_AND_REDIRECT</c> → 307 to the normalized path
    /// (<c>downstream_rq_redirected_with_normalized_path</c>; 400 for gRPC, which cannot follow redirects).
    /// Returns false when a reply was sent.
    /// </summary>
    private static ValueTask<bool> CheckPathAsync(HttpContext context, ListenerRuntime listener, ref string pathAndQuery)
    {
        var plan = listener.ConnectionManager;
        if (pathAndQuery.Length == 0 || pathAndQuery[0] != '/')
        {
            if (pathAndQuery.Length != 0)
            {
                listener.Stats.DownstreamRqNonRelativePath.Increment();
            }
            return Replied(LocalReply.SendAsync(context, StatusCodes.Status404NotFound, null, plan));
        }
        var action = listener.Paths.Normalize(pathAndQuery, out var normalized);
        if (action == PathAction.Redirect && IsGrpc(context.Request))
        {
            action = PathAction.Reject;
        }
        switch (action)
        {
            case PathAction.Reject:
                listener.Stats.DownstreamRqFailedPathNormalization.Increment();
                return Replied(LocalReply.SendAsync(context, StatusCodes.Status400BadRequest, null, plan));
            case PathAction.Redirect:
                listener.Stats.DownstreamRqRedirectedWithNormalizedPath.Increment();
                var reply = LocalReply.SendAsync(context, StatusCodes.Status307TemporaryRedirect, null, plan);
                // A bodiless local reply has not started the response: the header still goes out with it.
                context.Response.Headers.Location = normalized;
                return Replied(reply);
            default:
                pathAndQuery = normalized;
                return new ValueTask<bool>(true);
        }

        static async ValueTask<bool> Replied(Task reply)
        {
            await reply.ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Envoy's Grpc::Common::hasGrpcContentType: <c>application/grpc</c>, alone or followed by '+' or ';'.</summary>
    private static bool IsGrpc(HttpRequest request)
    {
        var contentType = request.ContentType;
        const string Grpc = "application/grpc";
        return contentType is not null && contentType.StartsWith(Grpc, StringComparison.Ordinal)
            && (contentType.Length == Grpc.Length || contentType[Grpc.Length] is '+' or ';');
    }

    /// <summary>
    /// Without proxy_100_continue Envoy answers <c>Expect: 100-continue</c> itself and charges that 1xx. Kestrel
    /// sends the 100 when the body is first read (so the header stays here) and the request transform keeps the
    /// header from the upstream, as Envoy removes it.
    /// </summary>
    private static void Answer100Continue(HttpRequest request, ListenerRuntime listener)
    {
        var expect = request.Headers.Expect;
        if (expect.Count == 1 && string.Equals(expect[0], "100-continue", StringComparison.OrdinalIgnoreCase))
        {
            listener.Stats.ChargeResponse(StatusCodes.Status100Continue);
        }
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
            // Removing by name: enumerating IHeaderDictionary would box its enumerator on every request.
            foreach (var name in InternalOnlyHeaderNames)
            {
                headers.Remove(name);
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

        [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "request for cluster '{Cluster}' could not be forwarded: it failed in the gateway before reaching an upstream connection")]
        public static partial void FailedLocally(ILogger logger, string cluster, Exception? exception);
    }
}
