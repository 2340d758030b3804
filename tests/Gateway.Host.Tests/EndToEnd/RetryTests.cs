using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The seed lab's climax: simple_retry.yaml (retry_on 5xx, num_retries 3) in front of httpbin.</summary>
public sealed class RetryTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    [Fact]
    public async Task GetStatus500_SimpleRetryYaml_FourAttemptsLastResponseAndEnvoysRetryStats()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Retry, httpbin.Port, log);
        var before = httpbin.RequestsLogged("GET /status/500");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/500"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(["envoy"], response.Headers.GetValues("server"));
        Assert.True(response.Headers.Contains("x-envoy-upstream-service-time"));
        await gateway.AssertStatsAsync(
            ("cluster.httpbin_service.circuit_breakers.default.rq_retry_open", 0),
            ("cluster.httpbin_service.circuit_breakers.high.rq_retry_open", 0),
            ("cluster.httpbin_service.retry.upstream_rq_500", 3),
            ("cluster.httpbin_service.retry.upstream_rq_5xx", 3),
            ("cluster.httpbin_service.retry.upstream_rq_completed", 3),
            ("cluster.httpbin_service.retry_or_shadow_abandoned", 0),
            ("cluster.httpbin_service.upstream_rq_retry", 3),
            ("cluster.httpbin_service.upstream_rq_retry_backoff_exponential", 3),
            ("cluster.httpbin_service.upstream_rq_retry_backoff_ratelimited", 0),
            ("cluster.httpbin_service.upstream_rq_retry_limit_exceeded", 1),
            ("cluster.httpbin_service.upstream_rq_retry_overflow", 0),
            ("cluster.httpbin_service.upstream_rq_retry_success", 0),
            ("cluster.httpbin_service.upstream_rq_total", 4),
            ("cluster.httpbin_service.upstream_rq_500", 1),
            ("cluster.httpbin_service.upstream_rq_5xx", 1),
            ("cluster.httpbin_service.upstream_rq_completed", 1),
            ("cluster.httpbin_service.external.upstream_rq_500", 1),
            ("http.ingress_http.downstream_rq_total", 1),
            ("http.ingress_http.downstream_rq_5xx", 1),
            ("http.ingress_http.rq_total", 1));
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (httpbin.RequestsLogged("GET /status/500") - before < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(4, httpbin.RequestsLogged("GET /status/500") - before);
    }

    [Fact]
    public async Task GetStatus200_SimpleRetryYaml_NoRetry()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Retry, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatsAsync(
            ("cluster.httpbin_service.upstream_rq_retry", 0),
            ("cluster.httpbin_service.upstream_rq_retry_success", 0),
            ("cluster.httpbin_service.upstream_rq_total", 1));
    }
}
