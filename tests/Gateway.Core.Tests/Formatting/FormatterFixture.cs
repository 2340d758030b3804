using System.Net;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Formatting;

/// <summary>A request with its stream info on a fake clock, and helpers that compile formats from YAML or text.</summary>
internal sealed class FormatterFixture
{
    /// <summary>Envoy's AccessLogDateTimeFormatter test instant (2018-04-03T23:06:09.123Z).</summary>
    public static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1522796769123);

    public FormatterFixture()
    {
        Time = new FakeTimeProvider(Start);
        Http = new DefaultHttpContext();
        Http.Request.Method = "GET";
        Http.Request.Scheme = "http";
        Http.Request.Protocol = "HTTP/1.1";
        Http.Request.Host = new HostString("example.com");
        Http.Request.Path = "/hello";
        Http.Request.QueryString = new QueryString("?a=1");
        Http.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.1");
        Http.Connection.RemotePort = 51000;
        Http.Connection.LocalIpAddress = IPAddress.Parse("127.0.0.1");
        Http.Connection.LocalPort = 10000;
        Info = new RequestStreamInfo(Http, Time, Time.GetTimestamp());
    }

    public FakeTimeProvider Time { get; }

    public DefaultHttpContext Http { get; }

    public RequestStreamInfo Info { get; }

    public FormatterContext Context(AccessLogType type = AccessLogType.DownstreamEnd, string? localReplyBody = null)
        => new(Http, Info, type, localReplyBody);

    public FormatterOptions Options(bool reqWithoutQuery = false, bool metadata = false) => new()
    {
        Time = Time,
        Random = new Random(7),
        LocalZone = TimeZoneInfo.CreateCustomTimeZone("test+2", TimeSpan.FromHours(2), "test+2", "TST"),
        HostName = "gw-host",
        ReqWithoutQuery = reqWithoutQuery,
        Metadata = metadata,
    };

    /// <summary>A text format compiled, or a test failure with the errors.</summary>
    public SubstitutionFormatter Text(string format)
    {
        var (formatter, errors) = CompileText(format);
        Assert.True(formatter is not null, string.Join("\n", errors));
        return formatter!;
    }

    /// <summary>Formats <paramref name="format"/> for the fixture's request.</summary>
    public string Format(string format, AccessLogType type = AccessLogType.DownstreamEnd) => Text(format).Format(Context(type));

    public (SubstitutionFormatter? Formatter, List<ConfigError> Errors) CompileText(string format)
    {
        var context = new ValidationContext(EnvoyTypeRegistry.CreateDefault());
        var owner = new SubstitutionFormatString { Location = new SourceLocation("test.yaml", "log_format", 3, 5) };
        var formatter = SubstitutionFormatter.Compile(format, context, owner, "text_format", Options());
        return (formatter, context.Errors);
    }

    /// <summary>Binds <paramref name="yaml"/> as a SubstitutionFormatString and compiles it.</summary>
    public (SubstitutionFormatter? Formatter, List<ConfigError> Errors) CompileYaml(string yaml)
    {
        var types = EnvoyTypeRegistry.CreateDefault();
        var bindErrors = new ConfigErrorList(["test.yaml"]);
        var node = ConfigTreeReader.Read(yaml, "test.yaml", bindErrors);
        var model = new SubstitutionFormatString();
        new ConfigBinder("test.yaml", types, bindErrors).BindRoot(node!, model);
        if (bindErrors.Count > 0)
        {
            return (null, [.. bindErrors.ToException().Errors]);
        }
        var context = new ValidationContext(types);
        var formatter = SubstitutionFormatter.Compile(model, SubstitutionFormatter.DefaultFormat, context, Options());
        return (formatter, context.Errors);
    }

    public SubstitutionFormatter Yaml(string yaml)
    {
        var (formatter, errors) = CompileYaml(yaml);
        Assert.True(formatter is not null, string.Join("\n", errors));
        return formatter!;
    }
}
