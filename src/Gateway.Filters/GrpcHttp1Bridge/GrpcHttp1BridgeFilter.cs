using System.Buffers;
using System.Globalization;
using Gateway.Filters.Common;
using Gateway.Grpc;
using Gateway.Listeners;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.GrpcHttp1Bridge;

/// <summary>
/// <c>envoy.filters.http.grpc_http1_bridge</c>: an HTTP/1.1 client that cannot read trailers calls a gRPC upstream. The
/// response is buffered until its trailers, whose <c>grpc-status</c> and <c>grpc-message</c> become response headers;
/// a status other than 0 (or one that is not a number) makes the response a 503, and <c>content-length</c> is the
/// buffered body's, as Envoy's http1_bridge_filter.cc does. With <c>upgrade_protobuf_to_grpc</c> an
/// <c>application/x-protobuf</c> request is framed as one gRPC message and the frame header is taken off the reply.
/// </summary>
public sealed class GrpcHttp1BridgeFilterFactory : HttpFilterFactory<GrpcHttp1BridgeConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.grpc_http1_bridge";

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(GrpcHttp1BridgeConfig config, HttpFilterFactoryContext context)
        => new GrpcHttp1BridgeFilter(config.UpgradeProtobufToGrpc, config.IgnoreQueryParameters);
}

/// <summary>The bridge filter of one listener.</summary>
internal sealed class GrpcHttp1BridgeFilter(bool upgradeProtobuf, bool ignoreQueryParameters) : IHttpFilter
{
    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.RequestBody | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers;
        var framing = false;
        if (upgradeProtobuf && headers.ContentType is { Count: > 0 } type && type[0] == GrpcProtocol.ProtobufContentType)
        {
            framing = true;
            headers.ContentType = GrpcProtocol.ContentType;
            // The message length is in the gRPC frame now.
            headers.ContentLength = null;
            context.ClearRouteCache();
        }
        var bridging = GrpcProtocol.IsGrpc(headers) && !HttpProtocol.IsHttp2(http.Request.Protocol) && !HttpProtocol.IsHttp3(http.Request.Protocol);
        if (!bridging)
        {
            // Envoy frames a body only on a bridged (HTTP/1) request.
            context.SkipRequestBody();
            return new(FilterStatus.Continue);
        }
        if (ignoreQueryParameters && context is FilterChainStream stream && stream.PathAndQuery.IndexOf('?', StringComparison.Ordinal) is var query and >= 0)
        {
            // gRPC servers answer a path with a query "unknown method".
            stream.SetPathAndQuery(stream.PathAndQuery[..query]);
        }
        http.Features.Set(new BridgeStream(framing, CapturedTrailers.Capture(http), (context as FilterChainStream)?.Listener.Stats.RsTooLarge));
        if (!framing)
        {
            context.SkipRequestBody();
        }
        return new(FilterStatus.Continue);
    }

    /// <summary>Envoy's decodeData with framing: the whole body gets gRPC's message prefix (uncompressed, its length).</summary>
    public ValueTask<FilterStatus> OnRequestBodyAsync(HttpFilterContext context)
    {
        var body = context.RequestBody;
        var framed = new byte[GrpcProtocol.FrameHeaderSize + body.Length];
        GrpcRouteStats.WriteFrameHeader(framed, 0, body.Length);
        body.Span.CopyTo(framed.AsSpan(GrpcProtocol.FrameHeaderSize));
        context.RequestBody = framed;
        return new(FilterStatus.Continue);
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<BridgeStream>() is { } stream && !StreamEnds.ResponseHasNoBody(http))
        {
            ResponseBodyLayer.Install(http, new BridgedResponseBody(http, stream));
        }
        return new(FilterStatus.Continue);
    }

    public void OnComplete(HttpFilterContext context) => ResponseBodyLayer.FinishAll(context.HttpContext);
}

/// <summary>One bridged request: whether it was framed, its captured trailers, and the listener's <c>rs_too_large</c>.</summary>
internal sealed record BridgeStream(bool Framing, CapturedTrailers Trailers, Counter? TooLarge);

/// <summary>The bridged response, held whole (Envoy's StopIterationAndBuffer) until the stream ends, then sent with its status from the trailers.</summary>
internal sealed class BridgedResponseBody(HttpContext context, BridgeStream stream) : ResponseBodyLayer(context)
{
    private static readonly byte[] InternalServerError = "Internal Server Error"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _body = new();
    private bool _overflowed;

    protected override bool HoldsResponse => true;

    // The length is set from the held body once it is complete.
    protected override bool ChangesLength => false;

    protected override ValueTask TransformAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Keep(data.Span);
        return default;
    }

    protected override void TransformSync(ReadOnlySpan<byte> data) => Keep(data);

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (_overflowed || _body.WrittenCount + data.Length > FilterChainStream.BufferLimit)
        {
            // Envoy's encoder buffer limit (1 MiB): the response becomes a 500.
            _overflowed = true;
            return;
        }
        _body.Write(data);
    }

    protected override void OnFinish()
    {
        var response = Context.Response;
        if (response.HasStarted)
        {
            return;
        }
        if (_overflowed)
        {
            stream.TooLarge?.Increment();
            response.Headers.Clear();
            response.StatusCode = StatusCodes.Status500InternalServerError;
            response.ContentType = "text/plain";
            response.ContentLength = InternalServerError.Length;
            WriteNextSync(InternalServerError);
            return;
        }
        var body = _body.WrittenSpan;
        if (stream.Framing)
        {
            // Envoy drains the frame header off the first chunk of the reply.
            body = body[Math.Min(GrpcProtocol.FrameHeaderSize, body.Length)..];
        }
        var trailers = stream.Trailers.Trailers;
        if (trailers.Count != 0)
        {
            if (trailers.TryGetValue(GrpcProtocol.StatusHeader, out var status))
            {
                var text = status.ToString();
                if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code != 0)
                {
                    response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                }
                response.Headers[GrpcProtocol.StatusHeader] = text;
            }
            if (trailers.TryGetValue(GrpcProtocol.MessageHeader, out var message))
            {
                response.Headers[GrpcProtocol.MessageHeader] = message;
            }
            // So that an HTTP/1.1 client can tell the response is complete.
            response.ContentLength = body.Length;
        }
        else if (response.ContentLength is { } length && length != body.Length)
        {
            response.ContentLength = null;
        }
        if (!body.IsEmpty)
        {
            WriteNextSync(body);
        }
    }
}
