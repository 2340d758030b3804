using System.Net;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Clusters;

/// <summary>Circuit breakers with Envoy's semantics, over real loopback sockets.</summary>
public class CircuitBreakerTests
{
    private static string Config(EchoUpstream upstream, string thresholds, string routeExtra = "")
        => TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1", routeExtra: routeExtra)
            .Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: { thresholds: " + thresholds + " }", StringComparison.Ordinal);

    [Fact]
    public async Task MaxRequests_ConcurrentSlowRequests_ExactlyTheExcessGet503Overloaded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_requests: 2 } ]"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => gateway.Client.GetAsync(gateway.ListenerUri("/delay/1000"))));

        var overloaded = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(3, overloaded.Count);
        foreach (var response in overloaded)
        {
            Assert.Equal("true", Assert.Single(response.Headers.GetValues("x-envoy-overloaded")));
            Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: overflow", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_pending_overflow", 3);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_503", 3);
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.rq_open", 0);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Overflow_WithRetryPolicy_IsNeverRetried()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_requests: 1 } ]", "\n                  retry_policy: { retry_on: 5xx, num_retries: 3 }"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => gateway.Client.GetAsync(gateway.ListenerUri("/delay/800"))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task MaxRetries_Zero_RetryOverflowsAndTheResponseIsReturned()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_retries: 0 } ]", "\n                  retry_policy: { retry_on: 5xx, num_retries: 3 }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/500"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(response.Headers.Contains("x-envoy-overloaded"));
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_overflow", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
    }

    [Fact]
    public async Task HighPriorityRoute_UsesTheHighThresholds()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { priority: HIGH, max_requests: 1 } ]", "\n                  priority: HIGH"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => gateway.Client.GetAsync(gateway.ListenerUri("/delay/800"))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Clusters_ShowsTheConfiguredThresholds()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 10, max_pending_requests: 20, max_requests: 30, max_retries: 4 }, { priority: HIGH, max_requests: 5 } ]"));

        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));

        Assert.Contains(
            "httpbin_service::default_priority::max_connections::10\n" +
            "httpbin_service::default_priority::max_pending_requests::20\n" +
            "httpbin_service::default_priority::max_requests::30\n" +
            "httpbin_service::default_priority::max_retries::4\n" +
            "httpbin_service::high_priority::max_connections::1024\n" +
            "httpbin_service::high_priority::max_pending_requests::1024\n" +
            "httpbin_service::high_priority::max_requests::5\n" +
            "httpbin_service::high_priority::max_retries::3\n",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxConnectionsZero_SequentialRequests_ServedOverOneConnectionAndTheFirstCountsOverflow()
    {
        // Envoy's pool opens a connection to a host that has none even at the limit, counting upstream_cx_overflow;
        // later requests reuse it without asking for another.
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 0 } ]"));

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 1);
    }
}
