using System.Text;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Grpc;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Listeners;

/// <summary>Responses the gateway makes itself (Envoy's "local replies"): plain text, exact bodies.</summary>
internal static class LocalReply
{
    public static readonly byte[] UpstreamTimeout = Encoding.ASCII.GetBytes("upstream request timeout");
    public static readonly byte[] NoHealthyUpstream = Encoding.ASCII.GetBytes("no healthy upstream");
    public static readonly byte[] StreamTimeout = Encoding.ASCII.GetBytes("stream timeout");

    /// <summary>The router's reply to a request the cluster's <c>drop_overloads</c> dropped.</summary>
    public static readonly byte[] DropOverload = Encoding.ASCII.GetBytes("drop overload");

    /// <summary>A codec error's body (CodeUtility::toString of the status).</summary>
    public static readonly byte[] BadRequest = Encoding.ASCII.GetBytes("Bad Request");
    public static readonly byte[] Overflow = Encoding.ASCII.GetBytes("upstream connect error or disconnect/reset before headers. reset reason: overflow");

    /// <summary>Envoy's body for a failure before response headers arrived (router.cc onUpstreamReset), which says so when attempts were retried.</summary>
    public static byte[] ResetBeforeHeaders(string resetReason, bool retried = false)
        => Encoding.UTF8.GetBytes("upstream connect error or disconnect/reset before headers. " + (retried ? "retried and the latest reset reason: " : "reset reason: ") + resetReason);

    /// <summary>
    /// Sends a local reply (<paramref name="details"/>: Envoy's response code details, kept in the stream info). On a request that went through a filter chain, the encoders of the filters it passed
    /// see the reply (headers, and the body when they asked for it) before it is sent, as in Envoy. A gRPC request gets
    /// Envoy's trailers-only form instead (<see cref="ToGrpc"/>), with <paramref name="grpcStatus"/> when the caller chose one.
    /// </summary>
    public static Task SendAsync(HttpContext context, int statusCode, byte[]? body, ConnectionManagerPlan connectionManager, string contentType = "text/plain", bool overloaded = false, int attemptCount = 0, bool closeConnection = false, Action<IHeaderDictionary>? modifyHeaders = null, string? details = null, int? grpcStatus = null)
    {
        var response = context.Response;
        var info = context.Features.Get<RequestStreamInfo>();
        if (info is not null && details is not null)
        {
            info.Details = details;
        }
        if (response.HasStarted)
        {
            // Too late for a reply: reset the stream, as Envoy does.
            context.Features.Get<DownstreamConnection>()?.AbortingLocally();
            context.Abort();
            return Task.CompletedTask;
        }
        response.Clear();
        response.StatusCode = statusCode;
        // Envoy's filter manager finalizes a local reply with the route's response headers once a route is selected
        // (the router does for a direct response), before the connection manager's own headers (server, x-request-id).
        var route = info is null ? null : info.Filters is { } filters ? filters.CurrentRoute : info.Route;
        route?.Headers.ApplyResponse(context, info);
        if (connectionManager.ServerHeaderTransformation != ServerHeaderTransformation.PassThrough)
        {
            response.Headers[HeaderNames.Server] = connectionManager.ServerName;
        }
        if ((statusCode == StatusCodes.Status400BadRequest || closeConnection) && !HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            // Envoy's onLocalReply: a 400 means a messaging error, and an HTTP/1 connection is closed after it;
            // so it is after a codec error, or a reply to a request Envoy will not read to the end.
            response.Headers.Connection = "close";
        }
        if (overloaded)
        {
            response.Headers[EnvoyHeaders.Overloaded] = "true";
        }
        if (attemptCount > 0)
        {
            response.Headers[EnvoyHeaders.AttemptCount] = attemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        // A local reply passes through the connection manager's encodeHeaders too (x-request-id, via).
        RequestHeaderMutation.MutateResponseHeaders(context, connectionManager);
        if (connectionManager.Tracing is { } tracing)
        {
            Gateway.Tracing.HttpTracing.OnResponseHeaders(context, tracing.Direction);
        }
        if (connectionManager.LocalReply is { } rewriter)
        {
            body = Rewrite(context, info, rewriter, body, contentType, modifyHeaders);
        }
        else
        {
            if (body is { Length: > 0 })
            {
                response.ContentType = contentType;
            }
            modifyHeaders?.Invoke(response.Headers);
        }
        var grpc = GrpcProtocol.IsGrpc(context.Request.ContentType);
        if (grpc)
        {
            ToGrpc(context, body, grpcStatus);
            body = null;
        }
        info?.OnFirstDownstreamTxByteSent();
        if (info?.Filters is { HasEncoders: true } stream)
        {
            return EncodeAndWriteAsync(context, stream, body, grpc);
        }
        return grpc ? Task.CompletedTask : WriteBodyAsync(context, body);
    }

    /// <summary>
    /// Envoy's prepareLocalReply for a gRPC request: <c>:status 200</c>, <c>content-type: application/grpc</c>, <c>grpc-status</c>
    /// (unless a header change set one) from the chosen status or the HTTP status (httpToGrpcStatus), and the body text as
    /// a percent-encoded <c>grpc-message</c> (not for HEAD; a JSON body loses its final newline). The reply is headers only,
    /// sent with the end of the stream: gRPC's "trailers-only" response.
    /// </summary>
    private static void ToGrpc(HttpContext context, byte[]? body, int? grpcStatus)
    {
        var response = context.Response;
        var headers = response.Headers;
        if (StringValues.IsNullOrEmpty(headers[GrpcProtocol.StatusHeader]))
        {
            headers[GrpcProtocol.StatusHeader] = (grpcStatus ?? GrpcProtocol.HttpToGrpcStatus(response.StatusCode)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (body is { Length: > 0 } && !HttpMethods.IsHead(context.Request.Method))
        {
            var text = body.AsSpan();
            if (text[^1] == (byte)'\n' && response.ContentType is { } type && type.StartsWith("application/json", StringComparison.Ordinal))
            {
                text = text[..^1];
            }
            headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(text);
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.ContentLength = null;
    }

    /// <summary>
    /// Envoy's prepareLocalReply with a <c>local_reply_config</c>: the caller's header changes, then the rewrite (status,
    /// body, headers), then the content type: the rewrite's unless a header change set one and the body stayed.
    /// </summary>
    private static byte[]? Rewrite(HttpContext context, RequestStreamInfo? info, LocalReplyRewriter rewriter, byte[]? body, string contentType, Action<IHeaderDictionary>? modifyHeaders)
    {
        var response = context.Response;
        modifyHeaders?.Invoke(response.Headers);
        var before = response.ContentType;
        var original = body;
        var status = response.StatusCode;
        var random = context.Features.Get<DownstreamConnection>()?.Chain?.Random ?? Random.Shared;
        rewriter.Rewrite(context, info, ref status, ref body, ref contentType, random);
        var custom = !string.Equals(before, response.ContentType, StringComparison.Ordinal);
        if (body is { Length: > 0 })
        {
            var changed = original is null || !body.AsSpan().SequenceEqual(original);
            if (string.IsNullOrEmpty(response.ContentType) || (changed && !custom))
            {
                response.ContentType = contentType;
            }
        }
        else
        {
            response.Headers.ContentType = default;
        }
        return body;
    }

    private static async Task EncodeAndWriteAsync(HttpContext context, FilterChainStream stream, byte[]? body, bool grpc)
    {
        // Envoy's sendLocalReply sets content-length before the encoders run: a filter (the compressor) reads it.
        // A gRPC reply has none: it ends with its headers.
        if (!grpc)
        {
            context.Response.ContentLength = body?.Length ?? 0;
        }
        await stream.EncodeHeadersAsync().ConfigureAwait(false);
        if (grpc)
        {
            return;
        }
        body = await stream.EncodeLocalReplyBodyAsync(body).ConfigureAwait(false);
        await WriteBodyAsync(context, body).ConfigureAwait(false);
    }

    private static Task WriteBodyAsync(HttpContext context, byte[]? body)
    {
        var response = context.Response;
        if (body is null || body.Length == 0)
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }
}
