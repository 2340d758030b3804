using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The seed lab with <c>examples/simple_change_timeout.yaml</c> (route <c>timeout: 1s</c>).</summary>
public sealed class ChangeTimeoutTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    [Fact]
    public async Task GetDelay_UpstreamSlowerThanRouteTimeout_Returns504LocalReplyAfterOneSecond()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.ChangeTimeout, httpbin.Port, log);

        var stopwatch = Stopwatch.StartNew();
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3"));
        var body = await response.Content.ReadAsStringAsync();
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", body);
        Assert.Equal(["text/plain"], SimpleYamlTests.HeaderValues(response, "content-type"));
        Assert.Equal(["envoy"], SimpleYamlTests.HeaderValues(response, "server"));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(900), $"504 after {stopwatch.Elapsed.TotalMilliseconds} ms, before the 1 s route timeout");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2.5), $"504 after {stopwatch.Elapsed.TotalMilliseconds} ms, expected about 1 s");
    }

    [Fact]
    public async Task GetHeaders_RouteTimeoutOneSecond_ExpectedTimeoutHeaderIs1000()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.ChangeTimeout, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/headers"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1000", SimpleYamlTests.UpstreamHeaders(body).GetValueOrDefault("X-Envoy-Expected-Rq-Timeout-Ms"));
    }

    [Fact]
    public async Task GetDelay_RouteTimeout_ChargesTimeoutStats()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.ChangeTimeout, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await gateway.AssertStatsAsync(
            ("http.ingress_http.downstream_rq_total", 1),
            ("cluster.httpbin_service.upstream_rq_timeout", 1),
            ("cluster.httpbin_service.upstream_rq_504", 1));
    }
}
