using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;

namespace Gateway.Routing;

/// <summary>
/// A route's <c>request_headers_to_add/remove</c> and <c>response_headers_to_add/remove</c> of every level, in Envoy's
/// evaluation order (RouteEntryImplBase::finalizeRequestHeaders / finalizeResponseHeaders): route, virtual host, route
/// configuration, or the reverse with <c>most_specific_header_mutations_wins</c>; the later level wins an overwrite.
/// Built once per route when the configuration is applied; the virtual host's and route configuration's parsers are
/// shared by their routes.
/// </summary>
internal sealed class HeaderMutationSet
{
    /// <summary>No header mutation at any level.</summary>
    public static HeaderMutationSet Empty { get; } = new([], []);

    private readonly HeaderParser[] _request;
    private readonly HeaderParser[] _response;

    private HeaderMutationSet(HeaderParser[] request, HeaderParser[] response)
    {
        _request = request;
        _response = response;
    }

    /// <summary>True when some level mutates request headers.</summary>
    public bool HasRequestMutations => _request.Length != 0;

    /// <summary>True when some level mutates response headers.</summary>
    public bool HasResponseMutations => _response.Length != 0;

    /// <summary>
    /// The three levels' parsers (<paramref name="request"/> and <paramref name="response"/>: route, virtual host, route
    /// configuration, most specific first) in the order <paramref name="mostSpecificWins"/> asks for; empty parsers are left out.
    /// </summary>
    public static HeaderMutationSet Create(ReadOnlySpan<HeaderParser> request, ReadOnlySpan<HeaderParser> response, bool mostSpecificWins)
    {
        var requestOrder = Ordered(request, mostSpecificWins);
        var responseOrder = Ordered(response, mostSpecificWins);
        return requestOrder.Length == 0 && responseOrder.Length == 0 ? Empty : new HeaderMutationSet(requestOrder, responseOrder);
    }

    /// <summary>
    /// This set behind a weighted cluster entry's own parsers: Envoy's WeightedClusterEntry evaluates the cluster's
    /// request (and response) headers first, then the route's levels, whatever <c>most_specific_header_mutations_wins</c> says.
    /// </summary>
    public HeaderMutationSet WithClusterLevel(HeaderParser request, HeaderParser response)
    {
        if (request.IsEmpty && response.IsEmpty)
        {
            return this;
        }
        return new HeaderMutationSet(request.IsEmpty ? _request : [request, .. _request], response.IsEmpty ? _response : [response, .. _response]);
    }

    private static HeaderParser[] Ordered(ReadOnlySpan<HeaderParser> levels, bool mostSpecificWins)
    {
        var result = new List<HeaderParser>(levels.Length);
        for (var i = 0; i < levels.Length; i++)
        {
            var parser = levels[mostSpecificWins ? levels.Length - 1 - i : i];
            if (!parser.IsEmpty)
            {
                result.Add(parser);
            }
        }
        return [.. result];
    }

    /// <summary>The request headers towards the upstream (the router, once, before the first attempt): mutates the request's own headers.</summary>
    public void ApplyRequest(HttpContext context, RequestStreamInfo info)
    {
        if (_request.Length == 0)
        {
            return;
        }
        var formatter = new FormatterContext(context, info);
        var headers = context.Request.Headers;
        foreach (var parser in _request)
        {
            parser.Evaluate(headers, formatter);
        }
    }

    /// <summary>The response headers towards the client (an upstream's final response, or a local reply on a matched route).</summary>
    public void ApplyResponse(HttpContext context, RequestStreamInfo? info)
    {
        if (_response.Length == 0)
        {
            return;
        }
        var formatter = new FormatterContext(context, info);
        var headers = context.Response.Headers;
        foreach (var parser in _response)
        {
            parser.Evaluate(headers, formatter);
        }
    }
}

/// <summary>
/// The validated header mutation fields of one route's three levels, compiled into a <see cref="HeaderMutationSet"/>
/// when the listener is built (the formatters read the gateway's clock and random source, which translation does not have).
/// </summary>
internal sealed record HeaderMutationPlan(Route Route, VirtualHost VirtualHost, RouteConfiguration RouteConfiguration)
{
    /// <summary>Whether any of the three levels has a header mutation (else the route needs no set).</summary>
    public static bool Any(Route route, VirtualHost vhost, RouteConfiguration config)
        => Has(route.RequestHeadersToAdd, route.RequestHeadersToRemove, route.ResponseHeadersToAdd, route.ResponseHeadersToRemove)
            || Has(vhost.RequestHeadersToAdd, vhost.RequestHeadersToRemove, vhost.ResponseHeadersToAdd, vhost.ResponseHeadersToRemove)
            || Has(config.RequestHeadersToAdd, config.RequestHeadersToRemove, config.ResponseHeadersToAdd, config.ResponseHeadersToRemove);

    private static bool Has(List<HeaderValueOption> a, List<string> b, List<HeaderValueOption> c, List<string> d)
        => a.Count != 0 || b.Count != 0 || c.Count != 0 || d.Count != 0;

    /// <summary>
    /// The route's set; <paramref name="shared"/> holds the parsers already compiled for a virtual host or route
    /// configuration (keyed by the model), so that their routes share them.
    /// </summary>
    public HeaderMutationSet Compile(FormatterOptions options, Dictionary<object, (HeaderParser Request, HeaderParser Response)> shared)
    {
        var route = Parsers(Route, Route.RequestHeadersToAdd, Route.RequestHeadersToRemove, Route.ResponseHeadersToAdd, Route.ResponseHeadersToRemove, options, shared);
        var vhost = Parsers(VirtualHost, VirtualHost.RequestHeadersToAdd, VirtualHost.RequestHeadersToRemove, VirtualHost.ResponseHeadersToAdd, VirtualHost.ResponseHeadersToRemove, options, shared);
        var config = Parsers(RouteConfiguration, RouteConfiguration.RequestHeadersToAdd, RouteConfiguration.RequestHeadersToRemove, RouteConfiguration.ResponseHeadersToAdd, RouteConfiguration.ResponseHeadersToRemove, options, shared);
        return HeaderMutationSet.Create([route.Request, vhost.Request, config.Request], [route.Response, vhost.Response, config.Response], RouteConfiguration.MostSpecificHeaderMutationsWins);
    }

    private static (HeaderParser Request, HeaderParser Response) Parsers(
        object owner, List<HeaderValueOption> requestAdd, List<string> requestRemove, List<HeaderValueOption> responseAdd, List<string> responseRemove,
        FormatterOptions options, Dictionary<object, (HeaderParser Request, HeaderParser Response)> shared)
    {
        if (!shared.TryGetValue(owner, out var parsers))
        {
            parsers = (HeaderParser.Compile(requestAdd, requestRemove, options), HeaderParser.Compile(responseAdd, responseRemove, options));
            shared[owner] = parsers;
        }
        return parsers;
    }
}
