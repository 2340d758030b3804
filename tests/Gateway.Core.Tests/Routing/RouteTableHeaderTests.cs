using Gateway.Configuration;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

public class RouteTableHeaderTests
{
    [Theory]
    [InlineData("v1", false, "v1", true)]
    [InlineData("v1", false, "v2", false)]
    [InlineData("v1", false, null, false)]
    [InlineData("v1", true, "v2", true)]
    [InlineData("v1", true, "v1", false)]
    [InlineData("v1", true, null, false)] // a missing header fails every value matcher, inverted or not
    [InlineData("", false, "anything", true)] // deprecated exact_match "" matches any value
    [InlineData("", false, null, false)]
    public void Match_ExactMatch_FollowsEnvoyInvertAndMissingRules(string expected, bool invert, string? sent, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-version", ExactMatch = expected, InvertMatch = invert });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: sent is null ? Headers() : Headers(("x-version", sent))));
    }

    [Theory]
    [InlineData(true, false, true, true)]
    [InlineData(true, false, false, false)]
    [InlineData(true, true, true, false)]
    [InlineData(true, true, false, true)]
    [InlineData(false, false, true, false)]
    [InlineData(false, false, false, true)]
    [InlineData(false, true, true, true)]
    [InlineData(false, true, false, false)]
    public void Match_PresentMatch_TruthTable(bool present, bool invert, bool sent, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-flag", PresentMatch = present, InvertMatch = invert });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: sent ? Headers(("x-flag", "")) : Headers()));
    }

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)] // invert with no specifier: matches when absent
    public void Match_NoSpecifier_MeansPresent(bool invert, bool sent, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-flag", InvertMatch = invert });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: sent ? Headers(("x-flag", "1")) : Headers()));
    }

    [Theory]
    [InlineData("prefix", "Bearer x", true)]
    [InlineData("prefix", "bearer x", false)]
    [InlineData("suffix", "x.json", true)]
    [InlineData("suffix", "x.JSON", false)]
    [InlineData("contains", "a-mid-b", true)]
    [InlineData("contains", "a-MID-b", false)]
    public void Match_DeprecatedPrefixSuffixContains_AreCaseSensitive(string kind, string sent, bool matches)
    {
        var matcher = new HeaderMatcher { Name = "x-h" };
        switch (kind)
        {
            case "prefix": matcher.PrefixMatch = "Bearer "; break;
            case "suffix": matcher.SuffixMatch = ".json"; break;
            default: matcher.ContainsMatch = "mid"; break;
        }
        var table = WithHeader(matcher);

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: Headers(("x-h", sent))));
    }

    [Theory]
    [InlineData("exact", "ABC", true)]
    [InlineData("exact", "abcd", false)]
    [InlineData("prefix", "ABCdef", true)]
    [InlineData("suffix", "xyzABC", true)]
    [InlineData("contains", "xxAbCxx", true)]
    [InlineData("contains", "xxAbxx", false)]
    public void Match_StringMatchIgnoreCase_IgnoresAsciiCase(string kind, string sent, bool matches)
    {
        var stringMatch = new StringMatcher { IgnoreCase = true };
        switch (kind)
        {
            case "exact": stringMatch.Exact = "abc"; break;
            case "prefix": stringMatch.Prefix = "abc"; break;
            case "suffix": stringMatch.Suffix = "abc"; break;
            default: stringMatch.Contains = "aBc"; break;
        }
        var table = WithHeader(new HeaderMatcher { Name = "x-h", StringMatch = stringMatch });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: Headers(("x-h", sent))));
    }

    [Fact]
    public void Match_StringMatchWithoutIgnoreCase_IsCaseSensitive()
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-h", StringMatch = new StringMatcher { Exact = "abc" } });

        Assert.Null(table.Run("/", headers: Headers(("x-h", "ABC"))));
        Assert.Equal("r", table.Run("/", headers: Headers(("x-h", "abc"))));
    }

    [Theory]
    [InlineData("v12", true)]
    [InlineData("xv12", false)] // whole value
    [InlineData("v12x", false)]
    public void Match_SafeRegexMatch_MustMatchWholeValue(string sent, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-h", SafeRegexMatch = new RegexMatcher { Regex = "v[0-9]+" } });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: Headers(("x-h", sent))));
    }

    [Fact]
    public void Match_StringMatchSafeRegex_MustMatchWholeValue()
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-h", StringMatch = new StringMatcher { SafeRegex = new RegexMatcher { Regex = "a.c" } } });

        Assert.Equal("r", table.Run("/", headers: Headers(("x-h", "abc"))));
        Assert.Null(table.Run("/", headers: Headers(("x-h", "abcd"))));
    }

    [Theory]
    [InlineData(10, 20, "10", true)]
    [InlineData(10, 20, "19", true)]
    [InlineData(10, 20, "20", false)] // end is exclusive
    [InlineData(10, 20, "9", false)]
    [InlineData(10, 20, " 15 ", true)] // SimpleAtoi trims ASCII whitespace
    [InlineData(10, 20, "+15", true)]
    [InlineData(-10, 0, "-1", true)]
    [InlineData(-10, 0, "0", false)]
    [InlineData(10, 20, "15.5", false)]
    [InlineData(10, 20, "abc", false)]
    [InlineData(10, 20, "", false)]
    [InlineData(0, long.MaxValue, "99999999999999999999", false)] // overflow is not a number
    public void Match_RangeMatch_IsHalfOpenIntegerRange(long start, long end, string sent, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-n", RangeMatch = new Int64Range { Start = start, End = end } });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: Headers(("x-n", sent))));
    }

    [Fact]
    public void Match_RangeMatchInverted_MatchesOutsideRangeButNotMissing()
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-n", RangeMatch = new Int64Range { Start = 0, End = 10 }, InvertMatch = true });

        Assert.Equal("r", table.Run("/", headers: Headers(("x-n", "10"))));
        Assert.Null(table.Run("/", headers: Headers(("x-n", "5"))));
        Assert.Null(table.Run("/"));
    }

    [Theory]
    [InlineData("exact-empty", false, true)] // missing header read as "" matches exact ""
    [InlineData("prefix", false, false)]
    [InlineData("prefix", true, true)]
    [InlineData("present", false, true)] // treated as present with an empty value
    public void Match_TreatMissingHeaderAsEmpty_MatchesMissingAsEmptyString(string kind, bool invert, bool matches)
    {
        var matcher = new HeaderMatcher { Name = "x-h", TreatMissingHeaderAsEmpty = true, InvertMatch = invert };
        switch (kind)
        {
            case "exact-empty": matcher.StringMatch = new StringMatcher { Exact = string.Empty }; break;
            case "prefix": matcher.StringMatch = new StringMatcher { Prefix = "a" }; break;
            default: matcher.PresentMatch = true; break;
        }
        var table = WithHeader(matcher);

        Assert.Equal(matches ? "r" : null, table.Run("/"));
    }

    [Theory]
    [InlineData("a,b", true)] // several values are joined with ',' (no space)
    [InlineData("a, b", false)]
    [InlineData("a", false)]
    public void Match_RepeatedHeader_MatchesCommaJoinedValue(string expected, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-role", ExactMatch = expected });

        Assert.Equal(matches ? "r" : null, table.Run("/", headers: Headers(("x-role", "a"), ("x-role", "b"))));
    }

    [Fact]
    public void Match_RepeatedHeaderWithEmptyValue_KeepsEmptyValueInJoin()
    {
        var table = WithHeader(new HeaderMatcher { Name = "x-role", ExactMatch = "a,,b" });

        Assert.Equal("r", table.Run("/", headers: Headers(("x-role", "a"), ("x-role", ""), ("x-role", "b"))));
    }

    [Fact]
    public void Match_HeaderNameInConfigUpperCase_MatchesCaseInsensitively()
    {
        var table = WithHeader(new HeaderMatcher { Name = "X-Tenant", ExactMatch = "acme" });

        Assert.Equal("r", table.Run("/", headers: Headers(("x-tenant", "acme"))));
    }

    [Theory]
    [InlineData(":method", "POST", true)]
    [InlineData(":method", "GET", false)]
    [InlineData(":authority", "example.com:8080", true)]
    [InlineData("host", "example.com:8080", true)] // Envoy maps the legacy host name onto :authority
    [InlineData(":path", "/items?id=7", true)] // :path is the raw target, query included
    [InlineData(":path", "/items", false)]
    [InlineData(":scheme", "https", true)]
    public void Match_PseudoHeader_ReadsRequestLineValues(string name, string expected, bool matches)
    {
        var table = WithHeader(new HeaderMatcher { Name = name, ExactMatch = expected });

        Assert.Equal(matches ? "r" : null, table.Run("/items?id=7", host: "example.com:8080", method: "POST", scheme: "https"));
    }

    [Fact]
    public void Match_AuthorityMatcherWithoutAuthority_IsMissing()
    {
        var table = Routes(Route("r", new RouteMatch
        {
            Prefix = "/",
            Headers = [new HeaderMatcher { Name = ":authority", PresentMatch = false }],
        }));

        Assert.Equal("r", table.Run("/", host: null));
    }

    [Fact]
    public void Match_SeveralHeaderMatchers_AllMustMatch()
    {
        var table = Routes(Route("r", new RouteMatch
        {
            Prefix = "/",
            Headers =
            [
                new HeaderMatcher { Name = "x-a", ExactMatch = "1" },
                new HeaderMatcher { Name = "x-b", PresentMatch = true },
            ],
        }));

        Assert.Equal("r", table.Run("/", headers: Headers(("x-a", "1"), ("x-b", "z"))));
        Assert.Null(table.Run("/", headers: Headers(("x-a", "1"))));
        Assert.Null(table.Run("/", headers: Headers(("x-a", "2"), ("x-b", "z"))));
    }
}
