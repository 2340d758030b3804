using Microsoft.Extensions.Primitives;

namespace Gateway.Routing;

/// <summary>Reading the request's <c>cookie</c> headers as Envoy does (hash policies, the header-to-metadata filter).</summary>
internal static class HttpCookies
{
    /// <summary>Envoy's Utility::parseCookieValue: the first cookie named <paramref name="name"/>, without surrounding quotes.</summary>
    public static ReadOnlySpan<char> Value(StringValues headers, string name)
    {
        foreach (var header in headers)
        {
            var rest = header.AsSpan();
            while (!rest.IsEmpty)
            {
                var end = rest.IndexOf(';');
                var part = end < 0 ? rest : rest[..end];
                rest = end < 0 ? [] : rest[(end + 1)..];
                part = part.TrimStart(' ');
                var equals = part.IndexOf('=');
                if (equals < 0 || !part[..equals].SequenceEqual(name))
                {
                    continue;
                }
                var value = part[(equals + 1)..];
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }
                return value;
            }
        }
        return [];
    }
}
