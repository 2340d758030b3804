using Gateway.Configuration;
using Gateway.Filters.Common;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Common;

/// <summary>HeaderValueOption semantics (Envoy's HeaderParser without formatters).</summary>
public class HeadersToAddTests
{
    private static HeaderValueOption Option(string key, string value, HeaderAppendAction action = default, bool? append = null, bool keepEmpty = false)
        => new() { Header = new HeaderValue { Key = key, Value = value }, AppendAction = action, Append = append, KeepEmptyValue = keepEmpty };

    [Fact]
    public void Apply_EachAppendAction_AsEnvoy()
    {
        var headers = new HeaderDictionary { ["append"] = "a", ["add-if-absent"] = "a", ["overwrite"] = "a", ["overwrite-if-exists"] = "a", ["deprecated-false"] = "a" };
        var mutations = HeadersToAdd.Compile(
        [
            Option("append", "b"),
            Option("add-if-absent", "b", HeaderAppendAction.AddIfAbsent),
            Option("new-if-absent", "b", HeaderAppendAction.AddIfAbsent),
            Option("overwrite", "b", HeaderAppendAction.OverwriteIfExistsOrAdd),
            Option("overwrite-if-exists", "b", HeaderAppendAction.OverwriteIfExists),
            Option("missing-if-exists", "b", HeaderAppendAction.OverwriteIfExists),
            Option("deprecated-false", "b", append: false),
            Option("empty", ""),
            Option("kept-empty", "", keepEmpty: true),
        ]);

        mutations.Apply(headers);

        Assert.Equal("a,b", headers["append"].ToString());
        Assert.Equal("a", headers["add-if-absent"]);
        Assert.Equal("b", headers["new-if-absent"]);
        Assert.Equal("b", headers["overwrite"]);
        Assert.Equal("b", headers["overwrite-if-exists"]);
        Assert.False(headers.ContainsKey("missing-if-exists"));
        Assert.Equal("b", headers["deprecated-false"]);
        Assert.False(headers.ContainsKey("empty"));
        Assert.True(headers.ContainsKey("kept-empty"));
    }
}
