using System.Net;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Clusters.OutlierDetection;

/// <summary>Outlier detection end to end: the gateway in-process, real loopback upstreams.</summary>
public class OutlierDetectionIntegrationTests
{
    private static string Config(int[] ports, string outlier) => $$"""
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: 0 }
        static_resources:
          listeners:
          - name: httpbin-demo
            address:
              socket_address: { address: 127.0.0.1, port_value: 0 }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  http_filters:
                  - name: envoy.filters.http.router
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: svc }
          clusters:
          - name: svc
            connect_timeout: 1s
            type: STATIC
            lb_policy: ROUND_ROBIN
            outlier_detection: {{outlier}}
            load_assignment:
              cluster_name: svc
              endpoints:
              - lb_endpoints:
        {{string.Join("\n", ports.Select(p => $"          - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {p} }} }} }}"))}}
        """;

    [Fact]
    public async Task Consecutive5xx_FailingHost_IsEjectedForBaseEjectionTimeThenGetsTrafficAgain()
    {
        await using var good1 = await EchoUpstream.StartAsync();
        await using var good2 = await EchoUpstream.StartAsync();
        await using var bad = await FailingUpstream.StartAsync();
        var yaml = Config([good1.Port, bad.Port, good2.Port], "{ consecutive_5xx: 3, interval: 0.1s, base_ejection_time: 1s, max_ejection_percent: 50 }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var badHost = $"127.0.0.1:{bad.Port}";

        // Round robin: every third request reaches the failing host, until its third 500 ejects it.
        for (var i = 0; i < 30 && bad.Requests < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        }
        Assert.Equal(3, bad.Requests);
        var ejectedAt = DateTime.UtcNow;

        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        Assert.Contains($"svc::{badHost}::health_flags::/failed_outlier_check\n", clusters, StringComparison.Ordinal);
        Assert.Contains($"svc::127.0.0.1:{good1.Port}::health_flags::healthy\n", clusters, StringComparison.Ordinal);
        Assert.Contains("svc::outlier::success_rate_average::-1\n", clusters, StringComparison.Ordinal);
        Assert.Contains("svc::outlier::local_origin_success_rate_ejection_threshold::-1\n", clusters, StringComparison.Ordinal);
        var json = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters?format=json"));
        Assert.Contains("\"failed_outlier_check\": true", json, StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx", 1);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_detected_consecutive_5xx", 1);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_enforced_total", 1);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_active", 1);

        // While ejected, the two good hosts take everything.
        for (var i = 0; i < 6; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(3, bad.Requests);

        // After base_ejection_time the next 100 ms tick returns it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline
            && (await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"))).Contains($"{badHost}::health_flags::/failed_outlier_check", StringComparison.Ordinal))
        {
            await Task.Delay(50);
        }
        Assert.True(DateTime.UtcNow - ejectedAt >= TimeSpan.FromSeconds(0.9), "returned before base_ejection_time");
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_active", 0);
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        }
        Assert.Equal(4, bad.Requests);
    }

    [Fact]
    public async Task Clusters_WithoutOutlierDetection_HasNoOutlierLinesOrStats()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"));

        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));

        Assert.DoesNotContain("::outlier::", clusters, StringComparison.Ordinal);
        Assert.Null(await gateway.StatAsync("cluster.httpbin_service.outlier_detection.ejections_active"));
    }

    /// <summary>An upstream that answers 500 to everything.</summary>
    private sealed class FailingUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private FailingUpstream(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<FailingUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var upstream = new FailingUpstream(app);
            app.Run(context =>
            {
                Interlocked.Increment(ref upstream._requests);
                context.Response.StatusCode = 500;
                return Task.CompletedTask;
            });
            await app.StartAsync();
            upstream.Port = new Uri(app.Urls.First()).Port;
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
