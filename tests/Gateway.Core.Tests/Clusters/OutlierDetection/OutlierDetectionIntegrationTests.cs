using System.Net;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Clusters.OutlierDetection;

/// <summary>Outlier detection end to end: the gateway in-process, real loopback upstreams.</summary>
public class OutlierDetectionIntegrationTests
{
    private static string Config(int[] ports, string outlier) => TestConfigs.Backends("svc", ports, "    outlier_detection: " + outlier);

    [Fact]
    public async Task Consecutive5xx_FailingHost_IsEjectedForBaseEjectionTimeThenGetsTrafficAgain()
    {
        await using var good1 = await EchoUpstream.StartAsync();
        await using var good2 = await EchoUpstream.StartAsync();
        await using var bad = await ScriptedUpstream.StartAsync(static (context, _) => { context.Response.StatusCode = 500; return Task.CompletedTask; });
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
}
