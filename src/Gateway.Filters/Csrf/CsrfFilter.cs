using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Filters.Csrf;

/// <summary>
/// Envoy's CSRF filter for one listener: the route's most specific <c>CsrfPolicy</c> (else the filter's) decides
/// whether the request is checked (<c>filter_enabled</c>) or only counted (<c>shadow_enabled</c>). A POST, PUT,
/// DELETE or PATCH is valid when its source origin (the host and port of <c>Origin</c>, else of <c>Referer</c>)
/// equals the destination's (the host and port of <c>Host</c>) or matches <c>additional_origins</c>; otherwise it is
/// answered 403 <c>Invalid origin</c> (<c>csrf_origin_mismatch</c>). Stats: <c>csrf.missing_source_origin</c>,
/// <c>csrf.request_invalid</c> (both for a request without a source), <c>csrf.request_valid</c>.
/// </summary>
internal sealed class CsrfFilter(CompiledCsrfPolicy policy, CsrfStats stats, Random random) : IHttpFilter
{
    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var current = context.RouteConfig<CompiledCsrfPolicy>() ?? policy;
        var enabled = current.FilterEnabled.Evaluate(random);
        if (!enabled && !current.ShadowEnabled.Evaluate(random))
        {
            return new(FilterStatus.Continue);
        }
        var request = context.HttpContext.Request;
        if (!IsModifyMethod(request.Method))
        {
            return new(FilterStatus.Continue);
        }
        var headers = request.Headers;
        var source = HostAndPort(Value(headers.Origin));
        if (source.IsEmpty)
        {
            source = HostAndPort(Value(headers.Referer));
        }
        var valid = true;
        if (source.IsEmpty)
        {
            valid = false;
            stats.MissingSourceOrigin.Increment();
        }
        if (!IsValid(source, Value(headers.Host), request.Scheme, current))
        {
            valid = false;
            stats.RequestInvalid.Increment();
        }
        if (valid)
        {
            stats.RequestValid.Increment();
            return new(FilterStatus.Continue);
        }
        if (!enabled)
        {
            // Shadow mode: counted, not enforced.
            return new(FilterStatus.Continue);
        }
        return new(context.SendLocalReply(StatusCodes.Status403Forbidden, "Invalid origin", "csrf_origin_mismatch"));
    }

    // Envoy compares the method case-sensitively.
    private static bool IsModifyMethod(string method)
        => string.Equals(method, HttpMethods.Post, StringComparison.Ordinal)
            || string.Equals(method, HttpMethods.Put, StringComparison.Ordinal)
            || string.Equals(method, HttpMethods.Delete, StringComparison.Ordinal)
            || string.Equals(method, HttpMethods.Patch, StringComparison.Ordinal);

    /// <summary>A header's value as Envoy's header map holds it: several lines joined with ','.</summary>
    private static string Value(StringValues values) => values.Count switch
    {
        0 => string.Empty,
        1 => values[0] ?? string.Empty,
        _ => values.ToString(),
    };

    /// <summary>Envoy's hostAndPort: the URL's host and port, or the whole value when it is not an absolute URL.</summary>
    private static ReadOnlySpan<char> HostAndPort(string value)
        => value.Length != 0 && UrlAuthority.TryGetHostAndPort(value, out var hostAndPort) ? hostAndPort : value;

    private static bool IsValid(ReadOnlySpan<char> source, string host, string scheme, CompiledCsrfPolicy current)
    {
        if (TargetMatches(source, host, scheme))
        {
            return true;
        }
        foreach (var origin in current.AdditionalOrigins)
        {
            if (origin.Matches(source))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Source equals the destination: Envoy parses <c>&lt;scheme&gt;://&lt;host&gt;</c> for its host and port, and
    /// compares the whole built URL when that does not parse; no Host means an empty destination.
    /// </summary>
    private static bool TargetMatches(ReadOnlySpan<char> source, string host, string scheme)
    {
        if (host.Length == 0)
        {
            return source.IsEmpty;
        }
        if (UrlAuthority.TryGetAuthority(host, out var target))
        {
            return source.SequenceEqual(target);
        }
        return source.Length == scheme.Length + 3 + host.Length
            && source.StartsWith(scheme, StringComparison.Ordinal)
            && source[scheme.Length..].StartsWith("://", StringComparison.Ordinal)
            && source[(scheme.Length + 3)..].SequenceEqual(host);
    }
}
