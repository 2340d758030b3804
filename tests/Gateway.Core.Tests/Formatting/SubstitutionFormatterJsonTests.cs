using Gateway.Configuration;
using System.Text.Json;
using Gateway.Formatting;

namespace Gateway.Tests.Formatting;

public sealed class SubstitutionFormatterJsonTests
{
    private readonly FormatterFixture _f = new();

    [Fact]
    public void Format_JsonFormat_TypesValuesAsEnvoyAndSortsKeys()
    {
        _f.Http.Response.StatusCode = 200;
        _f.Info.BytesSent = 42;
        _f.Time.Advance(TimeSpan.FromMilliseconds(7));
        _f.Info.Complete();
        var formatter = _f.Yaml("""
            json_format:
              status: "%RESPONSE_CODE%"
              method: "%REQ(:METHOD)%"
              duration: "%DURATION%"
              bytes: "%BYTES_SENT%"
              port: "%DOWNSTREAM_REMOTE_PORT%"
              missing: "%REQ(x-none)%"
              start: "%START_TIME%"
              flags: "%RESPONSE_FLAGS%"
              mixed: "%REQ(:METHOD)% %REQ(x-none)% \"q\""
            """);

        var line = formatter.Format(_f.Context());

        Assert.Equal(
            "{\"bytes\":42,\"duration\":7,\"flags\":\"-\",\"method\":\"GET\",\"missing\":null,\"mixed\":\"GET - \\\"q\\\"\",\"port\":51000,\"start\":\"2018-04-03T23:06:09.123Z\",\"status\":200}\n",
            line);
        using var parsed = JsonDocument.Parse(line);
        Assert.Equal(JsonValueKind.Number, parsed.RootElement.GetProperty("status").ValueKind);
    }

    [Fact]
    public void Format_JsonFormat_NestedStructuresListsAndNonStringLiterals()
    {
        var formatter = _f.Yaml("""
            json_format:
              request:
                path: "%REQ(:PATH)%"
                tags: ["%REQ(:METHOD)%", "literal", 3, true, null]
              version: 2
              ratio: 0.5
              enabled: false
              name: "gateway"
              escaped: "100%%"
            """);

        Assert.Equal(
            "{\"enabled\":false,\"escaped\":\"100%\",\"name\":\"gateway\",\"ratio\":0.5,\"request\":{\"path\":\"/hello?a=1\",\"tags\":[\"GET\",\"literal\",3,true,null]},\"version\":2}\n",
            formatter.Format(_f.Context()));
    }

    [Fact]
    public void Format_JsonOmitEmptyValues_LeavesOutNullKeys()
    {
        var formatter = _f.Yaml("""
            json_format:
              a: "%REQ(x-none)%"
              b: "%REQ(:METHOD)%"
              c: null
              d:
                e: "%REQ(x-none)%"
              f: "[%REQ(x-none)%]"
              z: "%REQ(x-none)%"
            omit_empty_values: true
            """);

        Assert.Equal("{\"b\":\"GET\",\"d\":{},\"f\":\"[]\"}\n", formatter.Format(_f.Context()));
    }

    [Fact]
    public void Format_JsonEscaping_OfHeaderValues()
    {
        _f.Http.Request.Headers["x-evil"] = "a\"b\\c\u0001";
        var formatter = _f.Yaml("json_format:\n  v: \"%REQ(x-evil)%\"\n");

        var line = formatter.Format(_f.Context());

        Assert.Equal("{\"v\":\"a\\\"b\\\\c\\u0001\"}\n", line);
        Assert.Equal("a\"b\\c\u0001", JsonDocument.Parse(line).RootElement.GetProperty("v").GetString());
    }

    [Fact]
    public void Format_JsonMetadata_KeepsTheValuesType()
    {
        var ns = _f.Info.DynamicMetadata("m");
        ns["n"] = 3;
        ns["s"] = "text";
        var formatter = _f.Yaml("json_format:\n  n: \"%DYNAMIC_METADATA(m:n)%\"\n  s: \"%DYNAMIC_METADATA(m:s)%\"\n  all: \"%DYNAMIC_METADATA(m)%\"\n  none: \"%DYNAMIC_METADATA(m:x)%\"\n");

        Assert.Equal("{\"all\":{\"n\":3,\"s\":\"text\"},\"n\":3,\"none\":null,\"s\":\"text\"}\n", formatter.Format(_f.Context()));
    }

    [Fact]
    public void Format_JsonWithoutRequest_NumbersStayNumbersAndStringsNull()
    {
        var formatter = _f.Yaml("json_format:\n  code: \"%RESPONSE_CODE%\"\n  path: \"%REQ(:PATH)%\"\n  type: \"%ACCESS_LOG_TYPE%\"\n");

        Assert.Equal("{\"code\":0,\"path\":null,\"type\":\"TcpConnectionEnd\"}\n", formatter.Format(new FormatterContext(null, null, AccessLogType.TcpConnectionEnd)));
    }

    [Fact]
    public void Format_JsonFormatOptionsSortProperties_IsAccepted()
    {
        var formatter = _f.Yaml("json_format:\n  b: x\n  a: w\njson_format_options:\n  sort_properties: false\n");

        Assert.True(formatter.IsJson);
        Assert.Equal("{\"a\":\"w\",\"b\":\"x\"}\n", formatter.Format(_f.Context()));
    }
}
