using System.Globalization;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Router;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tracing;

/// <summary>Envoy's span tag and log names (source/common/tracing/common_values.h).</summary>
internal static class TracingTags
{
    public const string Component = "component";
    public const string Proxy = "proxy";
    public const string NodeId = "node_id";
    public const string Zone = "zone";
    public const string GuidXRequestId = "guid:x-request-id";
    public const string GuidXClientTraceId = "guid:x-client-trace-id";
    public const string HttpUrl = "http.url";
    public const string HttpMethod = "http.method";
    public const string HttpProtocol = "http.protocol";
    public const string HttpStatusCode = "http.status_code";
    public const string DownstreamCluster = "downstream_cluster";
    public const string UserAgent = "user_agent";
    public const string RequestSize = "request_size";
    public const string ResponseSize = "response_size";
    public const string ResponseFlags = "response_flags";
    public const string Error = "error";
    public const string True = "true";
    public const string ErrorReason = "error.reason";
    public const string UpstreamCluster = "upstream_cluster";
    public const string UpstreamClusterName = "upstream_cluster.name";
    public const string UpstreamAddress = "upstream_address";
    public const string PeerAddress = "peer.address";
    public const string RetryCount = "retry.count";
    public const string GrpcPath = "grpc.path";
    public const string GrpcAuthority = "grpc.authority";
    public const string GrpcContentType = "grpc.content_type";
    public const string GrpcTimeout = "grpc.timeout";
    public const string GrpcStatusCode = "grpc.status_code";
    public const string GrpcMessage = "grpc.message";

    // Verbose span logs (Tracing::Logs).
    public const string LastDownstreamRxByteReceived = "last_downstream_rx_byte_received";
    public const string FirstUpstreamTxByteSent = "first_upstream_tx_byte_sent";
    public const string FirstUpstreamRxByteReceived = "first_upstream_rx_byte_received";
    public const string LastUpstreamRxByteReceived = "last_upstream_rx_byte_received";
    public const string FirstDownstreamTxByteSent = "first_downstream_tx_byte_sent";
    public const string LastDownstreamTxByteSent = "last_downstream_tx_byte_sent";
}

/// <summary>
/// Envoy's HTTP tracing on the request path (conn_manager_impl.cc traceRequest, http_tracer_impl.cc HttpTracerUtility,
/// upstream_request.cc): the decision, the downstream span with its decorator, the per-attempt upstream spans and
/// the context injected upstream, and the tags a span is finished with. Nothing here runs on a connection manager
/// without <c>tracing</c>.
/// </summary>
internal static class HttpTracing
{
    /// <summary>The header that carries a decorator's operation (router.cc, conn_manager_impl.cc).</summary>
    public const string DecoratorOperationHeader = "x-envoy-decorator-operation";

    private const string ClientTraceIdHeader = "x-client-trace-id";
    private const string ForceTraceHeader = "x-envoy-force-trace";
    private const string DownstreamServiceClusterHeader = "x-envoy-downstream-service-cluster";

    /// <summary>
    /// Envoy's traceRequest: charges the decision, starts the downstream span (named after the Host, as Envoy's Zipkin
    /// driver does), tags the local node, applies the route's decorator, and handles <c>x-envoy-decorator-operation</c>:
    /// on an egress listener a propagating decorator sends it upstream; on ingress an incoming one renames the span and
    /// is removed. The span is stored in <see cref="RequestStreamInfo.Span"/>.
    /// </summary>
    public static void StartDownstream(ConnectionManagerTracing tracing, HttpContext context, RequestStreamInfo info, RouteRuntime? route, TracingDecision decision)
    {
        tracing.Stats.Charge(decision);
        info.TracingDecision = decision;
        var headers = context.Request.Headers;
        var plan = tracing.Plan;
        var host = headers.Host;
        var name = host.Count == 0 ? string.Empty : host[0] ?? string.Empty;
        var span = tracing.Tracer.StartSpan(new SpanStart(headers, name, info.StartTime, decision, plan.Direction) { SpawnUpstreamSpan = plan.SpawnUpstreamSpan });
        info.Span = span;
        if (ReferenceEquals(span, NullSpan.Instance))
        {
            return;
        }
        span.SetTag(TracingTags.NodeId, tracing.Node.NodeId);
        span.SetTag(TracingTags.Zone, tracing.Node.Zone);

        string? decorated = null;
        var propagate = true;
        if (route?.Plan.Tracing is { Operation: { } operation } routeTracing)
        {
            span.SetOperation(operation);
            decorated = operation;
            propagate = routeTracing.Propagate;
        }
        if (plan.Direction == SpanDirection.Egress)
        {
            if (decorated is not null && propagate)
            {
                headers[DecoratorOperationHeader] = decorated;
            }
        }
        else
        {
            var incoming = headers[DecoratorOperationHeader];
            if (incoming.Count > 0)
            {
                if (incoming[0] is { Length: > 0 } overridden)
                {
                    span.SetOperation(overridden);
                    // Overridden by the request: not echoed in the response.
                    decorated = null;
                }
                headers.Remove(DecoratorOperationHeader);
            }
            // For the response header (Envoy's encodeHeaders on ingress).
            info.DecoratedOperation = propagate ? decorated : null;
        }
    }

    /// <summary>
    /// Envoy's encodeHeaders part for tracing: on ingress the decorator's operation goes to the client in
    /// <c>x-envoy-decorator-operation</c>; on egress an upstream's header renames the span and is removed.
    /// </summary>
    public static void OnResponseHeaders(HttpContext context, SpanDirection direction)
    {
        if (context.Features.Get<RequestStreamInfo>() is not { } info)
        {
            return;
        }
        var headers = context.Response.Headers;
        if (direction == SpanDirection.Ingress)
        {
            if (info.DecoratedOperation is { } operation)
            {
                headers[DecoratorOperationHeader] = operation;
            }
            return;
        }
        var upstream = headers[DecoratorOperationHeader];
        if (upstream.Count > 0)
        {
            if (upstream[0] is { Length: > 0 } operation)
            {
                info.Span.SetOperation(operation);
            }
            headers.Remove(DecoratorOperationHeader);
        }
    }

    /// <summary>
    /// The upstream attempt is about to be sent: with upstream spans a child span is started for it (Envoy's
    /// <c>router &lt;cluster&gt; egress</c>, tagged <c>retry.count</c> on a retry), and the attempt's span (or the
    /// downstream span) writes its context into the upstream request, unless <c>no_context_propagation</c>.
    /// </summary>
    public static void OnUpstreamRequest(ConnectionManagerTracing tracing, UpstreamRequest state, System.Net.Http.HttpRequestMessage request)
    {
        var span = state.DownstreamSpan;
        if (tracing.UpstreamSpans && state.AttemptSpan is null)
        {
            var child = span.SpawnChild(string.Concat("router ", state.Cluster.Name, " egress"), tracing.Time.GetUtcNow());
            if (state.Attempt > 1)
            {
                child.SetTag(TracingTags.RetryCount, (state.Attempt - 1).ToString(CultureInfo.InvariantCulture));
            }
            // The upstream request's protocol (finalizeUpstreamSpan), as the cluster sends it.
            child.SetTag(TracingTags.HttpProtocol, Protocol(request.Version));
            state.AttemptSpan = child;
            span = child;
        }
        else if (state.AttemptSpan is { } attempt)
        {
            span = attempt;
        }
        if (!tracing.Plan.NoContextPropagation)
        {
            span.InjectContext(request.Headers);
        }
    }

    /// <summary>
    /// Envoy's finalizeUpstreamSpan for the attempt that just ended: protocol, upstream address (also <c>peer.address</c>),
    /// the common tags with the attempt's status, an <c>error.reason</c> when it was reset; then finished.
    /// </summary>
    public static void FinishUpstreamAttempt(ConnectionManagerTracing tracing, UpstreamRequest state, HttpContext context, in Resilience.AttemptOutcome outcome)
    {
        if (state.AttemptSpan is not { } span)
        {
            return;
        }
        state.AttemptSpan = null;
        if (state.Host is { } host)
        {
            span.SetTag(TracingTags.UpstreamAddress, host.Address);
            span.SetTag(TracingTags.PeerAddress, host.Address);
        }
        span.SetTag(TracingTags.Component, TracingTags.Proxy);
        var cluster = state.Cluster;
        span.SetTag(TracingTags.UpstreamCluster, cluster.Name);
        span.SetTag(TracingTags.UpstreamClusterName, cluster.Name);
        span.SetTag(TracingTags.HttpStatusCode, outcome.Status.ToString(CultureInfo.InvariantCulture));
        span.SetTag(TracingTags.ResponseFlags, ResponseFlagText.ShortString(AttemptFlags(outcome)));
        if (outcome.Status == 0 || outcome.Status >= 500)
        {
            span.SetTag(TracingTags.Error, TracingTags.True);
        }
        if (outcome.ResetReason is { } reason)
        {
            span.SetTag(TracingTags.ErrorReason, reason);
        }
        if (context.Features.Get<RequestStreamInfo>() is { } info)
        {
            ApplyCustomTags(span, tracing, new CustomTagContext(context, info));
            if (span.Sampled)
            {
                ApplyOperation(span, info.Route?.Plan.Tracing?.UpstreamOperation ?? tracing.Plan.UpstreamOperation, context, info);
            }
        }
        span.Finish(tracing.Time.GetUtcNow());
    }

    /// <summary>
    /// Envoy's modifySpan: a configured operation format (the route's, else the connection manager's) renames the span
    /// as it is finished, over the host, decorator and <c>x-envoy-decorator-operation</c> names, with the request,
    /// response and stream info as they are then. Nothing happens when neither is set.
    /// </summary>
    private static void ApplyOperation(ISpan span, Formatting.SubstitutionFormatter? format, HttpContext context, RequestStreamInfo info)
    {
        if (format is not null)
        {
            span.SetOperation(format.Format(new Formatting.FormatterContext(context, info)));
        }
    }

    /// <summary>Envoy's protocol names.</summary>
    private static string Protocol(Version version) => version.Major switch
    {
        2 => "HTTP/2",
        3 => "HTTP/3",
        _ => version.Minor == 0 ? "HTTP/1.0" : "HTTP/1.1",
    };

    /// <summary>The response flags of one attempt (the upstream request's own stream info in Envoy).</summary>
    private static ResponseFlags AttemptFlags(in Resilience.AttemptOutcome outcome) => outcome.Kind switch
    {
        Resilience.AttemptKind.ConnectFailure => ResponseFlags.UpstreamConnectionFailure,
        Resilience.AttemptKind.Reset => ResponseFlags.UpstreamConnectionTermination,
        Resilience.AttemptKind.Overflow => ResponseFlags.UpstreamOverflow,
        Resilience.AttemptKind.PerTryTimeout => ResponseFlags.UpstreamRequestTimeout,
        Resilience.AttemptKind.NoHealthyUpstream => ResponseFlags.NoHealthyUpstream,
        _ => ResponseFlags.None,
    };

    /// <summary>
    /// Envoy's finalizeDownstreamSpan and setCommonTags, then the span is finished. A request a filter marked as a
    /// health check is not traced: its span is dropped and <c>tracing.health_check</c> charged.
    /// </summary>
    public static void FinishDownstream(ConnectionManagerTracing tracing, HttpContext context, RequestStreamInfo info, string pathAndQuery)
    {
        var span = info.Span;
        if (ReferenceEquals(span, NullSpan.Instance))
        {
            return;
        }
        if (info.IsHealthCheck)
        {
            tracing.Stats.HealthCheck.Increment();
            return;
        }
        if (!span.Sampled)
        {
            // Nobody sees an unsampled span's tags (it is never exported): Envoy builds them anyway; here they cost nothing.
            span.Finish(tracing.Time.GetUtcNow());
            return;
        }
        var request = context.Request;
        var headers = request.Headers;
        var plan = tracing.Plan;
        if (First(headers, Listeners.EnvoyHeaders.RequestId) is { } requestId)
        {
            span.SetTag(TracingTags.GuidXRequestId, requestId);
        }
        span.SetTag(TracingTags.HttpUrl, Url(headers, pathAndQuery, plan.MaxPathTagLength));
        span.SetTag(TracingTags.HttpMethod, request.Method);
        span.SetTag(TracingTags.DownstreamCluster, First(headers, DownstreamServiceClusterHeader) ?? "-");
        span.SetTag(TracingTags.UserAgent, First(headers, "user-agent") ?? "-");
        span.SetTag(TracingTags.HttpProtocol, request.Protocol);
        if (context.Connection.RemoteIpAddress is { } remote)
        {
            span.SetTag(TracingTags.PeerAddress, (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        }
        if (First(headers, ClientTraceIdHeader) is { } clientTraceId)
        {
            span.SetTag(TracingTags.GuidXClientTraceId, clientTraceId);
        }
        if (IsGrpc(request.ContentType))
        {
            SetIfPresent(span, TracingTags.GrpcPath, pathAndQuery);
            SetIfPresent(span, TracingTags.GrpcAuthority, First(headers, "host"));
            SetIfPresent(span, TracingTags.GrpcContentType, request.ContentType);
            SetIfPresent(span, TracingTags.GrpcTimeout, First(headers, "grpc-timeout"));
        }
        span.SetTag(TracingTags.RequestSize, info.BytesReceived.ToString(CultureInfo.InvariantCulture));
        span.SetTag(TracingTags.ResponseSize, info.BytesSent.ToString(CultureInfo.InvariantCulture));

        // setCommonTags.
        span.SetTag(TracingTags.Component, TracingTags.Proxy);
        if (info.UpstreamCluster is { } cluster)
        {
            span.SetTag(TracingTags.UpstreamCluster, cluster.Name);
            span.SetTag(TracingTags.UpstreamClusterName, cluster.Name);
        }
        var status = info.ResponseCode;
        span.SetTag(TracingTags.HttpStatusCode, status.ToString(CultureInfo.InvariantCulture));
        span.SetTag(TracingTags.ResponseFlags, ResponseFlagText.ShortString(info.ResponseFlags));
        if (info.Host is { } upstreamHost)
        {
            span.SetTag(TracingTags.UpstreamAddress, upstreamHost.Address);
        }
        if (plan.Verbose)
        {
            AnnotateVerbose(span, info);
        }
        if (status == 0 || status >= 500)
        {
            span.SetTag(TracingTags.Error, TracingTags.True);
        }
        ApplyCustomTags(span, tracing, new CustomTagContext(context, info));
        ApplyOperation(span, info.Route?.Plan.Tracing?.SpanOperation ?? plan.Operation, context, info);
        var grpcStatus = First(context.Response.Headers, "grpc-status");
        if (grpcStatus is not null)
        {
            span.SetTag(TracingTags.GrpcStatusCode, grpcStatus);
            SetIfPresent(span, TracingTags.GrpcMessage, First(context.Response.Headers, "grpc-message"));
            if (IsUpstreamGrpcError(grpcStatus))
            {
                span.SetTag(TracingTags.Error, TracingTags.True);
            }
        }
        span.Finish(tracing.Time.GetUtcNow());
    }

    /// <summary>The route's custom tags, then the connection manager's whose names the route does not use (Envoy's merge).</summary>
    private static void ApplyCustomTags(ISpan span, ConnectionManagerTracing tracing, in CustomTagContext context)
    {
        var routeTags = context.Info.Route?.Plan.Tracing?.CustomTags ?? [];
        foreach (var tag in routeTags)
        {
            tag.Apply(span, context);
        }
        foreach (var tag in tracing.Plan.CustomTags)
        {
            if (!Contains(routeTags, tag.Tag))
            {
                tag.Apply(span, context);
            }
        }

        static bool Contains(CustomTagPlan[] tags, string name)
        {
            foreach (var tag in tags)
            {
                if (string.Equals(tag.Tag, name, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Envoy's annotateVerbose: a span log per stream event that happened, at its time.</summary>
    private static void AnnotateVerbose(ISpan span, RequestStreamInfo info)
    {
        var start = info.StartTime;
        Log(span, start, info.LastDownstreamRxByteReceived, TracingTags.LastDownstreamRxByteReceived);
        Log(span, start, info.FirstUpstreamTxByteSent, TracingTags.FirstUpstreamTxByteSent);
        Log(span, start, info.FirstUpstreamRxByteReceived, TracingTags.FirstUpstreamRxByteReceived);
        Log(span, start, info.LastUpstreamRxByteReceived, TracingTags.LastUpstreamRxByteReceived);
        Log(span, start, info.FirstDownstreamTxByteSent, TracingTags.FirstDownstreamTxByteSent);
        Log(span, start, info.Duration, TracingTags.LastDownstreamTxByteSent);

        static void Log(ISpan span, DateTimeOffset start, TimeSpan? offset, string name)
        {
            if (offset is { } value)
            {
                span.Log(start + value, name);
            }
        }
    }

    /// <summary>Envoy's buildOriginalUri: <c>x-forwarded-proto://host</c> and the path, truncated to <c>max_path_tag_length</c>.</summary>
    internal static string Url(IHeaderDictionary headers, string pathAndQuery, int maxPathLength)
    {
        var path = First(headers, "x-envoy-original-path") ?? pathAndQuery;
        var span = path.Length > maxPathLength ? path.AsSpan(0, maxPathLength) : path.AsSpan();
        return string.Concat(First(headers, Listeners.EnvoyHeaders.ForwardedProto) ?? string.Empty, "://", First(headers, "host") ?? string.Empty, span);
    }

    private static string? First(IHeaderDictionary headers, string name)
    {
        var values = headers[name];
        return values.Count == 0 ? null : values[0];
    }

    private static void SetIfPresent(ISpan span, string tag, string? value)
    {
        if (value is not null)
        {
            span.SetTag(tag, value);
        }
    }

    private static bool IsGrpc(string? contentType) => Gateway.Grpc.GrpcProtocol.IsGrpc(contentType);

    /// <summary>gRPC statuses Envoy counts as an upstream error (addGrpcResponseTags): 2, 4, 8, 12, 13, 14, 15.</summary>
    private static bool IsUpstreamGrpcError(string status)
        => status is "2" or "4" or "8" or "12" or "13" or "14" or "15";
}
