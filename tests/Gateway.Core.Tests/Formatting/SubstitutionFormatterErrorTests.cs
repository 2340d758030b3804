using Gateway.Formatting;

namespace Gateway.Tests.Formatting;

public sealed class SubstitutionFormatterErrorTests
{
    private readonly FormatterFixture _f = new();

    [Theory]
    [InlineData("%FOO%", "Not supported field in StreamInfo: FOO")]
    [InlineData("%REQ()%", "REQ requires parameters")]
    [InlineData("%REQ%", "REQ requires parameters")]
    [InlineData("%REQ(a?b?c)%", "More than 1 alternative header specified in token: a?b?c")]
    [InlineData("%REQ(bad header)%", "Invalid header configuration. Format string contains invalid characters.")]
    [InlineData("%REQ(x):abc%", "Incorrect configuration: %REQ(x):abc%. Couldn't find valid command at position 0")]
    [InlineData("a %REQ(x", "Incorrect configuration: a %REQ(x. Couldn't find valid command at position 2")]
    [InlineData("100%", "Incorrect configuration: 100%. Couldn't find valid command at position 3")]
    [InlineData("%PROTOCOL(x)%", "PROTOCOL does not take any parameters or length")]
    [InlineData("%RESPONSE_CODE:3%", "RESPONSE_CODE does not take any parameters or length")]
    [InlineData("%START_TIME:3%", "START_TIME does not allow length to be specified.")]
    [InlineData("%START_TIME(%)%", "the time format '%' ends in a lone '%'")]
    [InlineData("%START_TIME(%Y%n)%", "Invalid header configuration. Format string contains newline.")]
    [InlineData("%COMMON_DURATION(DS_RX_BEG)%", "Invalid common duration configuration: DS_RX_BEG.")]
    [InlineData("%COMMON_DURATION(DS_RX_BEG:DS_TX_END:s)%", "Invalid common duration precision: s.")]
    [InlineData("%GRPC_STATUS(LOUD)%", "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.")]
    [InlineData("%UPSTREAM_CONNECTION_ID%", "UPSTREAM_CONNECTION_ID is not supported by this gateway: the upstream connection's number is not recorded (SocketsHttpHandler does not expose its connections)")]
    [InlineData("%FILTER_STATE(key)%", "FILTER_STATE is not supported by this gateway: the gateway has no filter state")]
    [InlineData("%REQ_WITHOUT_QUERY(:PATH)%", "Not supported field in StreamInfo: REQ_WITHOUT_QUERY")]
    [InlineData("%METADATA(ROUTE:ns:k)%", "Not supported field in StreamInfo: METADATA")]
    public void Compile_BadOperator_ReportsEnvoysMessageAtTheField(string format, string message)
    {
        var (formatter, errors) = _f.CompileText(format);

        Assert.Null(formatter);
        var error = Assert.Single(errors);
        Assert.Equal(message, error.Message);
        Assert.Equal("log_format.text_format", error.Location.Path);
        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void Compile_SeveralBadOperators_ReportsEach()
    {
        var (_, errors) = _f.CompileText("%FOO% %REQ()% %BAR%");

        Assert.Equal(["Not supported field in StreamInfo: FOO", "REQ requires parameters", "Not supported field in StreamInfo: BAR"], errors.Select(e => e.Message));
    }

    [Fact]
    public void Compile_BadOperatorInJsonFormat_NamesTheKeyPath()
    {
        var (formatter, errors) = _f.CompileYaml("json_format:\n  ok: \"%REQ(:PATH)%\"\n  nested:\n    bad: \"%NOPE%\"\n  list: [\"%REQ()%\"]\n");

        Assert.Null(formatter);
        Assert.Equal(2, errors.Count);
        Assert.Equal("json_format.list[0]", errors[0].Location.Path);
        Assert.Equal("REQ requires parameters", errors[0].Message);
        Assert.Equal("json_format.nested.bad", errors[1].Location.Path);
        Assert.Equal("Not supported field in StreamInfo: NOPE", errors[1].Message);
        Assert.Equal(1, errors[1].Location.Line);
    }

    [Fact]
    public void Compile_BadOperatorInTextFormatSource_IsAtTheDataSourceField()
    {
        var (_, errors) = _f.CompileYaml("text_format_source:\n  inline_string: \"%NOPE%\"\n");

        var error = Assert.Single(errors);
        Assert.Equal("text_format_source", error.Location.Path);
        Assert.Equal("Not supported field in StreamInfo: NOPE", error.Message);
    }

    [Fact]
    public void Compile_NoFormatOrTwo_IsAnError()
    {
        Assert.Equal("exactly one of text_format, json_format and text_format_source must be set", Assert.Single(_f.CompileYaml("omit_empty_values: true\n").Errors).Message);
        Assert.Single(_f.CompileYaml("text_format: a\njson_format:\n  a: b\n").Errors);
    }

    [Fact]
    public void Compile_MissingFile_IsInvalidPath()
    {
        var error = Assert.Single(_f.CompileYaml("text_format_source:\n  filename: /nonexistent/format.txt\n").Errors);

        Assert.Equal("Invalid path: /nonexistent/format.txt", error.Message);
        Assert.Equal("text_format_source.filename", error.Location.Path);
    }

    [Fact]
    public void Compile_FormatterWithoutTypedConfig_IsFormatterNotFound()
    {
        var error = Assert.Single(_f.CompileYaml("text_format: x\nformatters:\n- name: my.formatter\n").Errors);

        Assert.Equal("Formatter not found: my.formatter", error.Message);
        Assert.Equal("formatters[0].typed_config", error.Location.Path);
    }

    [Fact]
    public void Compile_FormatterOfAnotherKind_IsRefusedWhereItIs()
    {
        var error = Assert.Single(_f.CompileYaml("""
            text_format: x
            formatters:
            - name: my.formatter
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
            """).Errors);

        Assert.Equal("formatters[0].typed_config.@type", error.Location.Path);
        Assert.Contains("is not valid here", error.Message);
    }

    [Fact]
    public void Compile_MetadataExtensionBadType_IsAnError()
    {
        var error = Assert.Single(_f.CompileYaml("""
            text_format: "%METADATA(BOGUS:ns:k)%"
            formatters:
            - name: envoy.formatter.metadata
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.formatter.metadata.v3.Metadata
            """).Errors);

        Assert.Equal("Unknown metadata type: BOGUS", error.Message);
    }

    [Fact]
    public void CompileOrThrow_BadFormat_Throws()
        => Assert.Throws<ArgumentException>(() => SubstitutionFormatter.CompileOrThrow("%NOPE%"));
}
