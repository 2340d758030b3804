using System.Net;
using Gateway.AccessLog;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.AccessLog;

/// <summary>The router's <c>upstream_log</c>: one entry per upstream attempt, beside the connection manager's <c>access_log</c>.</summary>
public sealed class UpstreamLogTests : IDisposable
{
    private const string RouterLine = "typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }";

    private readonly string _dir = Directory.CreateTempSubdirectory("upstreamlog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(int upstreamPort, string upstreamPath, string downstreamPath, string upstreamFormat)
        => ListenerYaml.Build(upstreamPort, httpFilters: "", routes: """
            - match: { prefix: "/" }
              route:
                cluster: echo
                retry_policy: { retry_on: 5xx, num_retries: 1 }
            """)
            .Replace(RouterLine, "typed_config:\n" + ListenerYaml.Indent($$"""
                "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                upstream_log:
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: "{{upstreamPath}}"
                    log_format: { text_format: "{{upstreamFormat}}\n" }
                """, 14), StringComparison.Ordinal)
            .Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + ListenerYaml.Indent($$"""
                access_log:
                - name: envoy.access_loggers.file
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                    path: "{{downstreamPath}}"
                    log_format: { text_format: "%ACCESS_LOG_TYPE% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %RESPONSE_CODE% %RESPONSE_FLAGS%\n" }
                """, 10), StringComparison.Ordinal);


    [Fact]
    public async Task UpstreamLog_RetriedRequest_OneLinePerAttemptWithTheUpstreamsCode()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var upstreamPath = Path.Combine(_dir, "upstream.log");
        var downstreamPath = Path.Combine(_dir, "downstream.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, upstreamPath, downstreamPath,
            "%ACCESS_LOG_TYPE% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %RESPONSE_CODE% %REQ(:PATH)% %UPSTREAM_HOST%"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var host = "127.0.0.1:" + upstream.Port;
        Assert.Equal([$"UpstreamEnd 1 503 /status/503 {host}", $"UpstreamEnd 2 503 /status/503 {host}"], await AccessLogLines.ReadAsync(gateway, upstreamPath, 2));
        Assert.Equal(["DownstreamEnd 2 503 URX"], await AccessLogLines.ReadAsync(gateway, downstreamPath));
    }

    [Fact]
    public async Task UpstreamLog_DelayedAttempt_DurationIsTheAttemptsAndTheDownstreamsIsLonger()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var upstreamPath = Path.Combine(_dir, "upstream.log");
        var downstreamPath = Path.Combine(_dir, "downstream.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, upstreamPath, downstreamPath, "%DURATION% %RESPONSE_CODE%")
            .Replace("%RESPONSE_FLAGS%", "%RESPONSE_FLAGS% %DURATION%", StringComparison.Ordinal));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/200"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstreamLine = Assert.Single(await AccessLogLines.ReadAsync(gateway, upstreamPath)).Split(' ');
        var downstreamLine = Assert.Single(await AccessLogLines.ReadAsync(gateway, downstreamPath)).Split(' ');
        var attempt = int.Parse(upstreamLine[0], System.Globalization.CultureInfo.InvariantCulture);
        var request = int.Parse(downstreamLine[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("200", upstreamLine[1]);
        Assert.InRange(attempt, 190, request);
    }

    [Fact]
    public async Task UpstreamLog_ConnectionRefused_ResponseCodeIsZeroWhileTheClientGets503()
    {
        // Nothing listens on the port: each attempt ends without an upstream response (Envoy's upstream stream info: code 0).
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var upstreamPath = Path.Combine(_dir, "upstream.log");
        var downstreamPath = Path.Combine(_dir, "downstream.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(closedPort, upstreamPath, downstreamPath, "%ACCESS_LOG_TYPE% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %RESPONSE_CODE%"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(["UpstreamEnd 1 0", "UpstreamEnd 2 0"], await AccessLogLines.ReadAsync(gateway, upstreamPath, 2));
        Assert.Equal(["DownstreamEnd 2 503 UF,URX"], await AccessLogLines.ReadAsync(gateway, downstreamPath));
    }

    [Fact]
    public async Task StartAsync_UpstreamLogWithoutPath_FailsAtItsPath()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessGateway.StartAsync(Config(9, "", Path.Combine(_dir, "d.log"), "%RESPONSE_CODE%")));

        Assert.Contains("upstream_log[0].typed_config.path", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("'path' is required", error.ToString(), StringComparison.Ordinal);
    }
}
