using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Filters.Cors;

/// <summary>
/// Envoy's CORS filter for one listener. Decoding: a request with an <c>Origin</c> on a route whose policy is
/// enabled (or shadow-enabled) counts <c>cors.origin_valid</c> / <c>cors.origin_invalid</c>; an enforced preflight
/// (<c>OPTIONS</c> with <c>access-control-request-method</c>) is answered 200 by the filter (<c>cors_response</c>) unless
/// the origin is not allowed and <c>forward_not_matching_preflights</c> lets it through. Encoding: the response to an
/// enforced request from an allowed origin gets <c>access-control-allow-origin</c> (the request's origin),
/// <c>-allow-credentials</c> and <c>-expose-headers</c>. Direct-response routes are skipped, as Envoy skips routes
/// without a route entry.
/// </summary>
internal sealed class CorsFilter(CorsStats stats, Random random) : IHttpFilter
{
    private const string RequestPrivateNetwork = "access-control-request-private-network";
    private const string AllowPrivateNetwork = "access-control-allow-private-network";

    // The per-request latch (Envoy's latched_origin_): the request's policy, set only for an enforced request from an
    // allowed origin. A feature keyed by this type: no allocation, and nothing for requests that are not CORS.
    private static readonly Type LatchKey = typeof(CorsFilter);

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        if (context.Route is not { IsDirectResponse: false } || context.RouteConfig<CompiledCorsPolicy>() is not { } policy)
        {
            // No policy at any level: Envoy's filter is neither enabled nor shadow-enabled.
            return new(FilterStatus.Continue);
        }
        var enabled = policy.FilterEnabled.Evaluate(random);
        if (!enabled && !policy.ShadowEnabled.Evaluate(random))
        {
            return new(FilterStatus.Continue);
        }
        var request = context.HttpContext.Request;
        var originValues = request.Headers.Origin;
        if (originValues.Count == 0)
        {
            return new(FilterStatus.Continue);
        }
        var origin = originValues.Count == 1 ? originValues[0]! : originValues.ToString();
        if (origin.Length == 0)
        {
            return new(FilterStatus.Continue);
        }
        var allowed = policy.IsOriginAllowed(origin);
        (allowed ? stats.OriginValid : stats.OriginInvalid).Increment();
        if (!enabled)
        {
            // Shadow mode: counted, not enforced.
            return new(FilterStatus.Continue);
        }
        if (allowed)
        {
            context.HttpContext.Features[LatchKey] = policy;
        }
        if (!HttpMethods.IsOptions(request.Method))
        {
            return new(FilterStatus.Continue);
        }
        var requestMethod = request.Headers[HeaderNames.AccessControlRequestMethod];
        if (StringValues.IsNullOrEmpty(requestMethod))
        {
            return new(FilterStatus.Continue);
        }
        if (!allowed && policy.ForwardNotMatchingPreflights)
        {
            return new(FilterStatus.Continue);
        }
        var requestHeaders = request.Headers[HeaderNames.AccessControlRequestHeaders];
        var privateNetwork = policy.AllowPrivateNetworkAccess
            && string.Equals(request.Headers[RequestPrivateNetwork].ToString(), "true", StringComparison.Ordinal);
        return new(context.SendLocalReply(StatusCodes.Status200OK, null, "cors_response", headers =>
        {
            if (allowed)
            {
                headers[HeaderNames.AccessControlAllowOrigin] = origin;
            }
            if (policy.AllowCredentials)
            {
                headers[HeaderNames.AccessControlAllowCredentials] = "true";
            }
            if (policy.AllowMethods is { } methods)
            {
                headers[HeaderNames.AccessControlAllowMethods] = methods == "*" ? requestMethod.ToString() : methods;
            }
            if (policy.AllowHeaders is { } allowHeaders)
            {
                headers[HeaderNames.AccessControlAllowHeaders] = allowHeaders == "*" ? requestHeaders.ToString() : allowHeaders;
            }
            if (policy.MaxAge is { } maxAge)
            {
                headers[HeaderNames.AccessControlMaxAge] = maxAge;
            }
            if (privateNetwork)
            {
                headers[AllowPrivateNetwork] = "true";
            }
        }));
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        if (http.Features[LatchKey] is CompiledCorsPolicy policy)
        {
            var headers = http.Response.Headers;
            var origin = http.Request.Headers.Origin;
            headers[HeaderNames.AccessControlAllowOrigin] = origin.Count == 1 ? origin : origin.ToString();
            if (policy.AllowCredentials)
            {
                headers[HeaderNames.AccessControlAllowCredentials] = "true";
            }
            if (policy.ExposeHeaders is { } expose)
            {
                headers[HeaderNames.AccessControlExposeHeaders] = expose;
            }
        }
        return new(FilterStatus.Continue);
    }
}
