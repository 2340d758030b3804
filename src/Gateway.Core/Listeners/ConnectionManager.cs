using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Router;
using Gateway.Tracing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's HTTP connection manager for one request on a data listener: downstream stats, codec and path
/// checks, request header mutation (request id, x-forwarded-proto, internal headers) and route selection;
/// the request then goes to the router (<see cref="RouterFilter"/>), the terminal decoder.
/// </summary>
internal sealed class ConnectionManager : FilterChainStream.IFilterChainTerminal
{
    private readonly TimeProvider _time;
    private readonly RouterFilter _router;
    private readonly ILogger _filterLogger;
    private readonly Random _random;

    public ConnectionManager(TimeProvider time, RouterFilter router, ILoggerFactory? loggers = null, Random? random = null)
    {
        _time = time;
        _router = router;
        _random = random ?? Random.Shared;
        _filterLogger = (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Gateway.Filters");
    }

    /// <summary>One request of <paramref name="connection"/>, on the chain the connection was given (<paramref name="listener"/>).</summary>
    public Task HandleAsync(HttpContext context, DownstreamConnection connection, ListenerRuntime listener)
    {
        var start = _time.GetTimestamp();
        listener.Stats.RequestStarted(HttpProtocol.IsHttp2(context.Request.Protocol));
        return RouteAsync(context, connection, listener, start);
    }

    /// <summary>The request after its downstream stats started; the one async frame of the connection manager, which also finishes them.</summary>
    private async Task RouteAsync(HttpContext context, DownstreamConnection connection, ListenerRuntime listener, long start)
    {
        FilterChainStream? filters = null;
        string? tracedPath = null;
        var clientAborted = context.RequestAborted;
        StreamTimers? timers = null;
        var upgraded = false;
        var draining = false;
        // Envoy's StreamInfo: made for every request, the one record of what happened to it (flags, details, timing).
        // The stream id's random value (Envoy's stream_id_), drawn once: every route match of the stream decides runtime_fraction on it.
        var info = new RequestStreamInfo(context, _time, start) { FilterChainName = listener.Chain.Name, RandomValue = (ulong)_random.NextInt64() };
        context.Features.Set(info);
        try
        {
            var request = context.Request;
            var plan = listener.ConnectionManager;
            if (plan.CountsBodyBytes)
            {
                // Before any reply, so that the codec's and the path checks' local replies are counted too.
                BodyByteCounter.Install(context, info);
            }
            if (plan.HasPeriodicLogs)
            {
                // Envoy arms access_log_flush_timer_ as the stream is created; streams of other connection managers pay nothing.
                AccessLog.PeriodicAccessLog.Start(context, info, listener, _time);
            }
            var verdict = DownstreamRequestValidator.Validate(context, plan.MaxRequestHeadersBytes, plan.AcceptHttp10, plan.AllowChunkedLength);
            if (DownstreamRequestValidator.IsCodecError(verdict))
            {
                // Envoy's codec refuses the request before the connection manager sees it, and closes the connection.
                listener.Stats.DownstreamCxProtocolError.Increment();
                listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
                info.SetResponseFlag(ResponseFlags.DownstreamProtocolError);
                await LocalReply.SendAsync(context, DownstreamRequestValidator.Status(verdict), DownstreamRequestValidator.Body(verdict), plan, closeConnection: true, details: Router.ResponseDetails.CodecError).ConfigureAwait(false);
                return;
            }
            if (verdict == DownstreamVerdict.Upgrade && !plan.AllowExtendedConnect && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>()?.IsExtendedConnect == true)
            {
                // Without http2_protocol_options.allow_connect Envoy's HTTP/2 codec does not take RFC 8441's :protocol: the
                // stream is reset as a messaging error (Kestrel advertises SETTINGS_ENABLE_CONNECT_PROTOCOL regardless).
                info.SetResponseFlag(ResponseFlags.DownstreamProtocolError);
                info.Details = "http2.violation.of.messaging.rule";
                info.ResetBeforeResponse = true;
                context.Abort();
                return;
            }
            if (plan.AcceptHttp10 && request.Headers.Host.Count == 0 && HttpProtocol.IsHttp10(request.Protocol))
            {
                if (plan.DefaultHostForHttp10 is not { } defaultHost)
                {
                    // Envoy's connection manager requires a host: HTTP/1.0 without one and without default_host_for_http_10 gets 400.
                    await LocalReply.SendAsync(context, StatusCodes.Status400BadRequest, null, plan, details: "missing_host_header").ConfigureAwait(false);
                    return;
                }
                request.Headers.Host = defaultHost;
            }
            if (plan.ProperCaseHeaders && !HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
            {
                ProperCaseHeaderNames.Install(context.Response);
            }
            if (plan.MaxRequestsPerConnection != 0)
            {
                LimitRequests(context, connection, listener);
            }
            if (plan.MaxConnectionDuration is not null)
            {
                TrackForDrain(context, connection);
                draining = true;
            }
            if (listener.CodecStats is { } codecStats && HeaderBytes.NamesWithUnderscore(request.Headers) is { } underscored
                && !await OnUnderscoreHeadersAsync(context, listener, info, codecStats, underscored).ConfigureAwait(false))
            {
                return;
            }
            // The codec treats an upgrade or CONNECT as a stream that never ends: a local reply to it closes the connection.
            var tunnel = verdict != DownstreamVerdict.Accept;
            var pathAndQuery = RequestTarget.PathAndQuery(context, out var targetAuthority, out var targetScheme);
            if (verdict == DownstreamVerdict.Connect)
            {
                // Envoy's CONNECT has no :path (HTTP/2's has none, HTTP/1.1's authority form becomes :authority): routes see an empty one.
                pathAndQuery = string.Empty;
            }
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
            if (plan.StripTrailingHostDot || plan.StripPort != StripPortMode.None)
            {
                HostNormalizer.Normalize(request, plan.StripTrailingHostDot, plan.StripPort, context.Connection.LocalPort);
            }
            Answer100Continue(context, listener);
            var origin = RequestHeaderMutation.MutateRequestHeaders(context, plan, listener.InternalRanges, listener.UserAgentNode, listener.OriginalIpDetectors);
            if (origin.RejectStatus is { } rejected)
            {
                listener.Stats.DownstreamRqRejectedViaIpDetection.Increment();
                await LocalReply.SendAsync(context, rejected, null, plan, details: "rejecting_because_detection_failed").ConfigureAwait(false);
                return;
            }
            var internalRequest = origin.Internal;
            info.Internal = internalRequest;
            // Envoy's setDownstreamRemoteAddress(final_remote_address): the direct address stays the connection's.
            info.ForwardedRemoteAddress = origin.ForwardedRemoteAddress;
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
            {
                // Headers only: the whole request is in (Envoy's end_stream on the headers).
                info.OnLastDownstreamRxByteReceived();
            }
            if (!plan.HasRouter)
            {
                await AwaitStreamIdleTimeoutAsync(context, listener).ConfigureAwait(false);
                return;
            }

            // An absolute-form target's scheme, unless scheme_header_transformation overwrote it (then request.Scheme holds it).
            var scheme = plan.SchemeToOverwrite is null ? targetScheme ?? request.Scheme : request.Scheme;
            var route = SelectRoute(request, listener, verdict, scheme, pathAndQuery, info.RandomValue, info.ForwardedRemoteAddress);
            info.Route = route;
            if (tunnel)
            {
                // Envoy's createFilterChain for an upgrade (a CONNECT is one, of type CONNECT): the route's upgrade_configs,
                // else the connection manager's, must allow the type; refused on a route, the stream gets 403 before any
                // filter or the router (without a route Envoy goes on, and the router answers 404).
                upgraded = Upgrades.UpgradeAdmission.Admit(context, listener, route, verdict == DownstreamVerdict.Connect);
                if (!upgraded && route is not null)
                {
                    listener.Stats.DownstreamRqWsOnNonWsRoute.Increment();
                    listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
                    await LocalReply.SendAsync(context, StatusCodes.Status403Forbidden, null, plan, closeConnection: true, details: "upgrade_failed").ConfigureAwait(false);
                    return;
                }
            }
            var bodyCounted = plan.CountsBodyBytes;
            if (listener.Tracing is { } tracing)
            {
                tracedPath = pathAndQuery;
                StartTracing(context, plan, tracing, info, route);
                if (!plan.CountsBodyBytes && info.Span.Sampled)
                {
                    // A sampled span's request_size and response_size: counted for the requests that export them.
                    BodyByteCounter.Install(context, info);
                    bodyCounted = true;
                }
            }
            if (plan.FlushAccessLogOnNewRequest)
            {
                // Envoy's DownstreamStart entry: the request's headers are evaluated, the filters have not run, no upstream is chosen.
                AccessLog.AccessLogger.LogAll(listener.AccessLogs, AccessLog.AccessLogContext.ForRequest(info, Configuration.AccessLogType.DownstreamStart));
            }
            // Envoy's max_stream_duration_timer_: the rest of the stream (filters, router, response) runs under it.
            var elapsed = _time.GetElapsedTime(start);
            var routeDuration = route?.Plan.StreamDuration;
            var durationLeft = routeDuration is not null || plan.MaxStreamDuration is not null
                ? StreamDuration.Remaining(routeDuration, plan.MaxStreamDuration, request.Headers, elapsed)
                : null;
            // Envoy's stream_idle_timer_: the route's idle_timeout replaces the connection manager's once the route is known.
            var idle = route?.Plan.IdleTimeout ?? plan.StreamIdleTimeout;
            // Envoy's request_timer_, armed as the stream began: only while the request is still arriving.
            var requestLeft = plan.RequestTimeout > TimeSpan.Zero && info.LastDownstreamRxByteReceived is null
                ? (plan.RequestTimeout > elapsed ? plan.RequestTimeout - elapsed : TimeSpan.FromTicks(1))
                : TimeSpan.Zero;
            if (idle > TimeSpan.Zero || durationLeft is not null || requestLeft > TimeSpan.Zero)
            {
                if (!bodyCounted)
                {
                    // The body counter marks the request's end (408 or 504 on the limit) and the activity the idle timer sees.
                    BodyByteCounter.Install(context, info);
                }
                timers = new StreamTimers(_time, idle, durationLeft, requestLeft, clientAborted);
                info.Timers = timers;
                context.RequestAborted = timers.Token;
            }
            // The decoder filters, in http_filters order, between route selection and the router (the terminal decoder).
            if (!listener.Filters.IsEmpty)
            {
                filters = new FilterChainStream(context, info, listener, route, scheme, pathAndQuery, start, internalRequest, _time, _filterLogger) { Tunnel = tunnel, Terminal = this };
                info.Filters = filters;
                bool decoded;
                try
                {
                    decoded = await filters.DecodeAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timers?.Fired is > StreamTimer.None && !clientAborted.IsCancellationRequested)
                {
                    decoded = false;
                }
                if (!decoded)
                {
                    await OnStreamTimerAsync(context, listener, info, timers, clientAborted).ConfigureAwait(false);
                    return;
                }
                route = filters.CurrentRoute;
                info.Route = route;
            }
            try
            {
                await _router.DecodeAsync(context, listener, route, new RouterInput(info, filters?.PathAndQuery ?? pathAndQuery, scheme, internalRequest, start, tunnel, info.IsHealthCheck)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timers?.Fired is > StreamTimer.None && !clientAborted.IsCancellationRequested)
            {
                // A timer cut the stream short: the reply is below.
            }
            if (upgraded)
            {
                Upgrades.UpgradeAdmission.OnTunnelEnded(context, listener, info);
            }
            await OnStreamTimerAsync(context, listener, info, timers, clientAborted).ConfigureAwait(false);
            if (filters is not null)
            {
                await filters.FinishResponseAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (timers is not null)
            {
                context.RequestAborted = clientAborted;
                info.Timers = null;
                timers.Dispose();
            }
            if (upgraded)
            {
                listener.Stats.DownstreamCxUpgradesActive.Decrement();
            }
            filters?.Complete();
            if (draining)
            {
                connection.RequestEnded();
            }
            info.Periodic?.End();
            var aborted = context.RequestAborted.IsCancellationRequested || info.ResetBeforeResponse;
            if (aborted && !info.ResetBeforeResponse)
            {
                // The client went away before the response was complete (Envoy's DC, downstream_remote_disconnect).
                info.SetResponseFlag(ResponseFlags.DownstreamConnectionTermination);
                info.Details ??= "downstream_remote_disconnect";
                if (!HttpProtocol.IsHttp2(context.Request.Protocol))
                {
                    // The HTTP/1 connection went under the request.
                    connection.RequestAborted();
                }
            }
            info.Complete();
            if (tracedPath is not null)
            {
                Tracing.HttpTracing.FinishDownstream(listener.Tracing!, context, info, tracedPath);
            }
            listener.Stats.RequestFinished(context.Response.StatusCode, aborted, info.Duration!.Value.TotalMilliseconds, info.IsHealthCheck, info.ResetBeforeResponse);
            if (listener.AccessLogs.Length != 0)
            {
                // Envoy's access logs of the stream, once it is over (AccessLogType DownstreamEnd).
                AccessLog.AccessLogger.LogAll(listener.AccessLogs, AccessLog.AccessLogContext.ForRequest(info, Configuration.AccessLogType.DownstreamEnd));
            }
        }
    }

    /// <summary>
    /// Envoy's traceRequest, after route selection: the tracing decision on the sampling in force (the route's
    /// <c>tracing</c> replaces the connection manager's), then the downstream span.
    /// </summary>
    private void StartTracing(HttpContext context, ConnectionManagerPlan plan, Tracing.ConnectionManagerTracing tracing, RequestStreamInfo info, RouteRuntime? route)
    {
        var decision = DecideTracing(context.Request, plan, tracing.SamplingFor(route));
        Tracing.HttpTracing.StartDownstream(tracing, context, info, route, decision);
    }

    /// <summary>The connection manager's response headers on a response that is not a local reply (Envoy adds them after the encoder filters).</summary>
    public static void ApplyResponseHeaders(HttpContext context, ConnectionManagerPlan connectionManager)
    {
        var headers = context.Response.Headers;
        switch (connectionManager.ServerHeaderTransformation)
        {
            case ServerHeaderTransformation.Overwrite:
                headers[Microsoft.Net.Http.Headers.HeaderNames.Server] = connectionManager.ServerName;
                break;
            case ServerHeaderTransformation.AppendIfAbsent when !headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Server):
                headers[Microsoft.Net.Http.Headers.HeaderNames.Server] = connectionManager.ServerName;
                break;
        }
        if (connectionManager.Tracing is { } tracing)
        {
            Tracing.HttpTracing.OnResponseHeaders(context, tracing.Direction);
        }
        RequestHeaderMutation.MutateResponseHeaders(context, connectionManager);
    }

    /// <summary>
    /// Envoy's tracing decision after route selection (mutateTracingRequestHeader, then traceRequest's shouldTraceRequest),
    /// before the filters run: the health check filter has not marked the request yet, and, as in Envoy, it un-samples the
    /// span itself.
    /// </summary>
    private TracingDecision DecideTracing(HttpRequest request, ConnectionManagerPlan plan, in TracingSampling sampling)
    {
        var reason = RequestHeaderMutation.MutateTracingRequestHeader(request.Headers, plan, sampling, _random);
        return RequestHeaderMutation.ShouldTraceRequest(reason, healthCheck: false);
    }

    /// <summary>The router, for a filter that runs the rest of the request inside its hook (the middleware adapter).</summary>
    Task FilterChainStream.IFilterChainTerminal.RunAsync(FilterChainStream stream)
    {
        var info = (RequestStreamInfo)stream.StreamInfo;
        var route = stream.CurrentRoute;
        info.Route = route;
        return _router.DecodeAsync(stream.HttpContext, stream.Listener, route,
            new RouterInput(info, stream.PathAndQuery, stream.Scheme, stream.IsInternal, stream.StartTimestamp, stream.Tunnel, info.IsHealthCheck)).AsTask();
    }

    /// <summary>Route selection on the routed <c>:path</c>; a CONNECT's is empty, so only connect_matcher routes match it.</summary>
    private static RouteRuntime? SelectRoute(HttpRequest request, ListenerRuntime listener, DownstreamVerdict verdict, string scheme, string pathAndQuery, ulong randomValue, System.Net.IPAddress? forwardedRemote)
    {
        var host = request.Headers.Host;
        // Envoy's route() runs the route's cluster specifier too: a weighted_clusters route yields the picked entry's route.
        return listener.Routes.Match(host.Count == 0 ? null : host.ToString(), request.Method, scheme, pathAndQuery, request.Headers, null, randomValue, out _, out _)
            ?.Resolve(request, randomValue, forwardedRemote);
    }

    /// <summary>Envoy's body of the reply when <c>max_stream_duration</c> is reached.</summary>
    private static readonly byte[] DurationTimeoutBody = System.Text.Encoding.ASCII.GetBytes("downstream duration timeout");

    /// <summary>
    /// Once the router (or a filter) gave up under a cancelled stream, the timer that fired answers, with the request's own
    /// token back: the idle timer as Envoy's onIdleTimeout (<c>downstream_rq_idle_timeout</c>, SI, 408 <c>stream timeout</c>,
    /// details <c>stream_idle_timeout</c>); the duration limit as onStreamMaxDurationReached
    /// (<c>downstream_rq_max_duration_reached</c>, 504 <c>downstream duration timeout</c> when the request had been received
    /// in full and 408 otherwise, Http::Utility::maybeRequestTimeoutCode; details <c>max_duration_timeout</c>); the request
    /// timer as onRequestTimeout (<c>downstream_rq_timeout</c>, 408 <c>request timeout</c>, details
    /// <c>request_overall_timeout</c>). A response already started is reset instead. Nothing when no timer fired or the
    /// client went away first.
    /// </summary>
    private static Task OnStreamTimerAsync(HttpContext context, ListenerRuntime listener, RequestStreamInfo info, StreamTimers? timers, CancellationToken clientAborted)
    {
        if (clientAborted.IsCancellationRequested || timers is null)
        {
            return Task.CompletedTask;
        }
        var fired = timers.Fired;
        if (fired == StreamTimer.None)
        {
            return Task.CompletedTask;
        }
        context.RequestAborted = clientAborted;
        switch (fired)
        {
            case StreamTimer.Idle:
                listener.Stats.DownstreamRqIdleTimeout.Increment();
                info.SetResponseFlag(ResponseFlags.StreamIdleTimeout);
                return LocalReply.SendAsync(context, TimeoutStatus(info), LocalReply.StreamTimeout, listener.ConnectionManager, details: "stream_idle_timeout");
            case StreamTimer.Duration:
                listener.Stats.DownstreamRqMaxDurationReached.Increment();
                return LocalReply.SendAsync(context, TimeoutStatus(info), DurationTimeoutBody, listener.ConnectionManager, details: "max_duration_timeout");
            default:
                listener.Stats.DownstreamRqTimeout.Increment();
                return LocalReply.SendAsync(context, TimeoutStatus(info), RequestTimeoutBody, listener.ConnectionManager, details: "request_overall_timeout");
        }
    }

    /// <summary>
    /// Envoy's maybeRequestTimeoutCode: a stream timer that fires once the whole request is in blames the upstream side
    /// (504), before that the client (408).
    /// </summary>
    private static int TimeoutStatus(RequestStreamInfo info)
        => info.LastDownstreamRxByteReceived is null ? StatusCodes.Status408RequestTimeout : StatusCodes.Status504GatewayTimeout;

    /// <summary>
    /// Counts the request on its connection for the <c>max_connection_duration</c> drain (uncounted when it ends), and
    /// ends a draining HTTP/1 connection after it.
    /// </summary>
    private static void TrackForDrain(HttpContext context, DownstreamConnection connection)
    {
        connection.RequestStarted();
        if (connection.Draining && !HttpProtocol.IsHttp2(context.Request.Protocol))
        {
            // Envoy's encodeHeaders while draining: this HTTP/1 response carries connection: close.
            context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    /// <summary>
    /// Envoy's newStream with <c>max_requests_per_connection</c>: the stream that reaches the limit, and any after it,
    /// is counted and drains the connection. Kestrel's RequestClose does both of Envoy's ways: over HTTP/1 this
    /// response carries <c>connection: close</c> and the connection closes after it; over HTTP/2 a GOAWAY goes out
    /// and the connection ends once its streams are done.
    /// </summary>
    private static void LimitRequests(HttpContext context, DownstreamConnection connection, ListenerRuntime listener)
    {
        if (connection.NextRequest() >= listener.ConnectionManager.MaxRequestsPerConnection)
        {
            listener.Stats.DownstreamCxMaxRequestsReached.Increment();
            context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    /// <summary>
    /// Envoy's codecs on <c>headers_with_underscores_action</c>: DROP_HEADER removes each such header (counted per
    /// header); REJECT_REQUEST answers HTTP/1 with the codec's 400 and closes the connection, and resets an HTTP/2
    /// stream. Returns false when the request is over.
    /// </summary>
    private static async ValueTask<bool> OnUnderscoreHeadersAsync(HttpContext context, ListenerRuntime listener, RequestStreamInfo info, Gateway.Stats.CodecStats stats, List<string> names)
    {
        var http2 = HttpProtocol.IsHttp2(context.Request.Protocol);
        if (listener.ConnectionManager.HeadersWithUnderscores == Configuration.HeadersWithUnderscoresAction.DropHeader)
        {
            foreach (var name in names)
            {
                context.Request.Headers.Remove(name);
            }
            (http2 ? stats.Http2DroppedHeadersWithUnderscores : stats.Http1DroppedHeadersWithUnderscores).Add(names.Count);
            return true;
        }
        info.SetResponseFlag(ResponseFlags.DownstreamProtocolError);
        if (http2)
        {
            stats.Http2RequestsRejectedWithUnderscoresInHeaders.Increment();
            info.Details = "http2.unexpected_underscore";
            // nghttp2 answers the header callback's failure with RST_STREAM INTERNAL_ERROR, as Kestrel's abort of an
            // HTTP/2 stream does; the stream ends aborted, so no response code is charged.
            info.ResetBeforeResponse = true;
            context.Abort();
            return false;
        }
        stats.Http1RequestsRejectedWithUnderscoresInHeaders.Increment();
        listener.Stats.DownstreamCxProtocolError.Increment();
        listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
        await LocalReply.SendAsync(context, StatusCodes.Status400BadRequest, LocalReply.BadRequest, listener.ConnectionManager, closeConnection: true, details: "http1.unexpected_underscore").ConfigureAwait(false);
        return false;
    }

    /// <summary>Envoy's body of the reply when <c>request_timeout</c> fires.</summary>
    private static readonly byte[] RequestTimeoutBody = System.Text.Encoding.ASCII.GetBytes("request timeout");

    /// <summary>
    /// An HCM without HTTP filters: no filter answers, so, as in Envoy, the stream stays idle until the
    /// stream idle timeout sends 504 (408 while the request is still arriving) <c>stream timeout</c> (or the client goes away).
    /// </summary>
    private async Task AwaitStreamIdleTimeoutAsync(HttpContext context, ListenerRuntime listener)
    {
        var timeout = listener.ConnectionManager.StreamIdleTimeout;
        try
        {
            await Task.Delay(timeout > TimeSpan.Zero ? timeout : Timeout.InfiniteTimeSpan, _time, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        listener.Stats.DownstreamRqIdleTimeout.Increment();
        var info = context.Features.Get<RequestStreamInfo>()!;
        info.SetResponseFlag(ResponseFlags.StreamIdleTimeout);
        await LocalReply.SendAsync(context, TimeoutStatus(info), LocalReply.StreamTimeout, listener.ConnectionManager, details: "stream_idle_timeout").ConfigureAwait(false);
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
            return Replied(LocalReply.SendAsync(context, StatusCodes.Status404NotFound, null, plan, details: "absolute_path_rejected"));
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
                return Replied(LocalReply.SendAsync(context, StatusCodes.Status400BadRequest, null, plan, details: "path_normalization_failed"));
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

    private static bool IsGrpc(HttpRequest request) => Gateway.Grpc.GrpcProtocol.IsGrpc(request.ContentType);

    /// <summary>
    /// Without proxy_100_continue Envoy answers <c>Expect: 100-continue</c> itself and charges that 1xx. Kestrel
    /// sends the 100 when the body is first read (so the header stays here) and the request transform keeps the
    /// header from the upstream, as Envoy removes it. With proxy_100_continue the header goes upstream: .NET's client
    /// sends the body once the upstream's 100 came, so the gateway reads it, and Kestrel sends the client its 100,
    /// only then; that 1xx is charged at that first read (Proxy100ContinueBody), never when the upstream answered first.
    /// </summary>
    private static void Answer100Continue(HttpContext context, ListenerRuntime listener)
    {
        var request = context.Request;
        var expect = request.Headers.Expect;
        if (expect.Count == 1 && string.Equals(expect[0], "100-continue", StringComparison.OrdinalIgnoreCase))
        {
            if (listener.ConnectionManager.Proxy100Continue)
            {
                request.Body = new Proxy100ContinueBody(request.Body, listener.Stats);
            }
            else
            {
                listener.Stats.ChargeResponse(StatusCodes.Status100Continue);
            }
        }
    }
}
