using System.Net;
using Gateway.AccessLog;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.AccessLog;

/// <summary>The admin's <c>access_log</c> and deprecated <c>access_log_path</c>: every admin request is logged, data requests are not.</summary>
public sealed class AdminAccessLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("adminlog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(int upstreamPort, string adminFields)
        => ListenerYaml.Build(upstreamPort, httpFilters: "")
            .Replace("  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }\nstatic_resources:",
                "  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }\n" + ListenerYaml.Indent(adminFields, 2) + "\nstatic_resources:", StringComparison.Ordinal);


    [Fact]
    public async Task AccessLog_AdminRequests_AreLoggedWithCodeBytesAndType()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "admin.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: "{{path}}"
                log_format: { text_format: "%ACCESS_LOG_TYPE% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %BYTES_SENT% %UPSTREAM_HOST% %DURATION%\n" }
            """));

        using var ready = await gateway.Client.GetAsync(gateway.AdminUri("/ready"));
        using var missing = await gateway.Client.GetAsync(gateway.AdminUri("/nowhere"));
        using var data = await gateway.Client.GetAsync(gateway.ListenerUri("/data"));
        var lines = await AccessLogLines.ReadAsync(gateway, path, 2);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        Assert.Equal(2, lines.Length);
        var readyBytes = (await ready.Content.ReadAsByteArrayAsync()).Length;
        Assert.Matches($"^DownstreamEnd GET /ready {(int)ready.StatusCode} {readyBytes} - \\d+$", lines[0]);
        var missingBytes = (await missing.Content.ReadAsByteArrayAsync()).Length;
        Assert.Matches($"^DownstreamEnd GET /nowhere 404 {missingBytes} - \\d+$", lines[1]);
    }

    [Fact]
    public async Task AccessLogPath_Deprecated_WritesTheDefaultFormatAfterTheList()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var listPath = Path.Combine(_dir, "list.log");
        var path = Path.Combine(_dir, "path.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
            access_log_path: "{{path}}"
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: "{{listPath}}"
                log_format: { text_format: "%REQ(:PATH)%\n" }
            """));

        using var stats = await gateway.Client.GetAsync(gateway.AdminUri("/stats?filter=nothing"));

        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(["/stats?filter=nothing"], await AccessLogLines.ReadAsync(gateway, listPath));
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));
        Assert.Matches("^\\[\\d{4}-\\d\\d-\\d\\dT[^\\]]+Z\\] \"GET /stats\\?filter=nothing HTTP/1.1\" 200 - 0 \\d+ \\d+ - \"-\" \"-\" \"-\" \"127.0.0.1:\\d+\" \"-\"$", line);
    }

    [Fact]
    public async Task ConfigDump_AdminAccessLogs_AreDumpedAndTheDumpIsLogged()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "dump.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
            access_log_path: "{{path}}"
            """));

        using var dump = await gateway.Client.GetAsync(gateway.AdminUri("/config_dump"));
        var text = await dump.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, dump.StatusCode);
        Assert.Contains("\"access_log_path\"", text, StringComparison.Ordinal);
        Assert.Contains("\"GET /config_dump HTTP/1.1\" 200", Assert.Single(await AccessLogLines.ReadAsync(gateway, path)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_AdminAccessLogPathInMissingDirectory_FailsWithEnvoysError()
    {
        var path = Path.Combine(_dir, "missing", "admin.log");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessGateway.StartAsync(Config(9, $$"""
            access_log_path: "{{path}}"
            """)));

        Assert.Contains($"unable to open file '{path}'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_AdminAccessLogWithoutTypedConfig_FailsAtItsPath()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessGateway.StartAsync(Config(9, """
            access_log:
            - name: envoy.access_loggers.file
            """)));

        Assert.Contains("admin.access_log[0]", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("'typed_config' is required", error.ToString(), StringComparison.Ordinal);
    }
}
