using System.Net;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.HealthCheck;

/// <summary>envoy.filters.http.health_check through the in-process gateway, in front of a real upstream.</summary>
public class HealthCheckFilterTests
{
    private const string Type = "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck";

    private static string Filter(bool passThrough, string extra = "") => $$"""
                  - name: envoy.filters.http.health_check
                    typed_config:
                      "@type": {{Type}}
                      pass_through_mode: {{(passThrough ? "true" : "false")}}
                      headers: [{ name: ":path", string_match: { exact: /healthz } }]
        {{extra}}
        """;

    private const string EmptyCluster = """
          - name: empty
            type: STATIC
            load_assignment: { cluster_name: empty }
        """;

    [Fact]
    public async Task Request_NotPassThrough_AnswersLocallyAndLeavesResponseCodeStatsAlone()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter(false), node: "node: { cluster: front }\n"));

        using var health = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));
        using var other = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("front", Assert.Single(health.Headers.GetValues("x-envoy-upstream-healthchecked-cluster")));
        Assert.Equal(string.Empty, await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.False(other.Headers.Contains("x-envoy-upstream-healthchecked-cluster"));
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.ok", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.failed", 0);
        // The health check is not a completed response in the connection manager's stats; the other request is.
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_total", 2);
    }

    [Fact]
    public async Task Request_ServerFailingHealthChecks_503AndImmediateFailHeaderOnOtherResponses()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter(true)));
        using (var fail = await gateway.Client.PostAsync(gateway.AdminUri("/healthcheck/fail"), null))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }

        using var health = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));
        using var other = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.False(health.Headers.Contains("x-envoy-immediate-health-check-fail"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("true", Assert.Single(other.Headers.GetValues("x-envoy-immediate-health-check-fail")));
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.failed", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.ok", 0);

        using (var ok = await gateway.Client.PostAsync(gateway.AdminUri("/healthcheck/ok"), null))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var passed = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal("/healthz", (await FilterTestConfig.EchoAsync(passed)).Path);
        Assert.Equal(2, upstream.Requests);
    }

    [Theory]
    [InlineData(true, "", 503, "health_check_failed")]
    [InlineData(false, "              cluster_min_healthy_percentages: { missing: { value: 1 } }", 503, "health_check_failed_no_cluster_found")]
    [InlineData(false, "", 200, "health_check_ok")]
    [InlineData(false, "              cluster_min_healthy_percentages: { echo: { value: 100 } }", 200, "health_check_ok_cluster_healthy")]
    public async Task Request_LocalAnswer_SetsEnvoysDetailsAndFlag(bool failServer, string extra, int status, string details)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var probe = new Gateway.Tests.Filters.StreamInfoProbeFactory();
        var filters = "          " + Gateway.Tests.Filters.StreamInfoProbeFactory.Entry.Replace("\n", "\n          ", StringComparison.Ordinal) + "\n" + Filter(false, extra);
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, filters), extra: probe);
        if (failServer)
        {
            using (await gateway.Client.PostAsync(gateway.AdminUri("/healthcheck/fail"), null))
            {
            }
        }

        using var health = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));

        Assert.Equal((HttpStatusCode)status, health.StatusCode);
        var (flags, recorded) = Assert.Single(await probe.CompletedAsync(1));
        Assert.Equal(details, recorded);
        Assert.Equal(status == 200 ? ResponseFlags.None : ResponseFlags.FailedLocalHealthCheck, flags);
    }

    [Fact]
    public async Task Request_PassThrough_ForwardsWithoutChargingResponseCodes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter(true)));

        using var health = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(health.Headers.Contains("x-envoy-upstream-healthchecked-cluster"));
        Assert.Equal(1, upstream.Requests);
        // Only answers the filter gives count; a passed-through health check is the upstream's.
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 0);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_total", 1);
        Assert.Null(await gateway.StatAsync("cluster.echo.upstream_rq_200"));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 0);
    }

    /// <summary>Two hosts, one of them a closed port that fails its first (TCP) health check: 50% healthy.</summary>
    private static string HalfHealthyCluster(int healthyPort, int closedPort) => $$"""
          - name: half
            type: STATIC
            health_checks:
            - { timeout: 1s, interval: 60s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }
            load_assignment:
              cluster_name: half
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{healthyPort}} } } }
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{closedPort}} } } }
        """;

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Request_PassThroughWithCacheTime_AnswersFromTheCacheUntilThePeriodEnds()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var time = new FakeTimeProvider();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter(true, "              cache_time: 10s")), time);

        using (var first = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        using (var cached = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.Equal(string.Empty, await cached.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.health_check.cached_response", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.ok", 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 1);

        // The server fails health checks: 503, and that answer is cached too (as Envoy's cache manager stores it).
        using (await gateway.Client.PostAsync(gateway.AdminUri("/healthcheck/fail"), null))
        {
        }
        time.Advance(TimeSpan.FromSeconds(10));
        using (var failing = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        }
        using (await gateway.Client.PostAsync(gateway.AdminUri("/healthcheck/ok"), null))
        {
        }
        using (var stale = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stale.StatusCode);
        }
        await gateway.AssertStatAsync("http.ingress_http.health_check.cached_response", 2);
        await gateway.AssertStatAsync("http.ingress_http.health_check.failed", 2);
        Assert.Equal(1, upstream.Requests);

        // A new period: the health check goes upstream again.
        time.Advance(TimeSpan.FromSeconds(10));
        using (var fresh = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 3);
    }

    [Theory]
    [InlineData("echo: { value: 100 }", 200, "ok")]
    [InlineData("missing: { value: 10 }", 503, "failed_cluster_not_found")]
    [InlineData("empty: { value: 10 }", 503, "failed_cluster_empty")]
    [InlineData("empty: { value: 0 }", 200, "ok")]
    [InlineData("half: { value: 50.9 }", 200, "ok")]
    [InlineData("half: { value: 51 }", 503, "failed_cluster_unhealthy")]
    [InlineData("echo: { value: 100 }, missing: { value: 1 }, half: { value: 90 }", 503, "failed_cluster_unhealthy")]
    public async Task Request_ClusterMinHealthyPercentages_DecideTheAnswer(string minimums, int status, string stat)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var filter = Filter(false, $"              cluster_min_healthy_percentages: {{ {minimums} }}");
        var clusters = EmptyCluster + "\n" + HalfHealthyCluster(upstream.Port, ClosedPort());
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, filter, clusters: clusters));

        using var health = await gateway.Client.GetAsync(gateway.ListenerUri("/healthz"));

        Assert.Equal((HttpStatusCode)status, health.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.health_check." + stat, 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.failed", status == 200 ? 0 : 1);
        await gateway.AssertStatAsync("http.ingress_http.health_check.request_total", 1);
        // Clusters are checked in name order and the first failure decides: one failure stat at most.
        var failures = 0L;
        foreach (var failure in (string[])["failed_cluster_not_found", "failed_cluster_empty", "failed_cluster_unhealthy"])
        {
            failures += await gateway.StatAsync("http.ingress_http.health_check." + failure) ?? 0;
        }
        Assert.Equal(status == 200 ? 0 : 1, failures);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public void Load_WithoutPassThroughMode_IsRefused()
    {
        var yaml = FilterTestConfig.Yaml(1, $$"""
                  - name: envoy.filters.http.health_check
                    typed_config: { "@type": {{Type}}, headers: [{ name: ":path", string_match: { exact: /healthz } }] }
        """);

        var error = Assert.Single(FilterTestConfig.LoadErrors(yaml));

        Assert.Contains("'pass_through_mode' is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("http_filters[0].typed_config", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadMatcherPercentAndCacheTime_EachReported()
    {
        var yaml = FilterTestConfig.Yaml(1, $$"""
                  - name: envoy.filters.http.health_check
                    typed_config:
                      "@type": {{Type}}
                      pass_through_mode: false
                      cache_time: 1s
                      stats_prefix: x
                      cluster_min_healthy_percentages: { echo: { value: 150 } }
                      headers: [{ name: ":path", safe_regex_match: { regex: "(" } }]
        """);

        var errors = FilterTestConfig.LoadErrors(yaml);

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Message == "cache_time_ms must not be set when path_through_mode is disabled" && e.Location.Path.EndsWith("cache_time", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("unknown field", StringComparison.Ordinal) && e.Location.Path.EndsWith("stats_prefix", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("value must be inside range [0, 100]", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Path.Contains("headers[0]", StringComparison.Ordinal));
    }
}
