using Gateway.Routing;

namespace Gateway.Tests.Routing;

public class EnvoyRegexTests
{
    [Theory]
    [InlineData("/v[0-9]+", "/v12", true)]
    [InlineData("/v[0-9]+", "/v12/", false)] // full match
    [InlineData(@"/(?P<ver>v\d+)/x", "/v1/x", true)] // RE2 named group syntax
    [InlineData(@"\d+", "١٢", false)] // RE2 \d is ASCII only
    [InlineData(@"\w+", "é", false)] // RE2 \w is ASCII only
    [InlineData(@"[\d]+", "42", true)]
    [InlineData(@"\D+", "ab", true)]
    [InlineData(@"\s", "\v", false)] // RE2 \s excludes \v
    [InlineData("[[:alpha:]]+", "abcXYZ", true)]
    [InlineData("[[:alpha:]]+", "ab1", false)]
    [InlineData("[[:digit:][:upper:]]+", "A1B2", true)]
    [InlineData("[[:punct:]]+", "!-[]`{~", true)]
    [InlineData(@"\pL+", "abc", true)]
    [InlineData(@"\p{^L}+", "123", true)]
    [InlineData(@"\x{41}", "A", true)]
    [InlineData(@"\Qa.b*\E", "a.b*", true)]
    [InlineData(@"\Qa.b*\E", "axbb", false)]
    [InlineData("[]a]+", "]a", true)] // leading ']' is a literal
    [InlineData("(?i)abc", "ABC", true)]
    [InlineData("a|b", "b", true)] // alternation stays inside the anchors
    [InlineData("a|b", "ab", false)]
    public void IsFullMatch_Re2Pattern_BehavesAsRe2FullMatch(string pattern, string input, bool matches)
    {
        var regex = EnvoyRegex.Compile(pattern, "test");

        Assert.Equal(matches, regex.IsFullMatch(input));
    }

    [Fact]
    public void Compile_PlainPattern_UsesNonBacktrackingEngine()
    {
        Assert.True(EnvoyRegex.Compile("/api/v[0-9]+/.*", "test").IsLinear);
    }

    [Fact]
    public void Compile_Lookahead_FallsBackToBacktrackingEngine()
    {
        // RE2 would reject this; it still works here so a config the validator accepted keeps loading.
        var regex = EnvoyRegex.Compile("(?=a)a+", "test");

        Assert.False(regex.IsLinear);
        Assert.True(regex.IsFullMatch("aa"));
    }

    [Theory]
    [InlineData("(")]
    [InlineData("[[:bogus:]]")]
    [InlineData("[[:^alpha:]]")]
    public void Compile_InvalidPattern_ThrowsArgumentExceptionWithLocation(string pattern)
    {
        var ex = Assert.Throws<ArgumentException>(() => EnvoyRegex.Compile(pattern, "routes[3].match.safe_regex"));

        Assert.Contains("routes[3].match.safe_regex", ex.Message, StringComparison.Ordinal);
        Assert.Contains(pattern, ex.Message, StringComparison.Ordinal);
    }
}
