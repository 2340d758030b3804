using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tests.Formatting;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Routing;

/// <summary>Envoy's HeaderParser::evaluateHeaders on a header map: removes, append actions, keep_empty_value, formatters, order.</summary>
public class HeaderParserTests
{
    /// <summary>
    /// One level of options ("name=value@ACTION[!keep]", ';'-separated; value may be empty) and removes (','), applied to
    /// existing headers ("name=v1|v2", ';'-separated); the result is every header as "name=v1|v2", sorted.
    /// </summary>
    [Theory]
    [InlineData("", "x-a=1@APPEND_IF_EXISTS_OR_ADD", "", "x-a=1")]
    [InlineData("x-a=0", "x-a=1@APPEND_IF_EXISTS_OR_ADD", "", "x-a=0|1")]
    [InlineData("x-a=0", "x-a=1@ADD_IF_ABSENT", "", "x-a=0")]
    [InlineData("", "x-a=1@ADD_IF_ABSENT", "", "x-a=1")]
    [InlineData("x-a=0|9", "x-a=1@OVERWRITE_IF_EXISTS_OR_ADD", "", "x-a=1")]
    [InlineData("", "x-a=1@OVERWRITE_IF_EXISTS_OR_ADD", "", "x-a=1")]
    [InlineData("x-a=0", "x-a=1@OVERWRITE_IF_EXISTS", "", "x-a=1")]
    [InlineData("", "x-a=1@OVERWRITE_IF_EXISTS", "", "")]
    [InlineData("", "x-a=@APPEND_IF_EXISTS_OR_ADD", "", "")]
    [InlineData("", "x-a=@APPEND_IF_EXISTS_OR_ADD!keep", "", "x-a=")]
    [InlineData("x-a=0", "x-a=@OVERWRITE_IF_EXISTS_OR_ADD", "", "x-a=0")]
    [InlineData("x-a=0", "x-a=@OVERWRITE_IF_EXISTS_OR_ADD!keep", "", "x-a=")]
    // Removes come first, so an add of the same name starts afresh.
    [InlineData("x-a=0;x-b=2", "x-a=1@APPEND_IF_EXISTS_OR_ADD", "x-a,x-b", "x-a=1")]
    [InlineData("X-A=0", "", "x-a", "")]
    // Existence is checked before this level adds anything: an ADD_IF_ABSENT after an add of the same name still adds.
    [InlineData("", "x-a=1@APPEND_IF_EXISTS_OR_ADD;x-a=2@ADD_IF_ABSENT", "", "x-a=1|2")]
    [InlineData("", "x-a=1@APPEND_IF_EXISTS_OR_ADD;x-a=2@OVERWRITE_IF_EXISTS", "", "x-a=1")]
    // Overwrites are applied before appends, whatever the order of the options.
    [InlineData("", "x-a=1@APPEND_IF_EXISTS_OR_ADD;x-a=2@OVERWRITE_IF_EXISTS_OR_ADD", "", "x-a=2|1")]
    [InlineData("x-a=0", "x-a=2@OVERWRITE_IF_EXISTS_OR_ADD;x-a=3@OVERWRITE_IF_EXISTS_OR_ADD", "", "x-a=3")]
    // Names are sent lower-cased, as Envoy's LowerCaseString.
    [InlineData("", "X-Mixed=v@APPEND_IF_EXISTS_OR_ADD", "", "x-mixed=v")]
    public void Evaluate_Literals_AsEnvoy(string existing, string options, string remove, string expected)
    {
        var fixture = new FormatterFixture();
        var parser = HeaderParser.Compile(Options(options), Split(remove, ','), fixture.Options());
        var headers = Headers(existing);

        parser.Evaluate(headers, fixture.Context());

        Assert.Equal(expected, Print(headers));
    }

    [Theory]
    [InlineData(true, HeaderAppendAction.AppendIfExistsOrAdd, "x-a=0|1")]
    [InlineData(false, HeaderAppendAction.AppendIfExistsOrAdd, "x-a=1")]
    public void Evaluate_DeprecatedAppend_MapsAsEnvoy(bool append, HeaderAppendAction action, string expected)
    {
        var fixture = new FormatterFixture();
        var option = new HeaderValueOption { Header = new HeaderValue { Key = "x-a", Value = "1" }, Append = append, AppendAction = action };
        var parser = HeaderParser.Compile([option], [], fixture.Options());
        var headers = Headers("x-a=0");

        parser.Evaluate(headers, fixture.Context());

        Assert.Equal(expected, Print(headers));
        Assert.False(HeaderParser.HasConflictingAppend(option));
    }

    [Fact]
    public void HasConflictingAppend_AppendWithANonDefaultAction_IsRefused()
        => Assert.True(HeaderParser.HasConflictingAppend(new HeaderValueOption { Append = true, AppendAction = HeaderAppendAction.AddIfAbsent }));

    [Theory]
    [InlineData("%REQ(x-in)%", "x-out=abc")]
    [InlineData("[%REQ(x-in)%]", "x-out=[abc]")]
    [InlineData("%REQ(x-missing)%", "")]
    [InlineData("%REQ(x-missing)%-", "x-out=-")]
    [InlineData("%DOWNSTREAM_REMOTE_ADDRESS%", "x-out=10.0.0.1:51000")]
    [InlineData("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "x-out=10.0.0.1")]
    [InlineData("%START_TIME(%Y-%m-%dT%H:%M:%S)%", "x-out=2018-04-03T23:06:09")]
    [InlineData("%PROTOCOL%", "x-out=HTTP/1.1")]
    [InlineData("%HOSTNAME%", "x-out=gw-host")]
    [InlineData("100%% %REQ(:METHOD)%", "x-out=100% GET")]
    // Not yet known when request headers are finalized: empty, so the header is left out (not "-").
    [InlineData("%UPSTREAM_REMOTE_ADDRESS%", "")]
    [InlineData("%UPSTREAM_METADATA([\"ns\", \"key\"])%", "")]
    public void Evaluate_Formatter_FormatsWithoutDashes(string value, string expected)
    {
        var fixture = new FormatterFixture();
        fixture.Http.Request.Headers["x-in"] = "abc";
        var parser = HeaderParser.Compile([Option("x-out", value, HeaderAppendAction.AppendIfExistsOrAdd)], [], fixture.Options());
        var headers = new HeaderDictionary();

        parser.Evaluate(headers, fixture.Context());

        Assert.Equal(expected, Print(headers));
    }

    [Fact]
    public void Evaluate_FormatterOnTheSameHeaders_ReadsThemAsBeforeTheLevel()
    {
        var fixture = new FormatterFixture();
        var headers = fixture.Http.Request.Headers;
        headers["x-in"] = "old";
        var parser = HeaderParser.Compile(
            [Option("x-in", "new", HeaderAppendAction.OverwriteIfExistsOrAdd), Option("x-copy", "%REQ(x-in)%", HeaderAppendAction.AppendIfExistsOrAdd)],
            [], fixture.Options());

        parser.Evaluate(headers, fixture.Context());

        Assert.Equal("new", headers["x-in"].ToString());
        Assert.Equal("old", headers["x-copy"].ToString());
    }

    [Theory]
    [InlineData("%UPSTREAM_METADATA([\"ns\", \"key\"])%", "%UPSTREAM_METADATA(ns:key)%")]
    [InlineData("a %DYNAMIC_METADATA([\"f\",\"k1\",\"k2\"])% b", "a %DYNAMIC_METADATA(f:k1:k2)% b")]
    [InlineData("%UPSTREAM_METADATA([])%", "%UPSTREAM_METADATA([])%")]
    [InlineData("%UPSTREAM_METADATA([1])%", "%UPSTREAM_METADATA([1])%")]
    [InlineData("%UPSTREAM_METADATA(ns:key)%", "%UPSTREAM_METADATA(ns:key)%")]
    public void TranslateMetadataFormat_LegacyArrays_BecomeColonLists(string value, string expected)
        => Assert.Equal(expected, HeaderParser.TranslateMetadataFormat(value));

    [Fact]
    public void Evaluate_Literal_AllocatesNothing()
    {
        var fixture = new FormatterFixture();
        var parser = HeaderParser.Compile([Option("x-a", "1", HeaderAppendAction.OverwriteIfExistsOrAdd)], ["x-b"], fixture.Options());
        var headers = new HeaderDictionary();
        var context = fixture.Context();
        parser.Evaluate(headers, context);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            parser.Evaluate(headers, context);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static HeaderValueOption Option(string key, string value, HeaderAppendAction action, bool keep = false)
        => new() { Header = new HeaderValue { Key = key, Value = value }, AppendAction = action, KeepEmptyValue = keep };

    private static List<HeaderValueOption> Options(string spec)
    {
        var result = new List<HeaderValueOption>();
        foreach (var item in Split(spec, ';'))
        {
            var at = item.LastIndexOf('@');
            var equals = item.IndexOf('=');
            var action = item[(at + 1)..];
            var keep = action.EndsWith("!keep", StringComparison.Ordinal);
            action = keep ? action[..^"!keep".Length] : action;
            result.Add(Option(item[..equals], item[(equals + 1)..at], Enum.Parse<HeaderAppendAction>(action.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true), keep));
        }
        return result;
    }

    private static List<string> Split(string spec, char separator)
        => spec.Length == 0 ? [] : [.. spec.Split(separator)];

    private static HeaderDictionary Headers(string spec)
    {
        var headers = new HeaderDictionary();
        foreach (var item in Split(spec, ';'))
        {
            var equals = item.IndexOf('=');
            headers[item[..equals]] = item[(equals + 1)..].Split('|');
        }
        return headers;
    }

    private static string Print(IHeaderDictionary headers)
        => string.Join(";", headers.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={string.Join('|', h.Value.ToArray())}"));
}
