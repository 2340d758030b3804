using Gateway.Configuration;
using Gateway.Routing;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

public class RouteTablePathTests
{
    [Theory]
    [InlineData("/api", true)]
    [InlineData("/apix", true)] // plain string prefix, not a segment match
    [InlineData("/api/v1", true)]
    [InlineData("/api?x=1", true)]
    [InlineData("/ap", false)]
    [InlineData("/API", false)] // case-sensitive by default
    [InlineData("/v1/api", false)]
    public void Match_Prefix_IsPlainCaseSensitiveStringPrefix(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { Prefix = "/api" }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Theory]
    [InlineData("/api?x", "/api?x=1", false)] // the query string is removed before prefix matching
    [InlineData("/api", "/ap?i", false)]
    [InlineData("/a", "/?a=1", false)]
    [InlineData("/api", "/api#frag", true)]
    public void Match_PrefixWithQueryOrFragment_ComparesPathOnly(string prefix, string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { Prefix = prefix }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Theory]
    [InlineData("/API/users", true)]
    [InlineData("/api/users", true)]
    [InlineData("/Apix", true)]
    [InlineData("/other", false)]
    public void Match_PrefixCaseInsensitive_IgnoresAsciiCase(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { Prefix = "/api", CaseSensitive = false }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Fact]
    public void Match_PrefixCaseInsensitiveNonAscii_DoesNotFoldNonAsciiLetters()
    {
        // Envoy folds ASCII only (absl::StartsWithIgnoreCase), unlike OrdinalIgnoreCase.
        var table = Routes(Route("r", new RouteMatch { Prefix = "/é", CaseSensitive = false }));

        Assert.Null(table.Run("/É"));
        Assert.Equal("r", table.Run("/é"));
    }

    [Theory]
    [InlineData("", "/anything", true)]
    [InlineData("/", "/anything", true)]
    [InlineData("/", "*", false)]
    public void Match_EmptyOrSlashPrefix_MatchesEveryOriginFormPath(string prefix, string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { Prefix = prefix }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Theory]
    [InlineData("/api", true)]
    [InlineData("/api?x=1", true)] // query removed
    [InlineData("/api#frag", true)] // fragment removed
    [InlineData("/api/", false)]
    [InlineData("/apix", false)]
    [InlineData("/API", false)]
    public void Match_Path_IsExactWithQueryRemoved(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { Path = "/api" }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Fact]
    public void Match_PathCaseInsensitive_IgnoresAsciiCase()
    {
        var table = Routes(Route("r", new RouteMatch { Path = "/api", CaseSensitive = false }));

        Assert.Equal("r", table.Run("/API?q"));
    }

    [Theory]
    [InlineData("/api", true)]
    [InlineData("/api/", true)]
    [InlineData("/api/v1", true)]
    [InlineData("/api?x=1", true)]
    [InlineData("/api#f", true)]
    [InlineData("/apix", false)] // must end at a '/' boundary
    [InlineData("/ap", false)]
    [InlineData("/API/v1", false)]
    public void Match_PathSeparatedPrefix_EndsAtSlashOrEnd(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { PathSeparatedPrefix = "/api" }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Theory]
    [InlineData("/API/v1", true)]
    [InlineData("/Api", true)]
    [InlineData("/APIX", false)]
    public void Match_PathSeparatedPrefixCaseInsensitive_IgnoresAsciiCase(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { PathSeparatedPrefix = "/api", CaseSensitive = false }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Theory]
    [InlineData("/api/v1", true)]
    [InlineData("/api/v12?x=1", true)] // query removed before matching
    [InlineData("/api/v1/users", false)] // must match the whole path
    [InlineData("/x/api/v1", false)]
    [InlineData("/api/v", false)]
    public void Match_SafeRegex_MustMatchWholePath(string path, bool matches)
    {
        var table = Routes(Route("r", new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/api/v[0-9]+" } }));

        Assert.Equal(matches ? "r" : null, table.Run(path));
    }

    [Fact]
    public void Match_SafeRegexWithCaseSensitiveFalse_StaysCaseSensitive()
    {
        // case_sensitive applies to prefix, path and path_separated_prefix only.
        var table = Routes(Route("r", new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/api" }, CaseSensitive = false }));

        Assert.Null(table.Run("/API"));
        Assert.Equal("r", table.Run("/api"));
    }

    [Fact]
    public void Match_OverlappingRoutes_FirstInFileOrderWins()
    {
        var table = Routes(
            Route("broad", new RouteMatch { Prefix = "/api" }),
            Route("narrow", new RouteMatch { Prefix = "/api/v1" }));

        Assert.Equal("broad", table.Run("/api/v1/users"));
    }

    [Fact]
    public void Match_NarrowRouteFirst_NarrowWinsAndBroadTakesTheRest()
    {
        var table = Routes(
            Route("narrow", new RouteMatch { Prefix = "/api/v1" }),
            Route("broad", new RouteMatch { Prefix = "/api" }),
            Route("fallback", new RouteMatch { Prefix = "/" }));

        Assert.Equal("narrow", table.Run("/api/v1/users"));
        Assert.Equal("broad", table.Run("/api/v2"));
        Assert.Equal("fallback", table.Run("/web"));
    }

    [Fact]
    public void Match_EarlierRouteFailsOnHeader_NextRouteIsTried()
    {
        var table = Routes(
            Route("canary", new RouteMatch { Prefix = "/", Headers = [new HeaderMatcher { Name = "x-canary", ExactMatch = "1" }] }),
            Route("stable", new RouteMatch { Prefix = "/" }));

        Assert.Equal("canary", table.Run("/", headers: Headers(("x-canary", "1"))));
        Assert.Equal("stable", table.Run("/", headers: Headers(("x-canary", "0"))));
    }

    [Fact]
    public void Match_NoRouteMatches_ReturnsNullWithVirtualHostIndex()
    {
        var table = Routes(Route("r", new RouteMatch { Path = "/only" }));

        var target = table.Match("example.com", "GET", "http", "/other", new Microsoft.AspNetCore.Http.HeaderDictionary(), out var vhost, out var route);

        Assert.Null(target);
        Assert.Equal(0, vhost);
        Assert.Equal(-1, route);
    }

    [Fact]
    public void Match_RouteMatches_ReportsVirtualHostAndRouteIndex()
    {
        var table = Table(
            Host("a", ["a.com"], Route("a0", new RouteMatch { Prefix = "/" })),
            Host("b", ["b.com"], Route("b0", new RouteMatch { Prefix = "/x" }), Route("b1", new RouteMatch { Prefix = "/" })));

        var target = table.Match("b.com", "GET", "http", "/y", new Microsoft.AspNetCore.Http.HeaderDictionary(), out var vhost, out var route);

        Assert.Equal("b1", target);
        Assert.Equal(1, vhost);
        Assert.Equal(1, route);
        Assert.Equal("b", table.GetVirtualHost(vhost).Name);
        Assert.Equal("b1", table.GetTarget(vhost, route));
    }

    [Fact]
    public void Build_CreateTarget_CalledOncePerRouteInFileOrder()
    {
        var calls = new List<string>();
        var config = new RouteConfiguration
        {
            VirtualHosts =
            [
                Host("a", ["a.com"], Route("a0", new RouteMatch { Prefix = "/" }), Route("a1", new RouteMatch { Prefix = "/" })),
                Host("b", ["*"], Route("b0", new RouteMatch { Prefix = "/" })),
            ],
        };

        RouteTable<string>.Build(config, (vhost, route) =>
        {
            calls.Add($"{vhost.Name}/{route.Name}");
            return route.Name!;
        });

        Assert.Equal(["a/a0", "a/a1", "b/b0"], calls);
    }
}
