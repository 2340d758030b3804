using Gateway.Tests.Hosting;

namespace Gateway.Tests.Stats;

/// <summary>The real <c>/stats/prometheus</c> of a running gateway, after traffic, checked by promtool.</summary>
public class StatsPrometheusEndpointTests
{
    [Fact]
    public async Task StatsPrometheus_AfterTraffic_PassesPromtoolAndCountsTheRequests()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));
        }
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 3);

        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats/prometheus"));

        Assert.Contains("\nenvoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"httpbin_service\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("\nenvoy_http_downstream_rq_xx{envoy_response_code_class=\"5\",envoy_http_conn_manager_prefix=\"ingress_http\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE envoy_cluster_upstream_rq_time histogram\n", text, StringComparison.Ordinal);
        Promtool.AssertValid(text);
    }
}
