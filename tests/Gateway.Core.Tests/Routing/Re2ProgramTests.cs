using Gateway.Routing;

namespace Gateway.Tests.Routing;

/// <summary>
/// <see cref="Re2Program"/> against RE2 itself: the sizes and errors below are what <c>RE2::ProgramSize()</c> and
/// <c>RE2::error()</c> answer (libre2 2022-06-01, Debian's libre2-9), so the estimate is held to RE2's numbers.
/// </summary>
public class Re2ProgramTests
{
    [Theory]
    [InlineData("a", 5)]
    [InlineData("/asdf/.*", 18)]
    [InlineData("((a{1,10}){1,10}){1,10}$", 2223)]
    [InlineData("(a{1,10}){1,10}$", 223)]
    [InlineData("a{1,1000}", 2003)]
    [InlineData("x{2,5}", 12)]
    [InlineData("x{2,}", 7)]
    [InlineData("[^a]", 12)]
    [InlineData(@"\W", 15)]
    [InlineData("[A-Za-z0-9_]", 7)]
    [InlineData("(?i)[a-z]", 10)]
    [InlineData("(?i)k", 8)]
    [InlineData("😀", 8)]
    [InlineData("^.*$", 10)]
    [InlineData("^/v1/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", 72)]
    [InlineData("/api/v[0-9]+/users/[0-9]+", 21)]
    [InlineData("/status/200(/.*)?$", 27)]
    [InlineData(@"cluster\.httpbin_service\..*upstream_rq", 47)]
    [InlineData(@"/users/(\d+)/posts/(\d+)", 26)]
    [InlineData(@".*\.(jpg|png|gif)$", 24)]
    [InlineData(@"^(http\.admin\.downstream_(rq_(total|completed|2xx|4xx|active)|cx_total)|listener\.admin\.(http\.admin\.downstream_rq_2xx|downstream_cx_total)|http\.ingress_http\.downstream_rq_total)$", 168)]
    [InlineData("/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*/asdf/.*", 186)]
    public void Check_Pattern_EstimatesRe2ProgramSize(string pattern, int re2Size)
    {
        Assert.Null(Re2Program.Check(pattern, out var size));
        Assert.Equal(re2Size, size);
    }

    [Theory]
    [InlineData("ab|ac", 6)] // RE2 factors the common prefix
    [InlineData(@"\pN", 237)] // RE2's Unicode tables, and its UTF-8 compiler's sharing
    public void Check_PatternRe2Optimizes_EstimateIsClose(string pattern, int re2Size)
    {
        Assert.Null(Re2Program.Check(pattern, out var size));
        Assert.InRange(size, re2Size * 0.9, re2Size * 1.4);
    }

    [Theory]
    [InlineData("(abc", "missing ): (abc")]
    [InlineData("abc)", "unexpected ): abc)")]
    [InlineData("[abc", "missing ]: [abc")]
    [InlineData("*", "no argument for repetition operator: *")]
    [InlineData("a**", "bad repetition operator: **")]
    [InlineData("a*+", "bad repetition operator: *+")]
    [InlineData(@"\8", @"invalid escape sequence: \8")]
    [InlineData(@"\Z", @"invalid escape sequence: \Z")]
    [InlineData(@"\cA", @"invalid escape sequence: \c")]
    [InlineData("(?P=n)", "invalid perl operator: (?P")]
    [InlineData("a\\", "trailing \\")]
    [InlineData("[z-a]", "invalid character class range: z-a")]
    [InlineData("a{2,1}", "invalid repetition size: {2,1}")]
    [InlineData("a{1001}", "invalid repetition size: {1001}")]
    [InlineData("((a{1,10}){1,10}){1,11}", "invalid repetition size: {1,11}")]
    [InlineData("((a{2}){2}){251}", "invalid repetition size: {251}")]
    [InlineData("[[:foo:]]", "invalid character class range: [:foo:]")]
    [InlineData("(?<a-b>x)", "invalid named capture group: (?<a-b>")]
    [InlineData("(?(a)b|c)", "invalid perl operator: (?(")]
    [InlineData("(?#note)", "invalid perl operator: (?#")]
    [InlineData(@"a\G", @"invalid escape sequence: \G")]
    public void Check_InvalidPattern_AnswersRe2Error(string pattern, string error)
    {
        Assert.Equal(error, Re2Program.Check(pattern, out _));
    }

    [Fact]
    public void Check_DeeplyNestedGroups_IsAnErrorNotAStackOverflow()
    {
        var pattern = new string('(', 100_000) + new string(')', 100_000);

        Assert.StartsWith("invalid nesting depth", Re2Program.Check(pattern, out _), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a{1,1000}", 1)]
    [InlineData(@"(\d{1,3}\.){3}\d{1,3}", 9)]
    [InlineData("((a{1,10}){1,10}){1,10}", 1000)]
    public void Check_NestedCountedRepetitions_ReportsTheirProduct(string pattern, long product)
    {
        Assert.Null(Re2Program.Check(pattern, out _, out var nested));
        Assert.Equal(product, nested);
    }
}
