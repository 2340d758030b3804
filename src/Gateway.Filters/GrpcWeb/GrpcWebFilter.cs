using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Gateway.Filters.Common;
using Gateway.Grpc;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.GrpcWeb;

/// <summary>
/// <c>envoy.filters.http.grpc_web</c>: gRPC-Web clients (<c>application/grpc-web</c>, <c>+proto</c>, and the base64
/// <c>application/grpc-web-text</c> forms) in front of a gRPC upstream. The request becomes <c>application/grpc</c>; the
/// response gets gRPC-Web's content type, its trailers become the body's final 0x80 frame, and a reply that is not gRPC
/// (an HTTP error from an upstream that does not speak gRPC, a local reply) is carried as <c>grpc-status</c> and
/// <c>grpc-message</c> headers, as Envoy's grpc_web_filter.cc does. Stats: <c>cluster.&lt;name&gt;.grpc-web.&lt;service&gt;.&lt;method&gt;.*</c>.
/// </summary>
public sealed class GrpcWebFilterFactory : HttpFilterFactory<GrpcWebConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.grpc_web";

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(GrpcWebConfig config, HttpFilterFactoryContext context) => new GrpcWebFilter();
}

/// <summary>The grpc_web filter of one listener (it has no settings: one instance would do).</summary>
internal sealed class GrpcWebFilter : IHttpFilter
{
    public const string GrpcWeb = "application/grpc-web";
    public const string GrpcWebProto = "application/grpc-web+proto";
    public const string GrpcWebText = "application/grpc-web-text";
    public const string GrpcWebTextProto = "application/grpc-web-text+proto";

    /// <summary>Envoy's GrpcAcceptEncodingValues.Default, added when the client sent no <c>grpc-accept-encoding</c>.</summary>
    private const string DefaultGrpcAcceptEncoding = "identity,deflate,gzip";

    private const string BadBase64 = "Bad gRPC-web request, invalid base64 data.";

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.RequestBody | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers;
        var contentType = headers.ContentType;
        var type = contentType.Count == 0 ? null : contentType[0];
        // Envoy's isGrpcWebRequest: the content type is exactly one of the four.
        if (type is not (GrpcWeb or GrpcWebProto or GrpcWebText or GrpcWebTextProto))
        {
            context.SkipRequestBody();
            return new(FilterStatus.Continue);
        }
        var stream = new GrpcWebStream(CapturedTrailers.Capture(http), type)
        {
            TextRequest = type is GrpcWebText or GrpcWebTextProto,
            Stats = ResolveStats(context),
        };
        // content-length counted HTTP/1.1 payload bytes, not the h2 DATA the upstream gets (the text body shrinks too).
        headers.ContentLength = null;
        headers.ContentType = GrpcProtocol.ContentType;
        var accept = headers.Accept;
        if (accept.Count != 0 && accept.ToString() is GrpcWebText or GrpcWebTextProto)
        {
            stream.TextResponse = true;
        }
        headers.TE = "trailers";
        if (!headers.ContainsKey("grpc-accept-encoding"))
        {
            headers["grpc-accept-encoding"] = DefaultGrpcAcceptEncoding;
        }
        http.Features.Set(stream);
        if (!stream.TextRequest)
        {
            // A binary body is already gRPC's framing: it streams through.
            context.SkipRequestBody();
        }
        return new(FilterStatus.Continue);
    }

    /// <summary>Envoy's setupStatTracking: the routed cluster's stats for the request's service and method, when both exist.</summary>
    private static GrpcCallStats? ResolveStats(HttpFilterContext context)
    {
        if (GrpcRouteStats.For(context) is not { } cluster)
        {
            return null;
        }
        var path = GrpcRouteStats.PathOf(context);
        return GrpcProtocol.TryResolveServiceAndMethod(path, out var service, out var method)
            ? cluster.Method(GrpcStatsProtocol.GrpcWeb, path[service], path[method])
            : null;
    }

    /// <summary>
    /// A <c>grpc-web-text</c> body, decoded from base64 (gRPC-Web has no client streaming, so the body is whole). Envoy's
    /// replies to a body that is not base64: 400, which this filter's own encoder turns into <c>grpc-status</c> 13.
    /// </summary>
    public ValueTask<FilterStatus> OnRequestBodyAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var stream = http.Features.Get<GrpcWebStream>()!;
        var body = context.RequestBody;
        if (body.IsEmpty)
        {
            return new(FilterStatus.Continue);
        }
        string? failure = null;
        if (body.Length % 4 != 0)
        {
            // Base64 padding is mandatory.
            failure = "grpc_base_64_decode_failed_bad_size";
        }
        else
        {
            var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(body.Length)];
            if (Base64.DecodeFromUtf8(body.Span, decoded, out _, out var written) != OperationStatus.Done || written == 0)
            {
                failure = "grpc_base_64_decode_failed";
            }
            else
            {
                context.RequestBody = decoded.AsMemory(0, written);
            }
        }
        if (failure is null)
        {
            return new(FilterStatus.Continue);
        }
        // Envoy's local reply from this filter is not a gRPC one: the request it saw was gRPC-Web.
        http.Request.Headers.ContentType = stream.RequestContentType;
        return new(context.SendLocalReply(StatusCodes.Status400BadRequest, BadBase64, failure));
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<GrpcWebStream>() is not { } stream)
        {
            return new(FilterStatus.Continue);
        }
        var response = http.Response;
        if (stream.Stats is { } stats && response.Headers.TryGetValue(GrpcProtocol.StatusHeader, out var status))
        {
            // A trailers-only response carries its status here.
            stats.ChargeStatus(status.ToString());
        }
        var endStream = StreamEnds.ResponseHasNoBody(http);
        var transform = !GrpcProtocol.IsGrpcResponse(response, endStream) && !IsProtoEncodedGrpcWebResponse(response);
        // The body's length changes (frames re-encoded, trailers appended, or the body moved into a header).
        response.ContentLength = null;
        response.ContentType = stream.TextResponse ? GrpcWebTextProto : GrpcWebProto;
        if (!endStream)
        {
            ResponseBodyLayer.Install(http, new GrpcWebResponseBody(http, stream, transform));
        }
        return new(FilterStatus.Continue);
    }

    /// <summary>Envoy's isProtoEncodedGrpcWebResponseHeaders: a 200 whose media type (parameters aside) is gRPC-Web's, in any case.</summary>
    private static bool IsProtoEncodedGrpcWebResponse(HttpResponse response)
    {
        if (response.StatusCode != StatusCodes.Status200OK)
        {
            return false;
        }
        var contentType = response.Headers.ContentType;
        if (contentType.Count == 0 || contentType[0] is not { } value)
        {
            return false;
        }
        var media = value.AsSpan();
        var semicolon = media.IndexOf(';');
        if (semicolon >= 0)
        {
            media = media[..semicolon];
        }
        media = media.TrimEnd();
        return media.Equals(GrpcWebProto, StringComparison.OrdinalIgnoreCase) || media.Equals(GrpcWeb, StringComparison.OrdinalIgnoreCase);
    }

    public void OnComplete(HttpFilterContext context)
    {
        var http = context.HttpContext;
        ResponseBodyLayer.FinishAll(http);
        if (http.Features.Get<GrpcWebStream>() is { Stats: { } stats } stream
            && stream.Trailers.Trailers.TryGetValue(GrpcProtocol.StatusHeader, out var status))
        {
            stats.ChargeStatus(status.ToString());
        }
    }
}

/// <summary>One gRPC-Web request's state: its text modes, the captured trailers and the stats it charges.</summary>
internal sealed class GrpcWebStream(CapturedTrailers trailers, string requestContentType)
{
    public CapturedTrailers Trailers { get; } = trailers;

    /// <summary>The client's content type (restored on the request before this filter's own local reply).</summary>
    public string RequestContentType { get; } = requestContentType;

    public bool TextRequest { get; init; }

    public bool TextResponse { get; set; }

    public GrpcCallStats? Stats { get; init; }
}

/// <summary>
/// A gRPC-Web response body: gRPC frames pass through (base64-encoded one by one for a text client), and the captured
/// trailers are written at the end as gRPC-Web's trailer frame (flags 0x80, <c>name:value\r\n</c> lines). A response that is
/// not gRPC is held instead: up to 16 KiB of it becomes <c>grpc-message</c>, its HTTP status <c>grpc-status</c>
/// (httpToGrpcStatus), and the body is empty.
/// </summary>
internal sealed class GrpcWebResponseBody : ResponseBodyLayer
{
    /// <summary>Envoy's MAX_BUFFERED_PLAINTEXT_LENGTH: the most of a non-gRPC body kept for grpc-message.</summary>
    private const int MaxBufferedPlaintext = 16384;

    private const byte TrailerFlag = 0x80;

    private readonly GrpcWebStream _stream;
    private readonly bool _hold;
    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly ArrayBufferWriter<byte> _output = new();

    public GrpcWebResponseBody(HttpContext context, GrpcWebStream stream, bool hold)
        : base(context)
    {
        _stream = stream;
        _hold = hold;
    }

    protected override bool HoldsResponse => _hold;

    protected override ValueTask TransformAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_hold)
        {
            Keep(data.Span);
            return default;
        }
        if (!_stream.TextResponse)
        {
            return WriteNextAsync(data, cancellationToken);
        }
        if (!EncodeFrames(data.Span))
        {
            return default;
        }
        return WriteOutputAsync(cancellationToken);
    }

    private async ValueTask WriteOutputAsync(CancellationToken cancellationToken)
    {
        await WriteNextAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _output.ResetWrittenCount();
    }

    protected override void TransformSync(ReadOnlySpan<byte> data)
    {
        if (_hold)
        {
            Keep(data);
        }
        else if (!_stream.TextResponse)
        {
            WriteNextSync(data);
        }
        else if (EncodeFrames(data))
        {
            WriteNextSync(_output.WrittenSpan);
            _output.ResetWrittenCount();
        }
    }

    private void Keep(ReadOnlySpan<byte> data)
    {
        var room = MaxBufferedPlaintext - _pending.WrittenCount;
        if (room > 0)
        {
            _pending.Write(data[..Math.Min(room, data.Length)]);
        }
    }

    /// <summary>Envoy's encodeData for a text client: each complete gRPC frame, base64-encoded on its own; a partial frame waits.</summary>
    private bool EncodeFrames(ReadOnlySpan<byte> data)
    {
        _pending.Write(data);
        var pending = _pending.WrittenSpan;
        var consumed = 0;
        while (pending.Length - consumed >= GrpcProtocol.FrameHeaderSize)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(pending.Slice(consumed + 1, 4));
            var frame = (long)GrpcProtocol.FrameHeaderSize + length;
            if (pending.Length - consumed < frame)
            {
                break;
            }
            AppendBase64(pending.Slice(consumed, (int)frame));
            consumed += (int)frame;
        }
        if (consumed > 0)
        {
            var rest = pending[consumed..].ToArray();
            _pending.ResetWrittenCount();
            _pending.Write(rest);
        }
        return _output.WrittenCount > 0;
    }

    private void AppendBase64(ReadOnlySpan<byte> data)
    {
        var span = _output.GetSpan(Base64.GetMaxEncodedToUtf8Length(data.Length));
        Base64.EncodeToUtf8(data, span, out _, out var written);
        _output.Advance(written);
    }

    protected override void OnFinish()
    {
        var response = Context.Response;
        if (_hold)
        {
            // Envoy's setTransformedNonProtoEncodedResponseHeaders: nothing has been sent, the headers can still change.
            if (!response.HasStarted)
            {
                response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage(_pending.WrittenSpan);
                response.Headers[GrpcProtocol.StatusHeader] = GrpcProtocol.HttpToGrpcStatus(response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.ContentLength = 0;
            }
            return;
        }
        var trailers = _stream.Trailers.Trailers;
        if (trailers.Count == 0)
        {
            return;
        }
        // Envoy's encodeTrailers: every trailer as "name:value\r\n" in one frame (the trailers stay readable for the
        // stats and access logs, and the client gets them only in the body).
        var lines = new ArrayBufferWriter<byte>();
        foreach (var (name, values) in trailers)
        {
            foreach (var value in values)
            {
                Append(lines, name);
                Append(lines, ":");
                Append(lines, value ?? string.Empty);
                Append(lines, "\r\n");
            }
        }
        var frame = new byte[GrpcProtocol.FrameHeaderSize + lines.WrittenCount];
        GrpcRouteStats.WriteFrameHeader(frame, TrailerFlag, lines.WrittenCount);
        lines.WrittenSpan.CopyTo(frame.AsSpan(GrpcProtocol.FrameHeaderSize));
        if (_stream.TextResponse)
        {
            AppendBase64(frame);
            WriteNextSync(_output.WrittenSpan);
            _output.ResetWrittenCount();
        }
        else
        {
            WriteNextSync(frame);
        }
    }

    private static void Append(ArrayBufferWriter<byte> output, string text)
    {
        // Header bytes are Latin-1 both ways in this gateway.
        var span = output.GetSpan(text.Length);
        var written = Encoding.Latin1.GetBytes(text, span);
        output.Advance(written);
    }
}
