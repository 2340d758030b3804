using System.Net;
using System.Text.Json;
using Gateway.AccessLog;
using Gateway.Configuration;
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
        var lines = await AccessLogLines.ReadAsync(gateway, path, 2);

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
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));

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
        Assert.Equal(["/ok/after"], await AccessLogLines.ReadAsync(gateway, path, 3));
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

    [Fact]
    public async Task MetadataFilter_OnTheStreamsDynamicMetadata_LogsAsEnvoysFilter()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var defaulted = Path.Combine(_dir, "hint.log");
        var strict = Path.Combine(_dir, "strict.log");
        var yaml = ListenerYaml.Build(upstream.Port, httpFilters: """
            - name: metadata
              typed_config: { "@type": type.googleapis.com/gateway.tests.MetadataSetter }
            """).Replace("          stat_prefix: ingress_http", $$"""
                      stat_prefix: ingress_http
                      access_log:
                      - name: envoy.access_loggers.file
                        filter:
                          metadata_filter:
                            matcher: { filter: test.ns, path: [ { key: access_log_hint } ], value: { bool_match: true } }
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{defaulted}}
                          log_format: { text_format: "%REQ(:PATH)% %DYNAMIC_METADATA(test.ns:access_log_hint)%\n" }
                      - name: envoy.access_loggers.file
                        filter:
                          metadata_filter:
                            matcher: { filter: test.ns, path: [ { key: access_log_hint } ], value: { bool_match: true } }
                            match_if_key_not_found: false
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{strict}}
                          log_format: { text_format: "%REQ(:PATH)%\n" }
            """, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter(new MetadataSetterFactory()));

        foreach (var (path, metadata) in new[] { ("/yes", "{\"access_log_hint\": true}"), ("/no", "{\"access_log_hint\": false}"), ("/none", null) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
            if (metadata is not null)
            {
                request.Headers.Add("x-metadata", metadata);
            }
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // No hint: the key is not found, and match_if_key_not_found (default true) logs it.
        Assert.Equal(["/yes true", "/none -"], await AccessLogLines.ReadAsync(gateway, defaulted, 2));
        Assert.Equal(["/yes"], await AccessLogLines.ReadAsync(gateway, strict));
    }

    [Fact]
    public void Load_MetadataFilterMatcherProblems_EveryErrorAtItsField()
    {
        var yaml = Config(1, """
                      access_log:
                      - name: envoy.access_loggers.stdout
                        filter: { metadata_filter: { matcher: { filter: "", path: [], value: { bool_match: true, present_match: true } } } }
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
            """);

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml)).Errors;

        Assert.Equal(
        [
            "'filter' is required",
            "'path' needs at least one segment",
            "a value matcher needs exactly one of null_match, double_match, string_match, bool_match, present_match, list_match, or_match",
        ], errors.Select(e => e.Message));
        Assert.All(errors, e => Assert.Contains(".filter.metadata_filter.matcher", e.Location.Path, StringComparison.Ordinal));
    }
}
