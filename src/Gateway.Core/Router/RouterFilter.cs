using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Resilience;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Router;

/// <summary>
/// Envoy's router filter, the terminal decoder: no route → 404, direct responses, the cluster and its
/// endpoint, the router headers of internal requests, the retry policy, and the Polly pipeline whose
/// attempts are YARP's forwarding. Each attempt returns an <see cref="AttemptOutcome"/>; the final reply
/// is chosen from the last one, and <see cref="UpstreamAccounting"/> charges the upstream stats from them.
/// </summary>
internal sealed partial class RouterFilter
{
    /// <summary>Envoy's default buffer limit (per_connection_buffer_limit_bytes, 1 MiB): larger bodies are not retried (a listener may set its own).</summary>
    public const int RetryBufferLimit = Translation.ConnectionManagerPlan.DefaultBufferLimit;

    private readonly TimeProvider _time;
    private readonly ILogger<RouterFilter> _logger;
    private readonly UpstreamPipeline _pipeline;
    private readonly ShadowWriter _shadows;

    public RouterFilter(TimeProvider time, ILogger<RouterFilter> logger, ShadowWriter shadows)
    {
        _time = time;
        _logger = logger;
        _pipeline = new UpstreamPipeline(time);
        _shadows = shadows;
    }

    /// <summary>The randomness of retry back-off jitter (replaceable in tests).</summary>
    internal Random Jitter
    {
        get => _pipeline.Jitter;
        set => _pipeline.Jitter = value;
    }

    /// <summary>The randomness of the clusters' <c>drop_overloads</c> (replaceable in tests).</summary>
    internal Random DropOverloadRandom { get; set; } = Random.Shared;

    /// <summary>The router's decodeHeaders for a request the connection manager routed (<paramref name="route"/> null: no route matched).</summary>
    // Pooled state machine (a ValueTask, not a Task): one runs per request, and splitting it from the connection manager must not cost an allocation.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DecodeAsync(HttpContext context, ListenerRuntime listener, RouteRuntime? route, RouterInput input)
    {
        var info = input.StreamInfo;
        if (route is null)
        {
            listener.RouterStats.NoRoute.Increment();
            if (input.Tunnel)
            {
                listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
            }
            info.SetResponseFlag(ResponseFlags.NoRouteFound);
            await SendLocalReplyAsync(context, listener, StatusCodes.Status404NotFound, null, ResponseDetails.RouteNotFound, closeConnection: input.Tunnel).ConfigureAwait(false);
            return;
        }
        if (route.Weighted is not null)
        {
            // Route selection picks the weighted entry; a caller that matched the table itself may not have.
            route = route.Resolve(context.Request, info.RandomValue, info.ForwardedRemoteAddress);
            info.Route = route;
        }
        listener.RouterStats.RqTotal.Increment();
        if (route.DirectResponseBody is { } body)
        {
            listener.RouterStats.RqDirectResponse.Increment();
            var location = route.IsSslRedirect ? SslRedirectLocation(context.Request, input.PathAndQuery)
                : route.Location is { } redirect ? RedirectLocation.Build(redirect, route, context.Request.Headers, RequestScheme(context, input), input.PathAndQuery)
                : null;
            await SendLocalReplyAsync(context, listener, route.Plan.DirectResponse!.Status, body, ResponseDetails.DirectResponse, location: location).ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var vcluster = route.VirtualClusters is { } vclusters ? MatchVirtualCluster(vclusters, request, input) : null;
        if (vcluster is not null)
        {
            info.VirtualClusterName = vcluster.Name;
        }
        var state = new UpstreamRequest(info, listener, route, input.StartTimestamp)
        {
            Internal = input.Internal, HealthCheck = input.HealthCheck, PathAndQuery = input.PathAndQuery, VirtualCluster = vcluster?.Stats, Tunnel = input.Tunnel,
        };
        var criteria = route.MetadataMatch;
        var cluster = route.ClusterSpecifier is { } specifier ? specifier.Pick(request.Headers) : route.Cluster;
        if (cluster is null || cluster.Retired)
        {
            // Envoy's router: the named cluster does not exist (cluster_header, weighted_clusters, a route to a cluster
            // the configuration does not have or has just removed).
            listener.RouterStats.NoCluster.Increment();
            info.SetResponseFlag(ResponseFlags.NoClusterFound);
            await SendLocalReplyAsync(context, listener, route.Plan.ClusterNotFoundStatus ?? StatusCodes.Status503ServiceUnavailable, null, ResponseDetails.ClusterNotFound).ConfigureAwait(false);
            return;
        }
        state.Cluster = cluster;
        state.RouteMetadataMatch = criteria;
        info.UpstreamCluster = cluster;
        if (cluster.Plan is { DropOverload: > 0 } dropping && DropsRequest(dropping.DropOverload))
        {
            // Envoy's Filter::checkDropOverload: after the cluster is known, before a host is chosen or the request headers are finalized.
            info.SetResponseFlag(ResponseFlags.DropOverload);
            UpstreamAccounting.LocalReply(cluster.Stats, StatusCodes.Status503ServiceUnavailable, state.Internal, state.HealthCheck, state);
            await LocalReply.SendAsync(context, StatusCodes.Status503ServiceUnavailable, LocalReply.DropOverload, listener.ConnectionManager,
                modifyHeaders: listener.ConnectionManager.SuppressEnvoyHeaders ? null : MarkDropOverload, details: ResponseDetails.DropOverload).ConfigureAwait(false);
            return;
        }
        if (TerminatesConnect(context, route, input.Tunnel))
        {
            info.Upstream = state;
            await TerminateConnectAsync(context, state, cluster).ConfigureAwait(false);
            return;
        }
        var endpoint = cluster.ProxyEndpoint;
        if (endpoint?.RequestDelegate is null)
        {
            // YARP has not applied this cluster yet: there is no host to send to.
            await CompleteAsync(context, state, new AttemptOutcome(AttemptKind.NoHealthyUpstream, 0, null, ForwarderError.NoAvailableDestinations, null, false), routeTimedOut: false).ConfigureAwait(false);
            return;
        }
        info.Upstream = state;
        context.Features.Set<Clusters.ILoadBalancerContext>(state);
        context.SetEndpoint(endpoint);
        var retryPolicy = input.Internal ? RouterHeaders.ApplyInternal(state, request.Headers, route.Retry) : route.Retry;
        // Envoy's finalizeRequestHeaders: once, before the first attempt (retries send the same headers), on the
        // request's own headers, so the access log's %REQ(...)% sees them too; no upstream host is chosen yet.
        route.Headers.ApplyRequest(context, info);
        // Shadows copy the request as the router forwards it (after the internal router headers are consumed); upgrades and CONNECT are never shadowed.
        var shadow = route.Mirrors.Length != 0 && !input.Tunnel ? _shadows.Begin(context, state, route.Mirrors) : null;
        // A tunnel's payload cannot be replayed: an upgrade is never retried.
        if (retryPolicy is { } retry && !input.Tunnel && RequestIsRetriable(route, request, input))
        {
            state.Retry = retry;
            state.RetriesRemaining = retry.NumRetries;
            state.ReplayBody = PrepareReplay(context, listener.ConnectionManager.BufferLimit, out var canReplay);
            state.CanReplay = canReplay;
        }

        // Route timeout, retries and per-try timeout are the Polly pipeline's; each attempt is YARP's forwarding.
        var clientAborted = context.RequestAborted;
        var resilience = ResilienceContextPool.Shared.Get(clientAborted);
        resilience.Properties.Set(UpstreamPipeline.StateKey, state);
        Outcome<AttemptKind> outcome;
        try
        {
            outcome = await _pipeline.For(state).ExecuteOutcomeAsync(AttemptCallback, resilience, (context, endpoint, state)).ConfigureAwait(false);
        }
        finally
        {
            shadow?.End();
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

        var routeTimedOut = state.RouteTimedOut;
        var perTryTimedOut = outcome.Exception is TimeoutRejectedException && !routeTimedOut;
        var final = Resolve(state.LastOutcome, perTryTimedOut, routeTimedOut);
        await CompleteAsync(context, state, final, routeTimedOut).ConfigureAwait(false);
        if (final.Error == ForwarderError.ResponseBodyDestination && context.Response.HasStarted && !HttpProtocol.IsHttp2(request.Protocol))
        {
            // YARP reset the HTTP/1 client connection under the response when the upstream failed mid-body.
            context.Features.Get<DownstreamConnection>()?.AbortingLocally();
        }
        var timedOut = routeTimedOut || perTryTimedOut;
        if (final.Kind == AttemptKind.FailedLocally || (!timedOut && final.Status == 0 && final.Error is ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled))
        {
            // Never reached the host, or the client broke the request off: the host neither failed nor
            // served it, and outlier detection must not hear of it.
            state.Host?.RequestAbandoned();
        }
        else
        {
            state.Host?.RequestEnded(final.Status, timedOut);
        }
        if (final.Kind != AttemptKind.FailedLocally && (final.Status != 0 || context.Response.StatusCode >= StatusCodes.Status500InternalServerError))
        {
            UpstreamAccounting.Completed(cluster.Stats, _time.GetElapsedTime(input.StartTimestamp).TotalMilliseconds, state.Internal, state);
        }
    }

    /// <summary>The final outcome: an attempt the pipeline's cancellation ended is a per-try timeout or the client's doing.</summary>
    private static AttemptOutcome Resolve(in AttemptOutcome last, bool perTryTimedOut, bool routeTimedOut)
    {
        if (perTryTimedOut && last.Status == 0 && last.Kind is not (AttemptKind.FailedLocally or AttemptKind.Overflow))
        {
            return last with { Kind = AttemptKind.PerTryTimeout };
        }
        return last.Kind == AttemptKind.Cancelled && !routeTimedOut && !perTryTimedOut ? last with { Kind = AttemptKind.ClientAborted } : last;
    }

    /// <summary>The pipeline's callback: one upstream attempt through YARP, under the innermost timeout in force.</summary>
    private static readonly Func<ResilienceContext, (HttpContext Context, Endpoint Endpoint, UpstreamRequest State), ValueTask<Outcome<AttemptKind>>> AttemptCallback = AttemptAsync;

    // Pooled state machine: one runs per attempt of every request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome<AttemptKind>> AttemptAsync(ResilienceContext resilience, (HttpContext Context, Endpoint Endpoint, UpstreamRequest State) args)
    {
        var (context, endpoint, state) = args;
        var cluster = state.Cluster;
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
        if (state.Listener.UpstreamLogs.Length != 0)
        {
            state.StreamInfo.OnAttemptStarted();
        }
        var token = resilience.CancellationToken;
        context.RequestAborted = token;
        try
        {
            // The circuit breakers are asked once the host is chosen (UpstreamRequest.OnHostSelected), as Envoy's pool is.
            await endpoint.RequestDelegate!(context).ConfigureAwait(false);
        }
        finally
        {
            // The attempt's upstream timer stops; the router changes the stream from here.
            state.StreamInfo.Periodic?.AttemptEnded();
            if (state.OnConnection)
            {
                UpstreamAccounting.AttemptFinished(cluster.Stats);
            }
            state.ReleaseRequestSlot();
        }
        if (state.Overflowed)
        {
            // Circuit breaker overflow: answered at once, never retried (Envoy's UO).
            state.LastOutcome = new AttemptOutcome(AttemptKind.Overflow, 0, null, ForwarderError.None, null, false);
            return Outcome.FromResult(AttemptKind.Overflow);
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        var outcome = Classify(state, error?.Error ?? ForwarderError.None, error?.Exception, token.IsCancellationRequested);
        state.LastOutcome = outcome;
        if (state.AttemptSpan is not null)
        {
            // The attempt's own span ends with the attempt (Envoy's UpstreamRequest::cleanUp).
            Tracing.HttpTracing.FinishUpstreamAttempt(state.Listener.Tracing!, state, context, outcome);
        }
        if (outcome.Kind == AttemptKind.Response && outcome.Status != 0)
        {
            state.StreamInfo.OnLastUpstreamRxByteReceived();
        }
        if (state.Listener.UpstreamLogs.Length != 0)
        {
            LogUpstream(context, state, outcome.Status, Configuration.AccessLogType.UpstreamEnd);
        }
        if (outcome.Kind == AttemptKind.Reset)
        {
            // Charged when the attempt ends, whether a retry follows or not.
            UpstreamAccounting.Reset(cluster.Stats, outcome, state);
        }
        // YARP reports cancellation as an error, not an exception; Polly's timeouts recognise theirs by the exception.
        // Polly carries only the kind (its async frames hold a copy of the result): the outcome is on the request.
        return token.IsCancellationRequested
            ? Outcome.FromException<AttemptKind>(new OperationCanceledException(token))
            : Outcome.FromResult(outcome.Kind);
    }

    /// <summary>
    /// Envoy's UpstreamRequest::upstreamLog when the attempt ends (AccessLogType UpstreamEnd) or gets its upstream stream
    /// (UpstreamPoolReady): the request's stream info as it stands, with the upstream's response code (0 before its
    /// response) and headers (held back from the client when a retry follows).
    /// </summary>
    internal static void LogUpstream(HttpContext context, UpstreamRequest state, int upstreamStatus, Configuration.AccessLogType type)
    {
        var info = state.StreamInfo;
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        info.BeginUpstreamLog(upstreamStatus);
        try
        {
            AccessLog.AccessLogger.LogAll(state.Listener.UpstreamLogs, new AccessLog.AccessLogContext(info, type, context.Request.Headers, context.Response.Headers, trailers));
        }
        finally
        {
            info.EndUpstreamLog();
        }
    }

    /// <summary>What an attempt came to, from what the transforms reported and how YARP ended it.</summary>
    private static AttemptOutcome Classify(UpstreamRequest state, ForwarderError error, Exception? exception, bool cancelled)
    {
        var onConnection = state.OnConnection;
        if (state.ResponseStatus != 0)
        {
            return new AttemptOutcome(state.HeldForRetry ? AttemptKind.HeldForRetry : AttemptKind.Response, state.ResponseStatus, null, error, exception, onConnection);
        }
        if (FailedLocally(error, exception))
        {
            return new AttemptOutcome(AttemptKind.FailedLocally, 0, null, error, exception, onConnection);
        }
        switch (error)
        {
            case ForwarderError.None:
                return new AttemptOutcome(AttemptKind.Response, 0, null, error, exception, onConnection);
            case ForwarderError.NoAvailableDestinations:
                return new AttemptOutcome(AttemptKind.NoHealthyUpstream, 0, null, error, exception, onConnection);
            case var _ when cancelled:
                return new AttemptOutcome(AttemptKind.Cancelled, 0, null, error, exception, onConnection);
            case ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders:
                var reason = DescribeReset(error, exception);
                return new AttemptOutcome(IsConnectFailure(reason) ? AttemptKind.ConnectFailure : AttemptKind.Reset, 0, reason, error, exception, onConnection);
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyClient:
                return new AttemptOutcome(AttemptKind.ClientAborted, 0, null, error, exception, onConnection);
            default:
                return new AttemptOutcome(AttemptKind.ResetAfterResponseStarted, 0, null, error, exception, onConnection);
        }
    }

    /// <summary>The router's reply for the final outcome, and the upstream stats it charges (one spot per kind).</summary>
    private async Task CompleteAsync(HttpContext context, UpstreamRequest state, AttemptOutcome final, bool routeTimedOut)
    {
        var info = state.StreamInfo;
        var cluster = state.Cluster;
        var stats = cluster.Stats;
        var listener = state.Listener;
        var attempts = state.Route.Plan.IncludeAttemptCountInResponse ? state.Attempt : 0;
        if (final.Kind == AttemptKind.Overflow)
        {
            UpstreamAccounting.LocalReply(stats, StatusCodes.Status503ServiceUnavailable, state.Internal, state.HealthCheck, state);
            info.SetResponseFlag(ResponseFlags.UpstreamOverflow);
            await SendLocalReplyAsync(context, listener, StatusCodes.Status503ServiceUnavailable, LocalReply.Overflow, ResponseDetails.Overflow, overloaded: true, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (final.Kind == AttemptKind.FailedLocally && !routeTimedOut)
        {
            // Envoy's router never fails to encode a request it accepted; the nearest answer is an internal error.
            Log.FailedLocally(_logger, cluster.Name, final.Exception);
            info.SetResponseFlag(ResponseFlags.LocalReset);
            await SendLocalReplyAsync(context, listener, StatusCodes.Status500InternalServerError, null, ResponseDetails.LocalReset, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (final.Kind == AttemptKind.PerTryTimeout)
        {
            // The last attempt hit per_try_timeout and no retry followed (the per-try stats are already charged).
            UpstreamAccounting.LocalReply(stats, StatusCodes.Status504GatewayTimeout, state.Internal, state.HealthCheck, state);
            info.SetResponseFlag(ResponseFlags.UpstreamRequestTimeout);
            await SendLocalReplyAsync(context, listener, StatusCodes.Status504GatewayTimeout, LocalReply.UpstreamTimeout, ResponseDetails.PerTryTimeout, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        if (routeTimedOut)
        {
            UpstreamAccounting.RouteTimeout(stats, final, state.Internal, state.HealthCheck, context.Response.HasStarted, state);
            info.SetResponseFlag(ResponseFlags.UpstreamRequestTimeout);
            await SendLocalReplyAsync(context, listener, StatusCodes.Status504GatewayTimeout, LocalReply.UpstreamTimeout, ResponseDetails.RouteTimeout, attemptCount: attempts).ConfigureAwait(false);
            return;
        }
        switch (final.Kind)
        {
            case AttemptKind.NoHealthyUpstream:
                UpstreamAccounting.NoHealthyUpstream(stats);
                UpstreamAccounting.LocalReply(stats, StatusCodes.Status503ServiceUnavailable, state.Internal, state.HealthCheck, state);
                info.SetResponseFlag(ResponseFlags.NoHealthyUpstream);
                await SendLocalReplyAsync(context, listener, StatusCodes.Status503ServiceUnavailable, LocalReply.NoHealthyUpstream, ResponseDetails.NoHealthyUpstream, attemptCount: attempts).ConfigureAwait(false);
                break;
            case AttemptKind.Reset or AttemptKind.ConnectFailure:
                {
                    // The reset itself was charged when the attempt ended.
                    var reason = final.ResetReason!;
                    var status = reason == ProtocolError ? StatusCodes.Status502BadGateway : StatusCodes.Status503ServiceUnavailable;
                    Log.UpstreamFailed(_logger, cluster.Name, reason, final.Exception);
                    UpstreamAccounting.LocalReply(stats, status, state.Internal, state.HealthCheck, state);
                    info.SetResponseFlag(ResponseDetails.FlagOfReset(reason));
                    info.UpstreamTransportFailureReason = ResponseDetails.TransportFailureReason(reason);
                    await SendLocalReplyAsync(context, listener, status, LocalReply.ResetBeforeHeaders(reason, retried: state.Attempt > 1), ResponseDetails.ResetBeforeResponseStarted(reason), attemptCount: attempts).ConfigureAwait(false);
                }
                break;
            case AttemptKind.ClientAborted:
                UpstreamAccounting.ClientAborted(stats, final, state);
                if (final.Error == ForwarderError.RequestBodyClient && IsMalformedBody(final.Exception) && !context.Response.HasStarted)
                {
                    // Kestrel found the body malformed (chunk framing) after the headers went upstream: Envoy's codec
                    // error then, a 400 that closes the connection (KestrelBadRequestObserver counts the protocol error).
                    listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
                    info.SetResponseFlag(ResponseFlags.DownstreamProtocolError);
                    await SendLocalReplyAsync(context, listener, StatusCodes.Status400BadRequest, LocalReply.BadRequest, ResponseDetails.CodecError, closeConnection: true).ConfigureAwait(false);
                }
                else if (final.Error == ForwarderError.RequestBodyClient && !final.OnConnection)
                {
                    ResetAfterResponseStarted(context, listener);
                }
                break;
            case AttemptKind.ResetAfterResponseStarted:
                if (final.Error == ForwarderError.ResponseBodyDestination)
                {
                    // The upstream broke off its body: Envoy's upstream connection termination after the response started.
                    info.SetResponseFlag(ResponseFlags.UpstreamConnectionTermination);
                    info.Details = ResponseDetails.ResetAfterResponseStarted;
                }
                ResetAfterResponseStarted(context, listener);
                break;
        }
    }

    /// <summary>Failures after the response started (body copy, client gone): nothing more can be said to the client.</summary>
    private static void ResetAfterResponseStarted(HttpContext context, ListenerRuntime listener)
    {
        if (context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            listener.RouterStats.RqResetAfterDownstreamResponseStarted.Increment();
        }
    }

    /// <summary>Envoy's Random::bernoulli over the cluster's drop ratio.</summary>
    private bool DropsRequest(double ratio) => ratio >= 1.0 || DropOverloadRandom.NextDouble() < ratio;

    private static readonly Action<IHeaderDictionary> MarkDropOverload = static headers => headers[EnvoyHeaders.DropOverload] = "true";

    /// <summary>Every local reply of the router goes out here (<paramref name="location"/>: a redirect's <c>location</c>).</summary>
    private static Task SendLocalReplyAsync(HttpContext context, ListenerRuntime listener, int status, byte[]? body, string details, bool overloaded = false, int attemptCount = 0, bool closeConnection = false, string? location = null)
    {
        // LocalReply runs the encoder filters of the chain (FilterChainStream) before the reply goes out.
        return LocalReply.SendAsync(context, status, body, listener.ConnectionManager, overloaded: overloaded, attemptCount: attemptCount, closeConnection: closeConnection,
            modifyHeaders: location is null ? null : headers => headers.Location = location, details: details);
    }

    /// <summary>
    /// The request's <c>:scheme</c> as Envoy's connection manager sets it: the client's (HTTP/2, an absolute-form target),
    /// else a valid <c>x-forwarded-proto</c> (as the connection manager left it), else the connection's.
    /// </summary>
    private static string RequestScheme(HttpContext context, in RouterInput input)
    {
        var request = context.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol) && context.Features.Get<IHttpRequestFeature>()?.RawTarget is ['/', ..])
        {
            var proto = request.Headers[EnvoyHeaders.ForwardedProto];
            if (proto.Count == 1 && proto[0] is { } value
                && (value.Equals("http", StringComparison.OrdinalIgnoreCase) || value.Equals("https", StringComparison.OrdinalIgnoreCase)))
            {
                return value;
            }
        }
        return input.Scheme;
    }

    /// <summary>Envoy's Http::Utility::createSslRedirectPath: <c>https://</c>, the Host as received, the (normalized) <c>:path</c>.</summary>
    private static string SslRedirectLocation(HttpRequest request, string pathAndQuery) => "https://" + request.Headers.Host.ToString() + pathAndQuery;

    /// <summary>Envoy's route_entry_->virtualCluster(headers): the request's virtual cluster, as the router sees the request.</summary>
    private static VirtualClusters.Entry MatchVirtualCluster(VirtualClusters vclusters, HttpRequest request, in RouterInput input)
    {
        var host = request.Headers.Host;
        return vclusters.Match(host.Count == 0 ? null : host.ToString(), request.Method, input.Scheme, input.PathAndQuery, request.Headers);
    }

    /// <summary>Envoy's RetryStateImpl::create: with <c>retriable_request_headers</c>, one must match or the request is not retried.</summary>
    private static bool RequestIsRetriable(RouteRuntime route, HttpRequest request, in RouterInput input)
    {
        if (route.RetriableRequestHeaders.Count == 0)
        {
            return true;
        }
        var host = request.Headers.Host;
        var view = new RequestView(host.Count == 0 ? null : host.ToString(), request.Method, input.Scheme, input.PathAndQuery, request.Headers);
        foreach (var predicate in route.RetriableRequestHeaders)
        {
            if (predicate.Matches(view))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Makes the request body replayable for retries, as Envoy's router buffers it: a bodiless request is; a body is kept
    /// as it is read, up to the buffer limit (<see cref="ReplayableRequestBody"/>; a longer one turns out not replayable
    /// then, so a body of unknown length is buffered too); a body declared longer than the limit never is.
    /// </summary>
    private static ReplayableRequestBody? PrepareReplay(HttpContext context, int limit, out bool canReplay)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            canReplay = true;
            return null;
        }
        if (request.ContentLength > limit)
        {
            canReplay = false;
            return null;
        }
        var body = new ReplayableRequestBody(request.Body, limit);
        request.Body = body;
        context.Response.RegisterForDispose(body);
        canReplay = true;
        return body;
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
        => reason.StartsWith("remote connection failure", StringComparison.Ordinal) || reason.StartsWith("connection failure", StringComparison.Ordinal)
           || reason == "connection timeout";

    /// <summary>Envoy's reset reason for an upstream protocol error, answered 502 (every other reset: 503).</summary>
    internal const string ProtocolError = "protocol error";

    /// <summary>Envoy's reset reason for a failure before upstream response headers.</summary>
    internal static string DescribeReset(ForwarderError error, Exception? exception)
    {
        if (error == ForwarderError.ResponseHeaders && exception is InvalidOperationException)
        {
            // Kestrel refused an upstream header value (a control character): Envoy's upstream codec
            // refuses the same response as a protocol error.
            return ProtocolError;
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Tls.UpstreamTlsException tls:
                    // A failed upstream handshake: Envoy's pool reports a local connection failure with the TLS reason.
                    return "connection failure, transport failure reason: " + tls.FailureReason;
                case SocketException socket when socket.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown:
                    return "connection termination";
                case SocketException socket:
                    return $"remote connection failure, transport failure reason: delayed connect error: {socket.NativeErrorCode}";
                case TimeoutException:
                    // SocketsHttpHandler's ConnectTimeout (cluster connect_timeout) expired.
                    return "connection timeout";
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse }:
                    return ProtocolError;
            }
        }
        return "connection termination";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.RouterUpstreamFailed, Level = LogLevel.Debug, Message = "upstream request to cluster '{Cluster}' failed before response headers: {Reason}")]
        public static partial void UpstreamFailed(ILogger logger, string cluster, string reason, Exception? exception);

        [LoggerMessage(EventId = LogEvents.RouterFailedLocally, Level = LogLevel.Warning, Message = "request for cluster '{Cluster}' could not be forwarded: it failed in the gateway before reaching an upstream connection")]
        public static partial void FailedLocally(ILogger logger, string cluster, Exception? exception);
    }
}
