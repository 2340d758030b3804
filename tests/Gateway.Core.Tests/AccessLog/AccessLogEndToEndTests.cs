using System.Net;
using System.Text.Json;
using Gateway.AccessLog;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.AccessLog;

public sealed class AccessLogEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accesslog-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(int upstreamPort, string accessLog)
        => ListenerYaml.Build(upstreamPort, httpFilters: "", routes: """
            - name: ok
              match: { prefix: "/ok" }
              route: { cluster: echo }
            """).Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + accessLog, StringComparison.Ordinal);

    private static async Task<string[]> LinesAsync(InProcessGateway gateway, string path)
    {
        await gateway.Services.GetRequiredService<AccessLogManager>().FlushAsync();
        return await File.ReadAllLinesAsync(path);
    }

    [Fact]
    public async Task DefaultFormat_Proxied200AndNoRoute404_AreLoggedFieldByField()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
                      access_log:
                      - name: envoy.access_loggers.file
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{path}}
            """));

        using var ok = await gateway.Client.GetAsync(gateway.ListenerUri("/ok/1?q=2"));
        using var missing = await gateway.Client.GetAsync(gateway.ListenerUri("/nowhere"));
        var lines = await LinesAsync(gateway, path);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(2, lines.Length);
        // [START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM_TIME "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"
        var proxied = System.Text.RegularExpressions.Regex.Match(lines[0],
            "^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] \"GET /ok/1\\?q=2 HTTP/1.1\" 200 - 0 (\\d+) \\d+ \\d+ \"-\" \"-\" \"([0-9a-f-]{36})\" \"127.0.0.1:\\d+\" \"127.0.0.1:" + upstream.Port + "\"$");
        Assert.True(proxied.Success, lines[0]);
        Assert.Equal(ok.Content.Headers.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? proxied.Groups[1].Value, proxied.Groups[1].Value);
        var noRoute = System.Text.RegularExpressions.Regex.Match(lines[1],
            "^\\[[^\\]]+\\] \"GET /nowhere HTTP/1.1\" 404 NR 0 0 \\d+ - \"-\" \"-\" \"[0-9a-f-]{36}\" \"127.0.0.1:\\d+\" \"-\"$");
        Assert.True(noRoute.Success, lines[1]);
    }

    [Fact]
    public async Task JsonFormatAndFilter_OnlyMatchingRequests_AreLoggedAsJson()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "json.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
                      access_log:
                      - name: envoy.access_loggers.file
                        filter: { status_code_filter: { comparison: { op: GE, value: { default_value: 400, runtime_key: k } } } }
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{path}}
                          log_format:
                            json_format: { code: "%RESPONSE_CODE%", flags: "%RESPONSE_FLAGS%", path: "%REQ(:PATH)%" }
            """));

        using var ok = await gateway.Client.GetAsync(gateway.ListenerUri("/ok"));
        using var missing = await gateway.Client.GetAsync(gateway.ListenerUri("/nowhere"));
        var line = Assert.Single(await LinesAsync(gateway, path));

        using var json = JsonDocument.Parse(line);
        Assert.Equal(404, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal("NR", json.RootElement.GetProperty("flags").GetString());
        Assert.Equal("/nowhere", json.RootElement.GetProperty("path").GetString());
    }

    [Fact]
    public async Task ReopenLogs_AfterRename_NewRequestsGoToTheNewFile()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "rotate.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, $$"""
                      access_log:
                      - name: envoy.access_loggers.file
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{path}}
                          log_format: { text_format: "%REQ(:PATH)%\n" }
            """));
        using (await gateway.Client.GetAsync(gateway.ListenerUri("/ok/before")))
        {
        }
        await gateway.Services.GetRequiredService<AccessLogManager>().FlushAsync();
        File.Move(path, path + ".1");

        using var reopen = await gateway.Client.PostAsync(gateway.AdminUri("/reopen_logs"), null);
        using (await gateway.Client.GetAsync(gateway.ListenerUri("/ok/after")))
        {
        }

        Assert.Equal("OK\n", await reopen.Content.ReadAsStringAsync());
        Assert.Equal(["/ok/before"], await File.ReadAllLinesAsync(path + ".1"));
        Assert.Equal(["/ok/after"], await LinesAsync(gateway, path));
    }

    [Fact]
    public async Task StartAsync_MissingDirectory_FailsWithEnvoysError()
    {
        var path = Path.Combine(_dir, "missing", "x.log");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessGateway.StartAsync(Config(9, $$"""
                      access_log:
                      - name: envoy.access_loggers.file
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{path}}
            """)));

        Assert.Contains($"unable to open file '{path}'", error.ToString(), StringComparison.Ordinal);
    }
}
