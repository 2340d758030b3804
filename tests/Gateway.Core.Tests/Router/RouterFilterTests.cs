using System.Net;
using Gateway.Router;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Router;

/// <summary>The router filter's final reply and accounting through the in-process gateway.</summary>
public class RouterFilterTests
{
    private static string Config(int port, string routeExtra)
        => TestConfigs.Seed("127.0.0.1", port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1", routeExtra: routeExtra);

    [Fact]
    public async Task RouteTimeout_DuringBackOffAfterReset_CountsTheResetAttemptOnce()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, _) => { context.Abort(); return Task.CompletedTask; });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port,
            "\n                  timeout: 0.3s\n                  retry_policy: { retry_on: reset, num_retries: 1, retry_back_off: { base_interval: 5s, max_interval: 5s } }"));
        gateway.Services.GetRequiredService<RouterFilter>().Jitter = new AlmostOne();

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        // One attempt, on a connection, reset by the upstream: Envoy counts it once, not again when the timeout ends the back-off.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_rx_reset", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_timeout", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_504", 1);
    }

    [Fact]
    public async Task ResetBeforeHeaders_WithoutRetries_ChargesTheAttemptOnceAndAnswers503()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, _) => { context.Abort(); return Task.CompletedTask; });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, string.Empty));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection termination", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_rx_reset", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_active", 0);
    }

    private sealed class AlmostOne : Random
    {
        public override double NextDouble() => 0.999;
    }
}
