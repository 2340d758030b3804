using System.Net;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Clusters;

/// <summary><c>retry_budget</c> and <c>upstream_cx_overflow</c> over real loopback sockets.</summary>
public class RetryBudgetIntegrationTests
{
    private const string RetryOn5xx = "\n                  retry_policy: { retry_on: 5xx, num_retries: 3 }";

    private static string Config(EchoUpstream upstream, string thresholds, string routeExtra = "")
        => TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1", routeExtra: routeExtra)
            .Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: { thresholds: " + thresholds + " }", StringComparison.Ordinal);

    /// <summary>Polls a stat until it has <paramref name="expected"/> (up to 5 s); false if it never does.</summary>
    private static async Task<bool> WaitForStatAsync(InProcessGateway gateway, string name, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            if (await gateway.StatAsync(name) == expected)
            {
                return true;
            }
            await Task.Delay(10);
        }
        return false;
    }

    [Fact]
    public async Task RetryBudget_Zero_RetriableFailureIsNotRetriedAndOverflows()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream, "[ { retry_budget: { budget_percent: { value: 0 }, min_retry_concurrency: 0 } } ]", RetryOn5xx));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/500"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(response.Headers.Contains("x-envoy-overloaded"));
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_overflow", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
        // The gauge belongs to the max_retries resource (default 3) nested in Envoy's budget: no retry is held.
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.rq_retry_open", 0);
    }

    [Fact]
    public async Task RetryBudget_Default_OverridesMaxRetriesZero()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_retries: 0, retry_budget: {} } ]", RetryOn5xx));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/flaky/2/503"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_overflow", 0);
    }

    [Fact]
    public async Task Clusters_RetryBudget_ShowsTheCurrentBudgetAsMaxRetries()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream, "[ { max_retries: 7, retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 4 } }, { priority: HIGH, retry_budget: { min_retry_concurrency: 0 } } ]"));

        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        var json = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters?format=json"));

        // Nothing in flight: the budget is its floor, min_retry_concurrency (Envoy prints retries().max()).
        Assert.Contains("httpbin_service::default_priority::max_retries::4\n", text, StringComparison.Ordinal);
        Assert.Contains("httpbin_service::high_priority::max_retries::0\n", text, StringComparison.Ordinal);
        Assert.Contains("\"max_retries\": 4", json, StringComparison.Ordinal);
        Assert.Contains("\"max_retries\": 0", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigDump_RetryBudget_IsPrintedAsConfigured()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream, "[ { retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 4 } } ]"));

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Matches("\"retry_budget\": \\{\\s*\"budget_percent\": \\{\\s*\"value\": 50\\s*\\},\\s*\"min_retry_concurrency\": 4\\s*\\}", dump);
    }

    [Fact]
    public async Task MaxConnectionsOne_TwoConcurrentSlowRequests_CountsCxOverflowAndCxOpen()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 1 } ]"));

        var first = gateway.Client.GetAsync(gateway.ListenerUri("/delay/1000"));
        Assert.True(await WaitForStatAsync(gateway, "cluster.httpbin_service.upstream_cx_active", 1), "the first request never opened its connection");
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 0);

        var second = gateway.Client.GetAsync(gateway.ListenerUri("/delay/100"));
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 1);

        using var firstResponse = await first;
        using var secondResponse = await second;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(2, upstream.Requests);
        // The second request waited for the one connection instead of opening another.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 1);
        // The idle connection is still open, so the limit is still reached, as in Envoy.
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 1);
        // The second request waited as a pending one (max_pending_requests 1024): no pending overflow.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_pending_overflow", 0);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 2);
    }

    [Fact]
    public async Task MaxConnectionsOneNoPending_SecondConcurrentRequest_OverflowsAsPendingNotAsConnection()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 1, max_pending_requests: 0 } ]"));

        var first = gateway.Client.GetAsync(gateway.ListenerUri("/delay/1000"));
        Assert.True(await WaitForStatAsync(gateway, "cluster.httpbin_service.upstream_rq_active", 1), "the first request never started");
        using var second = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        // Envoy's newStreamImpl: no ready connection and no pending room is a pending overflow, before any new connection is asked for.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("x-envoy-overloaded")));
        using var firstResponse = await first;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_pending_overflow", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 0);
        // The refused request never reached a connection.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 1);
    }

    [Fact]
    public async Task MaxConnectionsOne_SequentialRequests_ReuseTheConnectionWithoutOverflow()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 1 } ]"));

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_overflow", 0);
    }

    [Fact]
    public async Task CxOpen_ConnectionClosed_GoesBackToZero()
    {
        var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "[ { max_connections: 1 } ]"));
        using (var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 1);

        // The upstream goes away: the next request finds the pooled connection closed and a new connect
        // fails, so no connection is left open and Envoy's gauge (set on every connection change) is 0.
        await upstream.DisposeAsync();
        using (var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.True(await WaitForStatAsync(gateway, "cluster.httpbin_service.upstream_cx_active", 0), "a connection is still counted as open");
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.cx_open", 0);
    }
}
