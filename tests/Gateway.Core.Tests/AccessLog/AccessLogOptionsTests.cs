using System.Net;
using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.AccessLog;

/// <summary>The connection manager's <c>access_log_options</c> (and its deprecated top-level twin): when entries besides the stream's end are written.</summary>
public sealed class AccessLogOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accesslogoptions-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(int upstreamPort, string path, string options)
        => ListenerYaml.Build(upstreamPort, httpFilters: "", routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
            """)
            .Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + ListenerYaml.Indent($$"""
                {{options}}
                access_log:
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: "{{path}}"
                    log_format: { text_format: "%RESPONSE_CODE% %ACCESS_LOG_TYPE% %REQ(:PATH)% %UPSTREAM_HOST%\n" }
                """, 10), StringComparison.Ordinal);

    [Theory]
    [InlineData("access_log_options: { flush_access_log_on_new_request: true }")]
    [InlineData("flush_access_log_on_new_request: true")]
    public async Task FlushOnNewRequest_ProxiedRequest_StartEntryWithoutUpstreamThenEndEntry(string options)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, path, options));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Envoy's ProtocolIntegrationTest.AccessLogOnRequestStartTest: "0 DownstreamStart", then "200 DownstreamEnd".
        Assert.Equal(["0 DownstreamStart /status/200 -", $"200 DownstreamEnd /status/200 127.0.0.1:{upstream.Port}"], await AccessLogLines.ReadAsync(gateway, path, 2));
    }

    [Fact]
    public async Task FlushOnNewRequest_NotSet_OnlyTheEndEntry()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, path, "access_log_options: { flush_access_log_on_new_request: false }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));

        Assert.Equal([$"200 DownstreamEnd /status/200 127.0.0.1:{upstream.Port}"], await AccessLogLines.ReadAsync(gateway, path));
    }

    [Fact]
    public void Translate_DeprecatedFalseBesideTheOptions_TheOptionsDecide()
    {
        // Envoy refuses the pair only when the deprecated field is true.
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Config(1, "/dev/null",
            "flush_access_log_on_new_request: false\naccess_log_options: { flush_access_log_on_new_request: true }")));

        Assert.True(plan.Listeners[0].FilterChains[0].ConnectionManager.FlushAccessLogOnNewRequest);
    }

    [Fact]
    public void Load_BothFormsOfFlushOnNewRequest_IsEnvoysError()
    {
        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Config(1, "/dev/null",
            "flush_access_log_on_new_request: true\naccess_log_options: { flush_access_log_on_new_request: true }")));

        Assert.Contains(error.Errors, e => e.Message.Contains("Only one of flush_access_log_on_new_request or access_log_options can be specified.", StringComparison.Ordinal));
    }
}
