namespace Gateway.Filters.Csrf;

/// <summary>
/// The host-and-port of an absolute URL as Envoy's <c>Http::Utility::Url</c> takes it from http_parser: a scheme of
/// letters, <c>://</c>, the authority without its userinfo (the port only when written, an IPv6 address with its
/// brackets), up to the path, query or fragment. Spans only: nothing is allocated.
/// </summary>
internal static class UrlAuthority
{
    /// <summary>The host and port of <paramref name="url"/>, or false when it is not an absolute URL http_parser accepts.</summary>
    public static bool TryGetHostAndPort(ReadOnlySpan<char> url, out ReadOnlySpan<char> hostAndPort)
    {
        hostAndPort = default;
        var scheme = 0;
        while (scheme < url.Length && char.IsAsciiLetter(url[scheme]))
        {
            scheme++;
        }
        if (scheme == 0 || !url[scheme..].StartsWith("://", StringComparison.Ordinal))
        {
            return false;
        }
        return TryGetAuthority(url[(scheme + 3)..], out hostAndPort);
    }

    /// <summary>The host and port of what follows <c>scheme://</c>.</summary>
    public static bool TryGetAuthority(ReadOnlySpan<char> afterScheme, out ReadOnlySpan<char> hostAndPort)
    {
        hostAndPort = default;
        var end = afterScheme.IndexOfAny('/', '?', '#');
        var authority = end < 0 ? afterScheme : afterScheme[..end];
        if (end >= 0)
        {
            foreach (var c in afterScheme[end..])
            {
                // http_parser refuses spaces and control characters anywhere in a URL.
                if (c <= ' ' || c == '\x7f')
                {
                    return false;
                }
            }
        }
        var at = authority.IndexOf('@');
        if (at >= 0)
        {
            foreach (var c in authority[..at])
            {
                if (!IsUserinfoChar(c))
                {
                    return false;
                }
            }
            authority = authority[(at + 1)..];
        }
        if (authority.IsEmpty)
        {
            return false;
        }
        int hostEnd;
        if (authority[0] == '[')
        {
            var close = authority.IndexOf(']');
            if (close < 2)
            {
                return false;
            }
            foreach (var c in authority[1..close])
            {
                if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
                {
                    return false;
                }
            }
            hostEnd = close + 1;
        }
        else
        {
            hostEnd = 0;
            while (hostEnd < authority.Length && IsHostChar(authority[hostEnd]))
            {
                hostEnd++;
            }
            if (hostEnd == 0)
            {
                return false;
            }
        }
        if (hostEnd < authority.Length)
        {
            if (authority[hostEnd] != ':')
            {
                return false;
            }
            var port = authority[(hostEnd + 1)..];
            if (port.IsEmpty || port.Length > 5)
            {
                return false;
            }
            var value = 0;
            foreach (var c in port)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
                value = (value * 10) + (c - '0');
            }
            if (value > ushort.MaxValue)
            {
                return false;
            }
        }
        hostAndPort = authority;
        return true;
    }

    // http_parser without HTTP_PARSER_STRICT: letters, digits, '.', '-' and '_'.
    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_';

    private static bool IsUserinfoChar(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')' or '%' or ';' or ':' or '&' or '=' or '+' or '$' or ',';
}
