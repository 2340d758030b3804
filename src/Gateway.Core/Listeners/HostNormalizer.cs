using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>Which port the connection manager strips from the Host header (<c>strip_matching_host_port</c> / <c>strip_any_host_port</c>).</summary>
internal enum StripPortMode
{
    None,
    MatchingListener,
    Any,
}

/// <summary>
/// Envoy's ConnectionManagerUtility::maybeNormalizeHost, before the route is chosen (so the route and the upstream see
/// the result): <c>strip_trailing_host_dot</c>, then the port per <see cref="StripPortMode"/>.
/// </summary>
internal static class HostNormalizer
{
    public static void Normalize(HttpRequest request, bool stripTrailingDot, StripPortMode stripPort, int listenerPort)
    {
        var original = request.Headers.Host;
        if (original.Count != 1)
        {
            return;
        }
        var host = original.ToString();
        var normalized = host;
        if (stripTrailingDot)
        {
            var portStart = PortStart(normalized);
            if (portStart >= 0)
            {
                if (portStart > 0 && normalized[portStart - 1] == '.')
                {
                    normalized = string.Concat(normalized.AsSpan(0, portStart - 1), normalized.AsSpan(portStart));
                }
            }
            else if (normalized.EndsWith('.'))
            {
                normalized = normalized[..^1];
            }
        }
        if (stripPort != StripPortMode.None)
        {
            var portStart = PortStart(normalized);
            // HeaderUtility::stripPortFromHost: only a numeric port, and in matching mode only the listener's.
            if (portStart >= 0 && uint.TryParse(normalized.AsSpan(portStart + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
                && (stripPort == StripPortMode.Any || port == listenerPort))
            {
                normalized = normalized[..portStart];
            }
        }
        if (!ReferenceEquals(normalized, host))
        {
            request.Headers.Host = normalized;
        }
    }

    /// <summary>HeaderUtility::getPortStart: the last ':' unless it is inside an IPv6 literal's brackets; -1 when none.</summary>
    private static int PortStart(string host)
    {
        var colon = host.LastIndexOf(':');
        if (colon < 0)
        {
            return -1;
        }
        var bracket = host.LastIndexOf(']');
        return bracket < 0 || bracket < colon ? colon : -1;
    }
}
