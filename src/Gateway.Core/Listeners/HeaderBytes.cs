using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Listeners;

/// <summary>
/// Header bytes as Envoy treats them: values are opaque bytes (obs-text 0x80–0xFF included) forwarded
/// unchanged, so every hop decodes and encodes them as Latin-1 (one char per byte); values with control
/// characters and names that are not tokens are a codec error (400).
/// </summary>
internal static class HeaderBytes
{
    /// <summary>
    /// Latin-1 for encoding towards the upstream: a char above 0xFF cannot come from a client (Kestrel
    /// decodes Latin-1) and is refused rather than silently sent as '?'. The failure happens while the
    /// headers are serialized, before anything is written to the connection.
    /// </summary>
    public static readonly Encoding StrictLatin1 = Encoding.GetEncoding("iso-8859-1", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    /// <summary>
    /// Envoy's HeaderUtility::headerValueIsValid (nghttp2_check_header_value): VCHAR, obs-text, SP and
    /// HTAB; everything else (0x00–0x08, 0x0A–0x1F, 0x7F) is invalid.
    /// </summary>
    private static readonly SearchValues<char> InvalidValueChars = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    /// <summary>RFC 9110 tchar: what Envoy's HTTP/1 parser accepts in a header name.</summary>
    private static readonly SearchValues<char> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // Enumerating IHeaderDictionary boxes an enumerator per request; copying into a reused buffer does not
    // allocate, except that Kestrel formats a Content-Length value as a string when the request has one.
    [ThreadStatic]
    private static KeyValuePair<string, StringValues>[]? t_buffer;

    /// <summary>
    /// A header value from the config as the bytes Envoy sends (the string's UTF-8), one char per byte:
    /// what the Latin-1 hops then write unchanged. ASCII, the usual case, is returned as is.
    /// </summary>
    public static string FromConfig(string value)
        => System.Text.Ascii.IsValid(value) ? value : Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(value));

    /// <summary>Whether every request header has a token name and a value Envoy's codec accepts.</summary>
    public static bool AreValid(IHeaderDictionary headers) => AreValid(headers, out _);

    /// <summary>
    /// The request header names with an underscore anywhere (Envoy's headerNameContainsUnderscore), or null when none
    /// has one; allocates only when one does.
    /// </summary>
    public static List<string>? NamesWithUnderscore(IHeaderDictionary headers)
    {
        var count = headers.Count;
        if (count == 0)
        {
            return null;
        }
        var buffer = Snapshot(headers, count);
        List<string>? names = null;
        for (var i = 0; i < count; i++)
        {
            var name = buffer[i].Key;
            if (name.Contains('_', StringComparison.Ordinal))
            {
                (names ??= []).Add(name);
            }
        }
        Array.Clear(buffer, 0, count);
        return names;
    }

    /// <summary>
    /// The headers copied into the thread's reused buffer (enumerating IHeaderDictionary would box its enumerator); the
    /// caller clears the first <paramref name="count"/> entries when done, so the buffer keeps no strings alive.
    /// </summary>
    private static KeyValuePair<string, StringValues>[] Snapshot(IHeaderDictionary headers, int count)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Length < count)
        {
            t_buffer = buffer = new KeyValuePair<string, StringValues>[Math.Max(count, 32)];
        }
        headers.CopyTo(buffer, 0);
        return buffer;
    }

    /// <summary>Whether <paramref name="name"/> is a non-empty RFC 9110 token (a header name the codecs carry).</summary>
    public static bool IsToken(string name) => name.Length != 0 && !name.AsSpan().ContainsAnyExcept(TokenChars);

    /// <summary>Whether <paramref name="value"/> holds a character Envoy's codec refuses in a header value (control characters but HTAB).</summary>
    public static bool HasInvalidValueChars(ReadOnlySpan<char> value) => value.ContainsAny(InvalidValueChars);

    /// <summary>
    /// Whether every request header has a token name and a value Envoy's codec accepts; <paramref name="size"/> is
    /// every name and value together, as Envoy counts them against <c>max_request_headers_kb</c> (getHeadersSize).
    /// </summary>
    public static bool AreValid(IHeaderDictionary headers, out long size)
    {
        size = 0;
        var count = headers.Count;
        if (count == 0)
        {
            return true;
        }
        var buffer = Snapshot(headers, count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var (name, values) = buffer[i];
                if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(TokenChars))
                {
                    return false;
                }
                size += values.Count == 0 ? name.Length : 0;
                foreach (var value in values)
                {
                    if (value is not null && value.AsSpan().ContainsAny(InvalidValueChars))
                    {
                        return false;
                    }
                    size += name.Length + (value?.Length ?? 0);
                }
            }
            return true;
        }
        finally
        {
            // The buffer outlives the request: it must not keep its strings alive.
            Array.Clear(buffer, 0, count);
        }
    }
}
