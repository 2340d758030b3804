using Gateway.Hosting;
using Gateway.Stats;
using Gateway.Tests.Hosting;
using Prometheus;

namespace Gateway.Tests.Stats;

public class PrometheusNetBridgeTests
{
    private static async Task<string> ExportAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task Sync_CountersGaugesHistograms_AppearUnderEnvoyNames()
    {
        var store = new StatsStore();
        var registry = Metrics.NewCustomRegistry();
        var bridge = new PrometheusNetBridge(store);
        store.Counter("cluster.c.upstream_rq_503").Add(2);
        store.Gauge("server.live").Set(1);
        var histogram = store.Histogram("cluster.c.upstream_rq_time");

        bridge.Attach(registry);
        histogram.Record(7);
        var text = await ExportAsync(registry);

        Assert.Contains("envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"c\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("envoy_server_live 1", text, StringComparison.Ordinal);
        Assert.Contains("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"c\",le=\"10\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEnvoyGatewayPrometheus_EmbeddedGateway_PublishesLiveCounts()
    {
        var registry = Metrics.NewCustomRegistry();
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var gateway = await InProcessGateway.StartAsync(yaml, services => services.AddEnvoyGatewayPrometheus(registry));

        using (await gateway.Client.GetAsync(gateway.ListenerUri("/"))) { }
        using (await gateway.Client.GetAsync(gateway.ListenerUri("/"))) { }
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 2);
        var text = await ExportAsync(registry);

        Assert.Contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"httpbin_service\"} 2", text, StringComparison.Ordinal);
    }
}
