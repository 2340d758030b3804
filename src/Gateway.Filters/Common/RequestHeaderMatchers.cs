using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Common;

/// <summary>
/// A list of <c>envoy.config.route.v3.HeaderMatcher</c>s that must all match (Envoy's <c>HeaderUtility::matchHeaders</c>),
/// compiled with the routing code's own matcher (checked by <see cref="FilterConfigChecks.ValidateHeaderMatchers"/>), so filters match headers exactly as routes do.
/// </summary>
internal sealed class RequestHeaderMatchers
{
    private readonly HeaderPredicate[] _predicates;

    private RequestHeaderMatchers(HeaderPredicate[] predicates) => _predicates = predicates;

    public bool IsEmpty => _predicates.Length == 0;

    public static RequestHeaderMatchers Compile(List<HeaderMatcher> matchers)
    {
        var predicates = new HeaderPredicate[matchers.Count];
        for (var i = 0; i < predicates.Length; i++)
        {
            predicates[i] = HeaderPredicate.FromConfig(matchers[i]);
        }
        return new RequestHeaderMatchers(predicates);
    }

    /// <summary>True when every matcher matches the request (true for an empty list).</summary>
    public bool Matches(HttpContext context)
    {
        if (_predicates.Length == 0)
        {
            return true;
        }
        var request = context.Request;
        var host = request.Headers.Host;
        // Filters see Envoy's :path after the connection manager's normalization (the path routed and forwarded);
        // without a chain, the raw request target (as received, query included), without building a string.
        var stream = context.Features.Get<Gateway.Listeners.RequestStreamInfo>()?.Filters;
        var path = stream?.PathAndQuery ?? context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        var view = new RequestView(host.Count == 0 ? null : host.ToString(), request.Method, stream?.Scheme ?? request.Scheme, path, request.Headers);
        foreach (var predicate in _predicates)
        {
            if (!predicate.Matches(view))
            {
                return false;
            }
        }
        return true;
    }
}
