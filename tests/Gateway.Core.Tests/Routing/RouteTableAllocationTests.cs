using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

public class RouteTableAllocationTests
{
    [Fact]
    public void Match_CommonMatchers_AllocateNothing()
    {
        var table = Table(
            Host("api", ["api.example.com", "*.api.example.com"],
                Route("v1", new RouteMatch { Path = "/v1/status" }),
                Route("users", new RouteMatch { PathSeparatedPrefix = "/users", CaseSensitive = false }),
                Route("tenant", new RouteMatch
                {
                    Prefix = "/t",
                    Headers = [new HeaderMatcher { Name = "x-tenant", StringMatch = new StringMatcher { Exact = "ACME", IgnoreCase = true } }],
                    QueryParameters = [new QueryParameterMatcher { Name = "debug", PresentMatch = false }],
                }),
                Route("regex", new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/items/[0-9]+" } })),
            Host("default", ["*"], Route("fallback", new RouteMatch { Prefix = "/" })));
        IHeaderDictionary headers = Headers(("x-tenant", "acme"));

        string? Run()
        {
            string? last = null;
            last = table.Match("API.example.com", "GET", "https", "/v1/status?x=1", headers) ?? last;
            last = table.Match("eu.api.example.com:443", "GET", "https", "/USERS/7", headers) ?? last;
            last = table.Match("api.example.com", "GET", "https", "/tenants?a=b", headers) ?? last;
            last = table.Match("api.example.com", "GET", "https", "/items/42", headers) ?? last;
            last = table.Match("other.org", "GET", "https", "/", headers) ?? last;
            return last;
        }

        var allocated = Allocations.Measure(() => Run());

        Assert.Equal("fallback", Run());
        Assert.Equal(0, allocated);
    }
}
