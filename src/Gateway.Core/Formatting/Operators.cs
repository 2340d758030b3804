using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Formatting;

/// <summary>Which header map a header operator reads.</summary>
internal enum HeaderSource
{
    Request,
    Response,
    Trailer,
}

/// <summary>
/// <c>%REQ(X?Y)%</c>, <c>%RESP(X?Y)%</c>, <c>%TRAILER(X?Y)%</c> (and <c>%REQ_WITHOUT_QUERY%</c>): the first value of
/// header X, else of Y. The request's <c>:method</c>, <c>:path</c>, <c>:authority</c>, <c>:scheme</c> and the response's
/// <c>:status</c> are read from the request, where ASP.NET Core keeps them.
/// </summary>
internal sealed class HeaderOperator : FormatOperator
{
    private readonly HeaderSource _source;
    private readonly string _main;
    private readonly string? _alternative;
    private readonly bool _withoutQuery;
    private readonly Pseudo _mainPseudo;
    private readonly Pseudo _alternativePseudo;

    /// <summary>The request pseudo-headers Envoy's formatter reads, resolved when the format is compiled.</summary>
    private enum Pseudo
    {
        None,
        Method,
        Path,
        Authority,
        Scheme,
        Status,
        Unknown,
    }

    public HeaderOperator(HeaderSource source, string main, string? alternative, bool withoutQuery)
    {
        _mainPseudo = PseudoOf(main);
        _alternativePseudo = alternative is null ? Pseudo.None : PseudoOf(alternative);
        _source = source;
        _main = KnownHeaderNames.Canonical(main);
        _alternative = alternative is null ? null : KnownHeaderNames.Canonical(alternative);
        _withoutQuery = withoutQuery;
    }

    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        var start = output.Length;
        if (!AppendHeader(context, _main, _mainPseudo, output) && (_alternative is null || !AppendHeader(context, _alternative, _alternativePseudo, output)))
        {
            return false;
        }
        if (_withoutQuery)
        {
            for (var i = start; i < output.Length; i++)
            {
                if (output[i] == '?')
                {
                    output.Length = i;
                    break;
                }
            }
        }
        return true;
    }

    private static Pseudo PseudoOf(string name) => name switch
    {
        ":method" => Pseudo.Method,
        ":path" => Pseudo.Path,
        ":authority" => Pseudo.Authority,
        ":scheme" => Pseudo.Scheme,
        ":status" => Pseudo.Status,
        _ => name.StartsWith(':') ? Pseudo.Unknown : Pseudo.None,
    };

    private bool AppendHeader(in FormatterContext context, string name, Pseudo pseudo, StringBuilder output)
    {
        if (pseudo != Pseudo.None)
        {
            return AppendPseudo(context, pseudo, output);
        }
        var headers = _source switch
        {
            HeaderSource.Request => context.RequestHeaders,
            HeaderSource.Response => context.ResponseHeaders,
            _ => context.ResponseTrailers,
        };
        if (headers is null || !headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return false;
        }
        // Envoy logs the first of repeated headers.
        output.Append(values[0]);
        return true;
    }

    private bool AppendPseudo(in FormatterContext context, Pseudo pseudo, StringBuilder output)
    {
        var http = context.Http;
        if (http is null)
        {
            return false;
        }
        if (_source == HeaderSource.Response)
        {
            if (pseudo == Pseudo.Status && context.StreamInfo is { ResponseCode: > 0 } info)
            {
                output.Append(info.ResponseCode);
                return true;
            }
            return false;
        }
        if (_source != HeaderSource.Request)
        {
            return false;
        }
        var request = http.Request;
        switch (pseudo)
        {
            case Pseudo.Method:
                output.Append(request.Method);
                return true;
            case Pseudo.Path:
                output.Append(request.PathBase.ToUriComponent()).Append(request.Path.ToUriComponent()).Append(request.QueryString.Value);
                return true;
            case Pseudo.Authority:
                // The Host header as received (HttpRequest.Host would parse it into a HostString on every read).
                var host = request.Headers.Host;
                if (host.Count == 0 || string.IsNullOrEmpty(host[0]))
                {
                    return false;
                }
                output.Append(host[0]);
                return true;
            case Pseudo.Scheme:
                output.Append(request.Scheme);
                return true;
            default:
                return false;
        }
    }
}

/// <summary><c>%PROTOCOL%</c>: the downstream protocol as Envoy names it (<c>HTTP/1.1</c>, <c>HTTP/2</c>, <c>HTTP/3</c>).</summary>
internal sealed class ProtocolOperator : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        var protocol = context.Http?.Request.Protocol;
        if (string.IsNullOrEmpty(protocol))
        {
            return false;
        }
        output.Append(protocol);
        return true;
    }
}

/// <summary>A string read from the stream info; a missing or empty value is no value.</summary>
internal sealed class StreamInfoStringOperator(Func<RequestStreamInfo, string?> read, bool spacesToUnderscores = false) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (context.StreamInfo is not { } info || read(info) is not { Length: > 0 } value)
        {
            return false;
        }
        if (!spacesToUnderscores)
        {
            output.Append(value);
            return true;
        }
        var start = output.Length;
        output.Append(value);
        for (var i = start; i < output.Length; i++)
        {
            // Envoy's StringUtil::replaceAllEmptySpace: spaces and other whitespace become '_' so the field stays one token.
            if (output[i] is ' ' or '\t' or '\f' or '\v' or '\n' or '\r')
            {
                output[i] = '_';
            }
        }
        return true;
    }
}

/// <summary>An integer of the stream info: Envoy prints 0 when it is not known (response code, bytes, attempts).</summary>
internal sealed class StreamInfoNumberOperator(Func<RequestStreamInfo, long> read, bool bodyBytes = false) : NumberOperator
{
    public override bool TryGetValue(in FormatterContext context, out long value)
    {
        value = context.StreamInfo is { } info ? read(info) : 0;
        return true;
    }

    public override bool NeedsBodyBytes => bodyBytes;
}

/// <summary>A duration of the stream info in whole milliseconds (truncated, as Envoy's duration_cast).</summary>
internal sealed class DurationOperator(Func<RequestStreamInfo, TimeSpan?> read) : NumberOperator
{
    public override bool TryGetValue(in FormatterContext context, out long value)
    {
        if (context.StreamInfo is { } info && read(info) is { } duration && duration >= TimeSpan.Zero)
        {
            value = duration.Ticks / TimeSpan.TicksPerMillisecond;
            return true;
        }
        value = 0;
        return false;
    }
}

/// <summary><c>%COMMON_DURATION(START:END:PRECISION)%</c> between two of the stream info's time points.</summary>
internal sealed class CommonDurationOperator(Func<RequestStreamInfo, TimeSpan?> start, Func<RequestStreamInfo, TimeSpan?> end, long ticksPerUnit, long unitsPerTick) : NumberOperator
{
    public override bool TryGetValue(in FormatterContext context, out long value)
    {
        value = 0;
        if (context.StreamInfo is not { } info || start(info) is not { } from || end(info) is not { } to || to < from)
        {
            return false;
        }
        var ticks = (to - from).Ticks;
        value = unitsPerTick > 0 ? ticks * unitsPerTick : ticks / ticksPerUnit;
        return true;
    }
}

/// <summary><c>%RESPONSE_FLAGS%</c> and <c>%RESPONSE_FLAGS_LONG%</c>: the flags in Envoy's order, comma-separated; <c>-</c> for none.</summary>
internal sealed class ResponseFlagsOperator(bool longNames) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        var flags = context.StreamInfo?.ResponseFlags ?? ResponseFlags.None;
        ResponseFlagNames.Append(flags, longNames, output);
        return true;
    }
}

/// <summary>
/// Envoy's short and long response flag names (ResponseFlagUtils), by bit of <see cref="ResponseFlags"/>: the one table,
/// for the formatter and for the access log's <c>response_flag_filter</c>.
/// </summary>
internal static class ResponseFlagNames
{
    /// <summary>Short names, by bit.</summary>
    public static readonly string[] Short =
    [
        "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE",
        "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DR", "UDO",
    ];

    /// <summary>Long names, by bit.</summary>
    public static readonly string[] Long =
    [
        "FailedLocalHealthCheck", "NoHealthyUpstream", "UpstreamRequestTimeout", "LocalReset", "UpstreamRemoteReset",
        "UpstreamConnectionFailure", "UpstreamConnectionTermination", "UpstreamOverflow", "NoRouteFound", "DelayInjected",
        "FaultInjected", "RateLimited", "UnauthorizedExternalService", "RateLimitServiceError", "DownstreamConnectionTermination",
        "UpstreamRetryLimitExceeded", "StreamIdleTimeout", "InvalidEnvoyRequestHeaders", "DownstreamProtocolError",
        "UpstreamMaxStreamDurationReached", "ResponseFromCacheFilter", "NoFilterConfigFound", "DurationTimeout",
        "UpstreamProtocolError", "NoClusterFound", "OverloadManagerTerminated", "DnsResolutionFailed", "DropOverload",
        "DownstreamRemoteReset", "UnconditionalDropOverload",
    ];

    /// <summary>The flag of a short name (<c>response_flag_filter</c>'s <c>flags</c>), or null when Envoy has no such flag.</summary>
    public static ResponseFlags? Find(string name)
    {
        for (var bit = 0; bit < Short.Length; bit++)
        {
            if (string.Equals(Short[bit], name, StringComparison.Ordinal))
            {
                return (ResponseFlags)(1L << bit);
            }
        }
        return null;
    }

    /// <summary>Appends the flags' names, comma-separated, or <c>-</c> when there is none (Envoy's ResponseFlagUtils::NONE).</summary>
    public static void Append(ResponseFlags flags, bool longNames, StringBuilder output)
    {
        if (flags == ResponseFlags.None)
        {
            output.Append('-');
            return;
        }
        var names = longNames ? Long : Short;
        var first = true;
        for (var bit = 0; bit < names.Length; bit++)
        {
            if (((long)flags & (1L << bit)) != 0)
            {
                if (!first)
                {
                    output.Append(',');
                }
                output.Append(names[bit]);
                first = false;
            }
        }
    }
}

/// <summary>Which address an address operator reads.</summary>
internal enum AddressSource
{
    /// <summary>The stream's downstream remote address: the one <c>x-forwarded-for</c> gave, else the connection's peer.</summary>
    DownstreamRemote,
    /// <summary>The connection's peer.</summary>
    DownstreamDirectRemote,
    DownstreamLocal,
    UpstreamRemote,
}

/// <summary>How an address operator prints it.</summary>
internal enum AddressPart
{
    WithPort,
    WithoutPort,
    Port,
}

/// <summary>
/// <c>%DOWNSTREAM_REMOTE_ADDRESS%</c> and its kin: <c>ip:port</c> (<c>[v6]:port</c>), the address alone, or the port
/// alone (a JSON number, as Envoy's JustPort).
/// </summary>
internal sealed class AddressOperator(AddressSource source, AddressPart part) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (source == AddressSource.UpstreamRemote)
        {
            return AppendHostPort(context.StreamInfo?.Host?.Address, output);
        }
        IPAddress? address;
        int port;
        if (source == AddressSource.DownstreamRemote && context.StreamInfo?.ForwardedRemoteAddress is { } forwarded)
        {
            // Envoy parses the x-forwarded-for entry into an address without a port: it prints as port 0.
            address = forwarded;
            port = 0;
        }
        else
        {
            var connection = context.Connection;
            var local = source == AddressSource.DownstreamLocal;
            address = connection is null ? null : local ? connection.LocalIpAddress : connection.RemoteIpAddress;
            if (address is null)
            {
                return false;
            }
            port = local ? connection!.LocalPort : connection!.RemotePort;
        }
        if (part == AddressPart.Port)
        {
            output.Append(port);
            return true;
        }
        Span<char> text = stackalloc char[64];
        if (!address.TryFormat(text, out var written))
        {
            return false;
        }
        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (part == AddressPart.WithoutPort)
        {
            output.Append(text[..written]);
            return true;
        }
        if (v6)
        {
            output.Append('[').Append(text[..written]).Append(']');
        }
        else
        {
            output.Append(text[..written]);
        }
        output.Append(':').Append(port);
        return true;
    }

    public override bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch)
    {
        if (part != AddressPart.Port)
        {
            return base.AppendJson(context, output, scratch);
        }
        // The port alone is a number.
        return Append(context, output);
    }

    private bool AppendHostPort(string? hostPort, StringBuilder output)
    {
        if (string.IsNullOrEmpty(hostPort))
        {
            return false;
        }
        var span = hostPort.AsSpan();
        var colon = span.LastIndexOf(':');
        var hasPort = colon > 0 && (span[0] != '[' || span[colon - 1] == ']');
        switch (part)
        {
            case AddressPart.WithPort:
                output.Append(span);
                return true;
            case AddressPart.WithoutPort:
                var host = hasPort ? span[..colon] : span;
                if (host.Length > 1 && host[0] == '[' && host[^1] == ']')
                {
                    host = host[1..^1];
                }
                output.Append(host);
                return true;
            default:
                if (!hasPort)
                {
                    return false;
                }
                output.Append(span[(colon + 1)..]);
                return true;
        }
    }
}

/// <summary><c>%UPSTREAM_HOST_NAME%</c> (and <c>_WITHOUT_PORT</c>): the host's name, which for this gateway's hosts is their address.</summary>
internal sealed class UpstreamHostNameOperator(bool withoutPort) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (context.StreamInfo?.Host?.Address is not { Length: > 0 } address)
        {
            return false;
        }
        var span = address.AsSpan();
        if (withoutPort)
        {
            // Envoy's HeaderUtility::stripPortFromHost: a trailing :digits after the host (or after ']').
            var colon = span.LastIndexOf(':');
            if (colon > 0 && (span[0] != '[' || span[colon - 1] == ']'))
            {
                span = span[..colon];
            }
        }
        output.Append(span);
        return true;
    }
}

/// <summary><c>%REQUESTED_SERVER_NAME%</c>: the TLS SNI, sanitized as Envoy does; none without TLS.</summary>
internal sealed class RequestedServerNameOperator : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (context.Http?.Features.Get<ITlsHandshakeFeature>()?.HostName is not { Length: > 0 } name)
        {
            return false;
        }
        foreach (var c in name)
        {
            // Envoy's StringUtil::sanitizeInvalidHostname keeps letters, digits, '-', '.', '_' and ':'.
            output.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':' ? c : '_');
        }
        return true;
    }
}

/// <summary>A value fixed when the format is compiled (<c>%HOSTNAME%</c>, <c>%ENVIRONMENT(X)%</c>); null for none.</summary>
internal sealed class ConstantOperator(string? value) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (value is null)
        {
            return false;
        }
        output.Append(value);
        return true;
    }
}

/// <summary><c>%LOCAL_REPLY_BODY%</c>: the local reply's body; empty (not missing) when there is none, as Envoy.</summary>
internal sealed class LocalReplyBodyOperator : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        output.Append(context.LocalReplyBody);
        return true;
    }
}

/// <summary><c>%ACCESS_LOG_TYPE%</c>: Envoy's AccessLogType_Name.</summary>
internal sealed class AccessLogTypeOperator : FormatOperator
{
    private static readonly string[] Names = Enum.GetNames<AccessLogType>();

    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        output.Append(Names[(int)context.AccessLogType]);
        return true;
    }
}

/// <summary><c>%UNIQUE_ID%</c>: a new random (version 4) UUID for every entry, from the injected random source.</summary>
internal sealed class UniqueIdOperator(Random random) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        Span<char> text = stackalloc char[36];
        var position = 0;
        for (var i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10)
            {
                text[position++] = '-';
            }
            text[position++] = HexLower(bytes[i] >> 4);
            text[position++] = HexLower(bytes[i] & 0xF);
        }
        output.Append(text);
        return true;
    }

    private static char HexLower(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
}

/// <summary><c>%TRACE_ID%</c>: the active span's trace id; none when the request is not traced.</summary>
internal sealed class TraceIdOperator : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (context.StreamInfo?.Span.TraceId is not { Length: > 0 } id)
        {
            return false;
        }
        output.Append(id);
        return true;
    }
}

/// <summary>A header map's size as Envoy's HeaderMap::byteSize counts it: every name and value, without separators.</summary>
internal sealed class HeadersBytesOperator(HeaderSource source) : NumberOperator
{
    public override bool TryGetValue(in FormatterContext context, out long value)
    {
        value = 0;
        var headers = source switch
        {
            HeaderSource.Request => context.RequestHeaders,
            HeaderSource.Response => context.ResponseHeaders,
            _ => context.ResponseTrailers,
        };
        if (headers is not null)
        {
            foreach (var header in headers)
            {
                // Envoy keeps the HTTP/1 Host header as :authority.
                var isHost = source == HeaderSource.Request && string.Equals(header.Key, "Host", StringComparison.OrdinalIgnoreCase);
                foreach (var item in header.Value)
                {
                    value += (isHost ? ":authority".Length : header.Key.Length) + (item?.Length ?? 0);
                }
            }
        }
        if (context.Http is { } http)
        {
            if (source == HeaderSource.Request)
            {
                var request = http.Request;
                value += ":method".Length + request.Method.Length + ":scheme".Length + request.Scheme.Length;
                value += ":path".Length + request.PathBase.ToUriComponent().Length + request.Path.ToUriComponent().Length + (request.QueryString.Value?.Length ?? 0);
                if (request.Host.HasValue && headers is not null && !headers.ContainsKey("Host"))
                {
                    value += ":authority".Length + request.Host.Value.Length;
                }
            }
            else if (source == HeaderSource.Response && context.StreamInfo is { ResponseCode: > 0 })
            {
                value += ":status".Length + 3;
            }
        }
        return true;
    }
}

/// <summary><c>%GRPC_STATUS(FORMAT)%</c> and <c>%GRPC_STATUS_NUMBER%</c>: grpc-status of the trailers, else the headers, else mapped from the HTTP status; only for gRPC requests.</summary>
internal sealed class GrpcStatusOperator(GrpcStatusOperator.Style style) : FormatOperator
{
    private static readonly string[] Camel =
    [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
        "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    ];

    private static readonly string[] Snake =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    /// <summary>The three spellings of <c>%GRPC_STATUS(...)%</c>.</summary>
    public enum Style
    {
        CamelString,
        SnakeString,
        Number,
    }

    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (!TryGetStatus(context, out var status))
        {
            return false;
        }
        var names = style switch { Style.CamelString => Camel, Style.SnakeString => Snake, _ => null };
        if (names is not null && status >= 0 && status < names.Length)
        {
            output.Append(names[status]);
        }
        else
        {
            output.Append(status);
        }
        return true;
    }

    public override bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch)
    {
        if (style != Style.Number)
        {
            return base.AppendJson(context, output, scratch);
        }
        if (!TryGetStatus(context, out var status))
        {
            return false;
        }
        output.Append(status);
        return true;
    }

    private static bool TryGetStatus(in FormatterContext context, out int status)
    {
        status = 0;
        // Envoy (validate_grpc_header_before_log_grpc_status): only a request with a gRPC content type has a gRPC status.
        if (context.RequestHeaders is not { } request || !request.TryGetValue("content-type", out var type) || type.Count == 0
            || !(type[0] ?? string.Empty).StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        if (Read(context.ResponseTrailers, out status) || Read(context.ResponseHeaders, out status))
        {
            return true;
        }
        if (context.StreamInfo is { ResponseCode: > 0 and var code })
        {
            // Envoy's Grpc::Utility::httpToGrpcStatus.
            status = code switch
            {
                400 => 13,
                401 => 16,
                403 => 7,
                404 => 12,
                429 or 502 or 503 or 504 => 14,
                _ => 2,
            };
            return true;
        }
        return false;
    }

    private static bool Read(IHeaderDictionary? headers, out int status)
    {
        status = 0;
        return headers is not null && headers.TryGetValue("grpc-status", out var value) && value.Count > 0
            && int.TryParse(value[0], NumberStyles.None, CultureInfo.InvariantCulture, out status);
    }
}

/// <summary>Which time a time operator prints.</summary>
internal enum TimeSource
{
    Start,
    Emit,
}

/// <summary><c>%START_TIME(FORMAT)%</c>, <c>%START_TIME_LOCAL%</c>, <c>%EMIT_TIME%</c>, <c>%EMIT_TIME_LOCAL%</c>.</summary>
internal sealed class TimeOperator(TimeSource source, DateFormatter formatter, TimeProvider time) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        DateTimeOffset value;
        if (source == TimeSource.Emit)
        {
            value = time.GetUtcNow();
        }
        else if (context.StreamInfo is { } info)
        {
            value = info.StartTime;
        }
        else
        {
            return false;
        }
        formatter.Append(value, output);
        return true;
    }
}

/// <summary>Where a metadata operator reads.</summary>
internal enum MetadataSource
{
    Dynamic,
    Cluster,
    UpstreamHost,
    Route,
    VirtualHost,
}

/// <summary>
/// <c>%DYNAMIC_METADATA(NS:KEY...)%</c>, <c>%CLUSTER_METADATA%</c>, <c>%UPSTREAM_METADATA%</c> and <c>%METADATA(TYPE:...)%</c>:
/// the namespace's object without keys, else the value at the key path. Text prints a string as is and anything else as
/// JSON; JSON keeps the value's type (Envoy's MetadataFormatter).
/// </summary>
internal sealed class MetadataOperator(MetadataSource source, string filterNamespace, string[] path) : FormatOperator, IJsonTypedOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output) => Write(context, output, json: false);

    public override bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch) => Write(context, output, json: true);

    private bool Write(in FormatterContext context, StringBuilder output, bool json)
    {
        if (context.StreamInfo is not { } info)
        {
            return false;
        }
        if (source == MetadataSource.Dynamic)
        {
            return info.FindDynamicMetadata(filterNamespace) is { } ns && WriteNode(ns, output, json);
        }
        var metadata = source switch
        {
            MetadataSource.Cluster => info.UpstreamCluster?.Metadata,
            MetadataSource.UpstreamHost => info.Host?.Metadata,
            MetadataSource.Route => info.Route?.Metadata,
            _ => info.Route?.VirtualHostMetadata,
        };
        return metadata is not null && metadata.TryGetNamespace(filterNamespace, out var element) && WriteElement(element, output, json);
    }

    private bool WriteNode(JsonObject ns, StringBuilder output, bool json)
    {
        JsonNode? node = ns;
        foreach (var key in path)
        {
            if (node is not JsonObject current || !current.TryGetPropertyValue(key, out node))
            {
                return false;
            }
        }
        if (node is null)
        {
            return false;
        }
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            if (json)
            {
                JsonText.AppendString(output, text);
            }
            else
            {
                output.Append(text);
            }
            return true;
        }
        output.Append(node.ToJsonString());
        return true;
    }

    private bool WriteElement(JsonElement element, StringBuilder output, bool json)
    {
        foreach (var key in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element))
            {
                return false;
            }
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return false;
            case JsonValueKind.String:
                var text = element.GetString()!;
                if (json)
                {
                    JsonText.AppendString(output, text);
                }
                else
                {
                    output.Append(text);
                }
                return true;
            default:
                output.Append(element.GetRawText());
                return true;
        }
    }
}
