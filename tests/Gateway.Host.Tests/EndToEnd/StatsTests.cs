using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>Admin <c>/stats</c> after a known number of requests through <c>examples/simple.yaml</c>; a fresh gateway per test.</summary>
public sealed class StatsTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    [Fact]
    public async Task GetStats_AfterThreeSuccessfulRequests_CountsExactlyThree()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await gateway.AssertStatsAsync(
            ("http.ingress_http.downstream_rq_total", 3),
            ("cluster.httpbin_service.upstream_rq_200", 3));
    }

    [Fact]
    public async Task GetStats_AfterMixedResponses_CountsEachCodeAndTotal()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        foreach (var path in new[] { "/status/200", "/status/200", "/status/503", "/headers" })
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));
        }

        await gateway.AssertStatsAsync(
            ("http.ingress_http.downstream_rq_total", 4),
            ("http.ingress_http.downstream_rq_2xx", 3),
            ("http.ingress_http.downstream_rq_5xx", 1),
            ("cluster.httpbin_service.upstream_rq_total", 4),
            ("cluster.httpbin_service.upstream_rq_200", 3),
            ("cluster.httpbin_service.upstream_rq_503", 1),
            ("cluster.httpbin_service.upstream_rq_2xx", 3),
            ("cluster.httpbin_service.upstream_rq_5xx", 1));
    }

    [Fact]
    public async Task GetStats_NoRequests_DownstreamTotalIsZero()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        await gateway.AssertStatsAsync(("http.ingress_http.downstream_rq_total", 0));
    }
}
