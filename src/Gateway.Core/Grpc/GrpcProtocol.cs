using Microsoft.AspNetCore.Http;

namespace Gateway.Grpc;

/// <summary>
/// The gRPC-over-HTTP/2 facts the gateway shares (Envoy's Grpc::Common and Grpc::Utility): which requests are gRPC, how an
/// HTTP status maps to a gRPC status and back, and how <c>grpc-message</c> is percent-encoded.
/// </summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";

    /// <summary>Envoy's Grpc::Common::hasGrpcContentType: <c>application/grpc</c>, alone or followed by '+' or ';' (so not gRPC-Web).</summary>
    public static bool IsGrpc(string? contentType)
        => contentType is not null && contentType.StartsWith(ContentType, StringComparison.Ordinal)
           && (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';');

    /// <summary>The first <c>content-type</c> of <paramref name="headers"/> is gRPC's (Envoy reads the first).</summary>
    public static bool IsGrpc(IHeaderDictionary headers)
    {
        var values = headers.ContentType;
        return values.Count != 0 && IsGrpc(values[0]);
    }

    /// <summary>Envoy's <c>application/x-protobuf</c> (Grpc::Common::hasProtobufContentType: the whole value, exactly).</summary>
    public const string ProtobufContentType = "application/x-protobuf";

    /// <summary>The 5-byte gRPC message prefix: a flags byte and the big-endian length.</summary>
    public const int FrameHeaderSize = 5;

    /// <summary>
    /// Envoy's Grpc::Common::isGrpcResponseHeaders: a headers-only response is gRPC when it carries <c>grpc-status</c>
    /// (trailers-only); otherwise it must be a 200 with gRPC's content type.
    /// </summary>
    public static bool IsGrpcResponse(HttpResponse response, bool endStream)
        => endStream ? response.Headers.ContainsKey(StatusHeader) : response.StatusCode == StatusCodes.Status200OK && IsGrpc(response.Headers);

    /// <summary>
    /// Envoy's Grpc::Common::resolveServiceAndMethod: the <c>:path</c> before any query, split on '/' with empty pieces
    /// dropped, must be exactly two pieces (<c>/package.Service/Method</c>); their positions in <paramref name="pathAndQuery"/>.
    /// </summary>
    public static bool TryResolveServiceAndMethod(string pathAndQuery, out Range service, out Range method)
    {
        service = default;
        method = default;
        var path = pathAndQuery.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }
        var pieces = 0;
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '/')
            {
                i++;
                continue;
            }
            var end = path[i..].IndexOf('/');
            end = end < 0 ? path.Length : i + end;
            if (++pieces > 2)
            {
                return false;
            }
            if (pieces == 1)
            {
                service = i..end;
            }
            else
            {
                method = i..end;
            }
            i = end;
        }
        return pieces == 2;
    }

    /// <summary>Envoy's Grpc::Utility::httpToGrpcStatus (grpc's http-grpc-status-mapping.md).</summary>
    public static int HttpToGrpcStatus(int httpStatus) => httpStatus switch
    {
        400 => 13, // INTERNAL
        401 => 16, // UNAUTHENTICATED
        403 => 7, // PERMISSION_DENIED
        404 => 12, // UNIMPLEMENTED
        429 or 502 or 503 or 504 => 14, // UNAVAILABLE
        _ => 2, // UNKNOWN
    };

    /// <summary>Envoy's Grpc::Utility::grpcToHttpStatus (Google's API error mapping); an unknown code is 500.</summary>
    public static int GrpcToHttpStatus(int grpcStatus) => grpcStatus switch
    {
        0 => 200,
        1 => 499,
        2 => 500,
        3 => 400,
        4 => 504,
        5 => 404,
        6 => 409,
        7 => 403,
        8 => 429,
        9 => 400,
        10 => 409,
        11 => 400,
        12 => 501,
        13 => 500,
        14 => 503,
        15 => 500,
        16 => 401,
        _ => 500,
    };

    /// <summary>
    /// Envoy's PercentEncoding::encode for <c>grpc-message</c> (gRPC's PROTOCOL-HTTP2 "Responses"): each byte of the UTF-8 text
    /// below ' ', from '~' up, or '%' becomes <c>%XX</c>; text without one is returned as is.
    /// </summary>
    public static string EncodeMessage(ReadOnlySpan<byte> utf8)
    {
        var escape = 0;
        foreach (var b in utf8)
        {
            if (MustEscape(b))
            {
                escape++;
            }
        }
        if (escape == 0)
        {
            return System.Text.Encoding.ASCII.GetString(utf8);
        }
        return string.Create(utf8.Length + (2 * escape), utf8.ToArray(), static (chars, bytes) =>
        {
            var j = 0;
            foreach (var b in bytes)
            {
                if (MustEscape(b))
                {
                    chars[j++] = '%';
                    chars[j++] = Hex(b >> 4);
                    chars[j++] = Hex(b & 0xF);
                }
                else
                {
                    chars[j++] = (char)b;
                }
            }
        });

        static bool MustEscape(byte b) => b < 0x20 || b >= 0x7E || b == '%';

        static char Hex(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);
    }
}
