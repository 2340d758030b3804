namespace Gateway.Filters.Compression;

/// <summary>Comma-separated header values read in place (Envoy's StringUtil token helpers), without allocating.</summary>
internal static class HeaderTokens
{
    /// <summary>True when one of <paramref name="value"/>'s comma-separated tokens is <paramref name="token"/> (trimmed; case-insensitive unless told).</summary>
    public static bool Contains(ReadOnlySpan<char> value, string token, StringComparison comparison = StringComparison.OrdinalIgnoreCase)
    {
        foreach (var range in value.Split(','))
        {
            if (value[range].Trim().Equals(token, comparison))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A media type without its parameters: <c>text/html; charset=utf-8</c> is <c>text/html</c>.</summary>
    public static ReadOnlySpan<char> MediaType(ReadOnlySpan<char> contentType)
    {
        var semicolon = contentType.IndexOf(';');
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }

    /// <summary>
    /// The first coding of a <c>content-encoding</c> value (Envoy decompresses the one listed first) and the rest.
    /// </summary>
    public static ReadOnlySpan<char> FirstCoding(ReadOnlySpan<char> value, out ReadOnlySpan<char> rest)
    {
        var comma = value.IndexOf(',');
        if (comma < 0)
        {
            rest = default;
            return value.Trim();
        }
        rest = value[(comma + 1)..].Trim();
        return value[..comma].Trim();
    }
}
