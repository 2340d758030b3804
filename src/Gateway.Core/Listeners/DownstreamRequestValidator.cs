using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gateway.Listeners;

/// <summary>What <see cref="DownstreamRequestValidator"/> decided about a request.</summary>
internal enum DownstreamVerdict : byte
{
    /// <summary>A plain request: route it.</summary>
    Accept,

    /// <summary>
    /// An upgrade (<c>connection: upgrade</c> with an <c>upgrade</c> header, h2c excepted, or HTTP/2 extended
    /// CONNECT): the upgrade configuration decides it (<see cref="Upgrades.UpgradeAdmission"/>); refused on a route, 403.
    /// </summary>
    Upgrade,

    /// <summary>A CONNECT in authority form (an upgrade of type <c>CONNECT</c>): it has no path, so only <c>connect_matcher</c> routes could match it.</summary>
    Connect,

    /// <summary>Envoy's codec error 400 <c>Bad Request</c>.</summary>
    BadRequest,

    /// <summary>Envoy's codec error 426 <c>Upgrade Required</c> (HTTP/1.0 and <c>accept_http_10</c> off).</summary>
    UpgradeRequired,

    /// <summary>Envoy's codec error 501 <c>Not Implemented</c> (a transfer-encoding other than chunked).</summary>
    NotImplemented,

    /// <summary>Envoy's codec error 431 <c>Request Header Fields Too Large</c> (<c>max_request_headers_kb</c>).</summary>
    HeadersTooLarge,
}

/// <summary>
/// The request checks of Envoy's HTTP/1 codec (codec_impl.cc onHeadersCompleteImpl, balsa_parser.cc with
/// Envoy's validation policy) that Kestrel does not make itself, run on what Kestrel parsed before the
/// connection manager does anything else. Kestrel already answers 400 for what both refuse (missing or
/// repeated Host, obs-fold, lone CR, whitespace before the colon, repeated or non-numeric content-length,
/// bad chunk framing), 505 for unknown versions and 431 above its header limits. No allocation on the
/// accepted path (but Kestrel's formatting of a content-length value, see <see cref="HeaderBytes"/>).
/// </summary>
internal static class DownstreamRequestValidator
{
    /// <summary>Envoy's default <c>max_headers_count</c>.</summary>
    public const int MaxRequestHeadersCount = 100;

    private static readonly byte[] UpgradeRequiredBody = Encoding.ASCII.GetBytes("Upgrade Required");
    private static readonly byte[] NotImplementedBody = Encoding.ASCII.GetBytes("Not Implemented");
    private static readonly byte[] HeadersTooLargeBody = Encoding.ASCII.GetBytes("Request Header Fields Too Large");

    /// <summary>Whether the verdict is one of Envoy's codec errors (answered at once, the connection closed).</summary>
    public static bool IsCodecError(DownstreamVerdict verdict) => verdict >= DownstreamVerdict.BadRequest;

    /// <summary>The status of a codec error.</summary>
    public static int Status(DownstreamVerdict verdict) => verdict switch
    {
        DownstreamVerdict.UpgradeRequired => StatusCodes.Status426UpgradeRequired,
        DownstreamVerdict.NotImplemented => StatusCodes.Status501NotImplemented,
        DownstreamVerdict.HeadersTooLarge => StatusCodes.Status431RequestHeaderFieldsTooLarge,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>The body of a codec error: the status's reason phrase, as Envoy's codec sends it (sendProtocolError).</summary>
    public static byte[] Body(DownstreamVerdict verdict) => verdict switch
    {
        DownstreamVerdict.UpgradeRequired => UpgradeRequiredBody,
        DownstreamVerdict.NotImplemented => NotImplementedBody,
        DownstreamVerdict.HeadersTooLarge => HeadersTooLargeBody,
        _ => LocalReply.BadRequest,
    };

    /// <summary>Where Kestrel moves a <c>content-length</c> that came with <c>transfer-encoding</c>.</summary>
    private const string KestrelMovedContentLength = "x-content-length";

    /// <summary>
    /// Checks one request against a connection manager's <c>max_request_headers_kb</c> (in bytes); may remove the
    /// h2c upgrade headers, as Envoy's codec does.
    /// </summary>
    public static DownstreamVerdict Validate(HttpContext context, int maxRequestHeadersBytes, bool acceptHttp10 = false, bool allowChunkedLength = false)
    {
        var request = context.Request;
        var headers = request.Headers;
        // Every header name a token and every value free of control characters, on any protocol (checked as the
        // headers are read, before anything else Envoy's codec checks).
        if (!HeaderBytes.AreValid(headers, out var headerBytes))
        {
            return DownstreamVerdict.BadRequest;
        }
        var protocol = request.Protocol;
        if (HttpProtocol.IsHttp2(protocol))
        {
            // Envoy's HTTP/2 codec turns an extended CONNECT (RFC 8441) into an upgrade; a plain CONNECT has no path.
            if (HttpMethods.IsConnect(request.Method))
            {
                return context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true ? DownstreamVerdict.Upgrade : DownstreamVerdict.Connect;
            }
            return DownstreamVerdict.Accept;
        }
        if (!HttpProtocol.IsHttp11(protocol) && !HttpProtocol.IsHttp10(protocol))
        {
            return DownstreamVerdict.Accept;
        }

        // The request line, as Balsa reads it: a method Envoy knows (allow_custom_methods is off), a target of visible ASCII.
        var method = request.Method;
        if (!IsKnownMethod(method))
        {
            return DownstreamVerdict.BadRequest;
        }
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        if (!IsValidTarget(target))
        {
            return DownstreamVerdict.BadRequest;
        }

        // The URL with every header name and value fits max_request_headers_kb (Envoy's getHeadersSize).
        if (target.Length + headerBytes > maxRequestHeadersBytes)
        {
            return DownstreamVerdict.HeadersTooLarge;
        }

        var verdict = DownstreamVerdict.Accept;
        var isConnect = ReferenceEquals(method, HttpMethods.Connect) || string.Equals(method, HttpMethods.Connect, StringComparison.Ordinal);
        if (isConnect)
        {
            verdict = DownstreamVerdict.Connect;
        }
        else if (IsUpgrade(headers))
        {
            if (string.Equals(headers.Upgrade, "h2c", StringComparison.OrdinalIgnoreCase))
            {
                // Envoy ignores h2c upgrades (envoyproxy/envoy#7161): the headers go and the request is a plain one.
                RemoveH2cUpgrade(headers);
            }
            else
            {
                verdict = DownstreamVerdict.Upgrade;
            }
        }

        // Framing. Kestrel moves a content-length sent with transfer-encoding to x-content-length.
        var transferEncoding = headers.TransferEncoding;
        var hasContentLength = headers.ContentLength is not null;
        if (isConnect && hasContentLength && headers.ContentLength != 0)
        {
            return DownstreamVerdict.BadRequest;
        }
        if (transferEncoding.Count != 0 && (hasContentLength || headers.ContainsKey(KestrelMovedContentLength)))
        {
            if (!allowChunkedLength || isConnect)
            {
                // Both framing headers: a smuggling attempt, unless allow_chunked_length lets chunked win.
                return DownstreamVerdict.BadRequest;
            }
            // Envoy's codec with allow_chunked_length: the content-length is dropped and the body read chunked.
            headers.ContentLength = null;
            headers.Remove(KestrelMovedContentLength);
        }
        if (transferEncoding.Count != 0 && (isConnect || transferEncoding.Count != 1 || !string.Equals(transferEncoding[0], "chunked", StringComparison.OrdinalIgnoreCase)))
        {
            return DownstreamVerdict.NotImplemented;
        }
        if (verdict == DownstreamVerdict.Accept && headers.Connection.Count != 0 && !SanitizeConnection(headers))
        {
            return DownstreamVerdict.BadRequest;
        }
        if (isConnect && (target.Length == 0 || target[0] == '/'))
        {
            // A CONNECT target must be host:port (Utility::Url::initialize for CONNECT).
            return DownstreamVerdict.BadRequest;
        }
        if (HttpProtocol.IsHttp10(protocol) && !acceptHttp10)
        {
            // Envoy's checkProtocolVersion without accept_http_10.
            return DownstreamVerdict.UpgradeRequired;
        }
        return verdict;
    }

    /// <summary>
    /// Envoy's Utility::sanitizeConnectionHeader (not for upgrades): refuses 10 or more tokens, a nominated
    /// <c>x-forwarded-for</c>/<c>-host</c>/<c>-proto</c> or pseudo-header, a nominated <c>te</c> of 256 bytes or
    /// more; removes the other headers <c>connection</c> nominates. Allocates only when it removes one.
    /// </summary>
    private static bool SanitizeConnection(IHeaderDictionary headers)
    {
        var connection = headers.Connection;
        var tokens = 0;
        List<string>? nominated = null;
        foreach (var value in connection)
        {
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var token = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (token.IsEmpty)
                {
                    continue;
                }
                if (++tokens >= 10)
                {
                    return false;
                }
                if (token.Equals("close", StringComparison.OrdinalIgnoreCase) || token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase) || token.Equals("http2-settings", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("connection", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (token[0] == ':' || token.Equals("x-forwarded-for", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("x-forwarded-host", StringComparison.OrdinalIgnoreCase) || token.Equals("x-forwarded-proto", StringComparison.OrdinalIgnoreCase))
                {
                    // Removing these could hide where the request came from.
                    return false;
                }
                if (token.Equals("te", StringComparison.OrdinalIgnoreCase))
                {
                    if (headers.TE.ToString().Length >= 256)
                    {
                        return false;
                    }
                    // The forwarder drops te as hop-by-hop.
                    continue;
                }
                (nominated ??= []).Add(token.ToString());
            }
        }
        if (nominated is not null)
        {
            foreach (var name in nominated)
            {
                headers.Remove(name);
            }
        }
        return true;
    }

    /// <summary>Envoy's Utility::isUpgrade: an <c>upgrade</c> header and the <c>upgrade</c> token in <c>connection</c>.</summary>
    private static bool IsUpgrade(IHeaderDictionary headers)
    {
        if (headers.Upgrade.Count == 0)
        {
            return false;
        }
        foreach (var value in headers.Connection)
        {
            if (ContainsToken(value, "upgrade"))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Removes what an h2c upgrade adds: upgrade, the upgrade and http2-settings tokens of connection, http2-settings.</summary>
    private static void RemoveH2cUpgrade(IHeaderDictionary headers)
    {
        headers.Remove(HeaderNames.Upgrade);
        headers.Remove("http2-settings");
        var kept = new StringBuilder();
        foreach (var value in headers.Connection)
        {
            foreach (var token in (value ?? string.Empty).Split(','))
            {
                var trimmed = token.Trim();
                if (trimmed.Length == 0 || trimmed.Equals("upgrade", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("http2-settings", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                kept.Append(kept.Length == 0 ? string.Empty : ",").Append(trimmed);
            }
        }
        if (kept.Length == 0)
        {
            headers.Remove(HeaderNames.Connection);
        }
        else
        {
            headers.Connection = kept.ToString();
        }
    }

    /// <summary>Whether a comma-separated header value holds <paramref name="token"/> (ASCII case-insensitive).</summary>
    private static bool ContainsToken(string? value, string token)
    {
        var rest = value.AsSpan();
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var item = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
            if (item.Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            rest = comma < 0 ? default : rest[(comma + 1)..];
        }
        return false;
    }

    /// <summary>Balsa's isUrlValid for the target characters: TAB, FF and visible ASCII.</summary>
    private static bool IsValidTarget(string target)
    {
        foreach (var c in target)
        {
            if (c is not ('\t' or '\f' or (>= '!' and <= '~')))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The methods Envoy's HTTP/1 codec accepts without <c>allow_custom_methods</c> (balsa_parser.cc), case-sensitive.</summary>
    internal static bool IsKnownMethod(string method)
    {
        // Kestrel hands out its interned strings for the common methods.
        if (ReferenceEquals(method, HttpMethods.Get) || ReferenceEquals(method, HttpMethods.Post) || ReferenceEquals(method, HttpMethods.Put)
            || ReferenceEquals(method, HttpMethods.Delete) || ReferenceEquals(method, HttpMethods.Head) || ReferenceEquals(method, HttpMethods.Options)
            || ReferenceEquals(method, HttpMethods.Patch))
        {
            return true;
        }
        return method switch
        {
            "ACL" or "BIND" or "CHECKOUT" or "CONNECT" or "COPY" or "DELETE" or "GET" or "HEAD" or "LINK" or "LOCK" or "MERGE"
                or "MKACTIVITY" or "MKCALENDAR" or "MKCOL" or "MOVE" or "MSEARCH" or "NOTIFY" or "OPTIONS" or "PATCH" or "POST"
                or "PROPFIND" or "PROPPATCH" or "PURGE" or "PUT" or "REBIND" or "REPORT" or "SEARCH" or "SOURCE" or "SUBSCRIBE"
                or "TRACE" or "UNBIND" or "UNLINK" or "UNLOCK" or "UNSUBSCRIBE" => true,
            _ => false,
        };
    }
}
