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
    [InlineData(@"\p{Zl}+", "\u2028", true)]
    [InlineData(@"\P{Zl}+", "ab", true)]
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

    [Theory]
    [InlineData(@"(?P<ver>v\d+)", "v1")]
    [InlineData(@"(?<ver>v\d+)", "v1")]
    [InlineData("a+?b*?c??", "aac")]
    [InlineData(@"\bword\B.", "wordy")]
    [InlineData("(?i)ab(?-i:c)", "ABc")]
    [InlineData("(?s:.)", "\n")]
    [InlineData("(?m)^a$", "a")]
    [InlineData(@"\Qa+b\E", "a+b")]
    [InlineData(@"\x{41}\x42\0", "AB\0")]
    [InlineData("[[:digit:][:space:]]+", "1 2")]
    [InlineData(@"[\d\-a-f]{2,4}", "a-1")]
    [InlineData(@"\p{Nd}", "7")]
    public void Compile_Re2Construct_CompilesOnNonBacktrackingEngineAndMatches(string pattern, string input)
    {
        // Every construct RE2 accepts (and Re2Program lets through) must compile on the linear engine.
        Assert.True(EnvoyRegex.Compile(pattern, "test").IsFullMatch(input));
    }

    [Theory]
    [InlineData("(?=a)a+", "invalid perl operator: (?=")]
    [InlineData("(?<=a)b", "invalid perl operator: (?<")]
    [InlineData("(?!a)b", "invalid perl operator: (?!")]
    [InlineData(@"(a)\1", @"invalid escape sequence: \1")]
    [InlineData("(?>a)", "invalid perl operator: (?>")]
    public void Compile_ConstructRe2Rejects_ThrowsWithRe2Error(string pattern, string error)
    {
        // What only a backtracking engine could run is refused, as RE2 refuses it.
        var ex = Assert.Throws<ArgumentException>(() => EnvoyRegex.Compile(pattern, "routes[0].match.safe_regex"));

        Assert.Equal("routes[0].match.safe_regex: " + error, ex.Message);
    }

    [Fact]
    public void Compile_NestedCountedRepetition_ThrowsEnvoyProgramSizeError()
    {
        var ex = Assert.Throws<ArgumentException>(() => EnvoyRegex.Compile("((a{1,10}){1,10}){1,10}$", "routes[0].match.safe_regex"));

        Assert.Equal(
            "routes[0].match.safe_regex: regex '((a{1,10}){1,10}){1,10}$' RE2 program size of 2223 > max program size of 100 set for the error level threshold. Increase configured max program size if necessary.",
            ex.Message);
    }

    [Theory]
    [InlineData(@"/api/v[0-9]+/(?P<name>\w+)", "/api/v12/user_1", "/api/v12/user-1")]
    [InlineData(@"[[:alpha:]]\d\Q.*\E", "a1.*", "a1xx")]
    public void FromValidated_ValidatedPattern_MatchesAsTheCheckedCompile(string pattern, string matching, string other)
    {
        Assert.Null(EnvoyRegex.Validate(pattern));
        var validated = EnvoyRegex.FromValidated(pattern);
        var checkedRegex = EnvoyRegex.Compile(pattern, "test");

        Assert.True(validated.IsFullMatch(matching));
        Assert.False(validated.IsFullMatch(other));
        Assert.Equal(checkedRegex.IsFullMatch(matching), validated.IsFullMatch(matching));
        Assert.Equal(checkedRegex.IsFullMatch(other), validated.IsFullMatch(other));
        Assert.Equal(pattern, validated.Pattern);
    }

    [Fact]
    public void Compile_LargeRegexUnderTheBound_MatchesQuickly()
    {
        // a{1,30} expands to 30 copies, and nesting up to the bound stays fast.
        var regex = EnvoyRegex.Compile("/p/((a{1,2}){1,2}){1,2}-a{1,30}", "test");
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.True(regex.ProgramSize <= 100);
        Assert.True(regex.IsFullMatch("/p/aaaa-" + new string('a', 30)));
        Assert.False(regex.IsFullMatch("/p/" + new string('a', 5000)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    [Theory]
    [InlineData("(", "missing ): (")]
    [InlineData("[[:bogus:]]", "invalid character class range: [:bogus:]")]
    [InlineData("[[:^alpha:]", "missing ]: [[:^alpha:]")]
    [InlineData("a{1001}", "invalid repetition size: {1001}")]
    public void Compile_InvalidPattern_ThrowsArgumentExceptionWithLocation(string pattern, string error)
    {
        var ex = Assert.Throws<ArgumentException>(() => EnvoyRegex.Compile(pattern, "routes[3].match.safe_regex"));

        Assert.Equal("routes[3].match.safe_regex: " + error, ex.Message);
    }

    [Fact]
    public void Validate_RandomPatterns_AgreesWithCompileAndNeverThrows()
    {
        // The validator skips building the non-backtracking automaton; it must still give exactly Compile's verdict,
        // so nothing the validator accepts can fail (or reach another engine) when the route table is built.
        string[] pieces = ["a", "b", "(", ")", "[", "]", "{", "}", "|", "*", "+", "?", "^", "$", ".", "-", ",", ":", "<", ">", "=", "!",
            @"\d", @"\w", @"\s", @"\b", @"\A", @"\z", @"\1", @"\k", @"\p", "(?i)", "(?:", "(?P<n>", "(?<n>", "(?=", "(?>", "(?<a-b>",
            "[[:alpha:]]", "[^", "{2}", "{1,3}", "{2,}", @"\pN", @"\x41", @"\Q", @"\E", "é", "(?s)", "(?m)", "0-9"];
        var random = new Random(1234);
        for (var n = 0; n < 1500; n++)
        {
            var pattern = string.Concat(Enumerable.Range(0, random.Next(1, 10)).Select(_ => pieces[random.Next(pieces.Length)]));

            var compiled = EnvoyRegex.TryCompile(pattern, out _, out var error);

            Assert.Equal(compiled ? null : error, EnvoyRegex.Validate(pattern));
        }
    }
}
