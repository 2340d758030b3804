using System.Buffers.Binary;
using Gateway.Grpc;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Common;

/// <summary>
/// Response trailers held by the gateway instead of the server (Grpc.AspNetCore.Web's approach): YARP copies the
/// upstream's trailers into whatever <see cref="IHttpResponseTrailersFeature"/> the request has, so a filter that turns
/// them into something else (gRPC-Web's trailer frame, the bridge's headers), or must read them on an HTTP/1.1 stream
/// whose server cannot send trailers, installs this one in its request-headers hook.
/// </summary>
internal sealed class CapturedTrailers : IHttpResponseTrailersFeature
{
    public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();

    /// <summary>The trailers are the gateway's from now on, whatever the server supports (they never reach the client as trailers).</summary>
    public static CapturedTrailers Capture(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpResponseTrailersFeature>() is CapturedTrailers captured)
        {
            return captured;
        }
        captured = new CapturedTrailers();
        features.Set<IHttpResponseTrailersFeature>(captured);
        return captured;
    }

    /// <summary>Captures the trailers only when the server could not send them (HTTP/1.1), so they can still be read.</summary>
    public static void CaptureIfUnsupported(HttpContext context)
    {
        if (!context.Response.SupportsTrailers())
        {
            Capture(context);
        }
    }

    /// <summary>The response's trailers as the upstream sent them (empty when none, or when the server's feature has none).</summary>
    public static IHeaderDictionary? Of(HttpContext context) => context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
}

/// <summary>
/// Envoy's Grpc::FrameInspector: counts the gRPC messages in a body as it passes, chunk by chunk, without buffering (a
/// message is counted when its flags byte is seen).
/// </summary>
internal sealed class GrpcFrameInspector
{
    private int _state;
    private uint _length;
    private long _remaining;

    /// <summary>The messages seen so far.</summary>
    public long Count { get; private set; }

    /// <summary>Inspects the next chunk; returns how many messages started in it.</summary>
    public long Inspect(ReadOnlySpan<byte> data)
    {
        long delta = 0;
        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case 0:
                    Count++;
                    delta++;
                    _length = 0;
                    _state = 1;
                    i++;
                    break;
                case <= 4:
                    _length = (_length << 8) | data[i];
                    i++;
                    if (_state == 4)
                    {
                        _remaining = _length;
                        _state = _length == 0 ? 0 : 5;
                    }
                    else
                    {
                        _state++;
                    }
                    break;
                default:
                    var skip = (int)Math.Min(_remaining, data.Length - i);
                    i += skip;
                    _remaining -= skip;
                    if (_remaining == 0)
                    {
                        _state = 0;
                    }
                    break;
            }
        }
        return delta;
    }
}

/// <summary>Where the gRPC filters find the routed cluster's gRPC stats (Envoy's decoder_callbacks_->clusterInfo()).</summary>
internal static class GrpcRouteStats
{
    /// <summary>The stats of the route's cluster when the route names one (not a direct response or a per-request cluster).</summary>
    public static GrpcClusterStats? For(HttpFilterContext context) => (context.Route as RouteRuntime)?.Cluster?.Stats.Grpc;

    /// <summary>Envoy's <c>:path</c> as the filter sees it (after the connection manager's normalization and earlier filters).</summary>
    public static string PathOf(HttpFilterContext context)
        => (context as Gateway.Filters.FilterChainStream)?.PathAndQuery ?? context.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "/";

    /// <summary>Writes gRPC's 5-byte message prefix (flags, big-endian length).</summary>
    public static void WriteFrameHeader(Span<byte> destination, byte flags, int length)
    {
        destination[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }
}
