using Gateway.Configuration;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

public class RouteTableQueryParameterTests
{
    [Theory]
    [InlineData("/?debug=1", true)]
    [InlineData("/?debug=2", false)]
    [InlineData("/?x=1&debug=1", true)]
    [InlineData("/?debug=1&debug=2", true)] // only the first value counts
    [InlineData("/?debug=2&debug=1", false)]
    [InlineData("/?Debug=1", false)] // names are case-sensitive
    [InlineData("/?xdebug=1", false)]
    [InlineData("/", false)]
    [InlineData("/?", false)]
    [InlineData("/#debug=1", false)]
    public void Match_StringMatchExact_UsesFirstValue(string target, bool matches)
    {
        var table = WithQueryParameter(new QueryParameterMatcher { Name = "debug", StringMatch = new StringMatcher { Exact = "1" } });

        Assert.Equal(matches ? "r" : null, table.Run(target));
    }

    [Theory]
    [InlineData("/?q=a%20b", "a%20b", true)] // values are not percent-decoded
    [InlineData("/?q=a%20b", "a b", false)]
    [InlineData("/?q=a+b", "a+b", true)]
    [InlineData("/?q=a=b", "a=b", true)] // split at the first '='
    [InlineData("/?q", "", true)] // no '=' means an empty value
    [InlineData("/?q=", "", true)]
    [InlineData("/?a=1&&q=x", "x", true)]
    public void Match_StringMatch_SeesRawValue(string target, string expected, bool matches)
    {
        var table = WithQueryParameter(new QueryParameterMatcher { Name = "q", StringMatch = new StringMatcher { Exact = expected } });

        Assert.Equal(matches ? "r" : null, table.Run(target));
    }

    [Theory]
    [InlineData(true, "/?debug", true)]
    [InlineData(true, "/?debug=", true)]
    [InlineData(true, "/?debug=0", true)]
    [InlineData(true, "/?other=1", false)]
    [InlineData(false, "/?other=1", true)] // present_match: false matches an absent parameter
    [InlineData(false, "/", true)]
    [InlineData(false, "/?debug=1", false)]
    public void Match_PresentMatch_MatchesPresenceOrAbsence(bool present, string target, bool matches)
    {
        var table = WithQueryParameter(new QueryParameterMatcher { Name = "debug", PresentMatch = present });

        Assert.Equal(matches ? "r" : null, table.Run(target));
    }

    [Theory]
    [InlineData("/?debug", true)]
    [InlineData("/", false)]
    public void Match_NoSpecifier_MeansPresent(string target, bool matches)
    {
        var table = WithQueryParameter(new QueryParameterMatcher { Name = "debug" });

        Assert.Equal(matches ? "r" : null, table.Run(target));
    }

    [Fact]
    public void Match_StringMatchRegex_MatchesWholeValue()
    {
        var table = WithQueryParameter(new QueryParameterMatcher { Name = "id", StringMatch = new StringMatcher { SafeRegex = new RegexMatcher { Regex = "[0-9]+" } } });

        Assert.Equal("r", table.Run("/?id=123"));
        Assert.Null(table.Run("/?id=123a"));
    }

    [Fact]
    public void Match_SeveralQueryMatchers_AllMustMatch()
    {
        var table = Routes(Route("r", new RouteMatch
        {
            Prefix = "/search",
            QueryParameters =
            [
                new QueryParameterMatcher { Name = "q", PresentMatch = true },
                new QueryParameterMatcher { Name = "lang", StringMatch = new StringMatcher { Exact = "EN", IgnoreCase = true } },
            ],
        }));

        Assert.Equal("r", table.Run("/search?lang=en&q=x"));
        Assert.Null(table.Run("/search?lang=en"));
        Assert.Null(table.Run("/search?q=x&lang=fr"));
    }
}
