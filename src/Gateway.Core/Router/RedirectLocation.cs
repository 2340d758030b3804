using Gateway.Listeners;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Router;

/// <summary>
/// The <c>location</c> of a route's <c>redirect</c> (Envoy's rewritePathHeader with the redirect's prefix rewrite, then
/// Http::Utility::newUri): scheme, host, port and path, each configured or the request's.
/// </summary>
internal static class RedirectLocation
{
    /// <param name="scheme">The request's scheme as the router sees it (<c>:scheme</c>).</param>
    /// <param name="pathAndQuery">The request's (normalized) <c>:path</c>.</param>
    public static string Build(RedirectPlan redirect, RouteRuntime route, IHeaderDictionary headers, string scheme, string pathAndQuery)
    {
        var finalScheme = redirect.Scheme ?? scheme;
        var host = redirect.Host ?? RequestHost(headers.Host.ToString(), headers[EnvoyHeaders.ForwardedProto].ToString(), finalScheme, redirect.Port is not null);
        string path;
        if (redirect.Path is { } configured)
        {
            // A path_redirect with its own query replaces the request's; without one, the request's query follows it.
            var query = redirect.PathHasQuery ? -1 : pathAndQuery.IndexOf('?', StringComparison.Ordinal);
            path = query < 0 ? configured : string.Concat(configured, pathAndQuery.AsSpan(query));
        }
        else
        {
            path = redirect.PrefixRewrite is { } rewrite ? PrefixRewritten(route, rewrite, pathAndQuery)
                : route.RedirectRegexRewrite is { } regexRewrite ? RouterHeaders.RegexRewritten(regexRewrite, pathAndQuery)
                : pathAndQuery;
        }
        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }
        if (redirect.StripQuery && !redirect.PathHasQuery)
        {
            var query = path.IndexOf('?', StringComparison.Ordinal);
            if (query >= 0)
            {
                path = path[..query];
            }
        }
        return string.Concat(finalScheme, "://", host, redirect.Port, path);
    }

    /// <summary>Envoy's rewritePathByPrefixOrRegex for a prefix: the matched prefix (or path) replaced; unchanged when it does not lead the path.</summary>
    private static string PrefixRewritten(RouteRuntime route, string rewrite, string pathAndQuery)
    {
        if (route.MatchedPrefix is { } matched && pathAndQuery.StartsWith(matched, StringComparison.OrdinalIgnoreCase))
        {
            return string.Concat(rewrite, pathAndQuery.AsSpan(matched.Length));
        }
        return pathAndQuery;
    }

    /// <summary>
    /// Envoy's processRequestHost: the Host without its port when the redirect sets a port, or when the scheme changes from
    /// the <c>x-forwarded-proto</c> one and the port is that protocol's default (:443 for https, :80 for http).
    /// </summary>
    private static string RequestHost(string host, string forwardedProto, string newScheme, bool hasPortRedirect)
    {
        if (host.Length == 0)
        {
            return host;
        }
        int portStart;
        if (host[0] == '[')
        {
            portStart = host.LastIndexOf("]:", StringComparison.Ordinal);
            portStart = portStart < 0 ? -1 : portStart + 1;
        }
        else
        {
            portStart = host.LastIndexOf(':');
        }
        if (portStart < 0)
        {
            return host;
        }
        var port = host.AsSpan(portStart);
        var remove = hasPortRedirect;
        if (!string.Equals(newScheme, forwardedProto, StringComparison.Ordinal))
        {
            remove |= string.Equals(forwardedProto, "https", StringComparison.OrdinalIgnoreCase) && port.SequenceEqual(":443");
            remove |= string.Equals(forwardedProto, "http", StringComparison.OrdinalIgnoreCase) && port.SequenceEqual(":80");
        }
        return remove ? host[..portStart] : host;
    }
}
