using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tests.Routing;

/// <summary>Builds route configurations in code and runs requests through a <see cref="RouteTable{TTarget}"/> whose target is the route name.</summary>
internal static class RoutingTestConfig
{
    /// <summary>A table over the given virtual hosts.</summary>
    public static RouteTable<string> Table(params VirtualHost[] virtualHosts)
        => RouteTable<string>.Build(new RouteConfiguration { Name = "test", VirtualHosts = [.. virtualHosts] }, static (_, route) => route.Name!);

    /// <summary>A table with one catch-all virtual host holding the given routes.</summary>
    public static RouteTable<string> Routes(params Route[] routes) => Table(Host("all", ["*"], routes));

    /// <summary>A virtual host.</summary>
    public static VirtualHost Host(string name, string[] domains, params Route[] routes)
        => new() { Name = name, Domains = [.. domains], Routes = [.. routes] };

    /// <summary>A route named <paramref name="name"/>.</summary>
    public static Route Route(string name, RouteMatch match)
        => new() { Name = name, Match = match, Action = new RouteAction { Cluster = "c" } };

    /// <summary>A table with one route whose match is <c>prefix: /</c> plus <paramref name="header"/>.</summary>
    public static RouteTable<string> WithHeader(HeaderMatcher header)
        => Routes(Route("r", new RouteMatch { Prefix = "/", Headers = [header] }));

    /// <summary>A table with one route whose match is <c>prefix: /</c> plus <paramref name="parameter"/>.</summary>
    public static RouteTable<string> WithQueryParameter(QueryParameterMatcher parameter)
        => Routes(Route("r", new RouteMatch { Prefix = "/", QueryParameters = [parameter] }));

    /// <summary>Headers from name/value pairs; a name given twice gets two values, and empty values are kept.</summary>
    public static HeaderDictionary Headers(params (string Name, string Value)[] pairs)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in pairs)
        {
            // Not Append: it drops empty values, and a header sent with an empty value is still present.
            headers[name] = headers.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
        }
        return headers;
    }

    /// <summary>Runs a request and returns the matched route name, or null.</summary>
    public static string? Run(
        this RouteTable<string> table, string pathAndQuery, string? host = "example.com", IHeaderDictionary? headers = null, string method = "GET", string scheme = "http")
        => table.Match(host, method, scheme, pathAndQuery, headers ?? new HeaderDictionary());
}
