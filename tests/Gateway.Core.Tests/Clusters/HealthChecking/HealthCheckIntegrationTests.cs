using System.Net;
using System.Text.Json;
using Gateway.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Clusters.HealthChecking.HealthCheckTestConfig;

namespace Gateway.Tests.Clusters.HealthChecking;

public class HealthCheckIntegrationTests
{
    [Fact]
    public async Task Probe_ConfiguredCheck_SendsPathHostMethodAndEnvoyUserAgent()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        var check = Check(httpExtra: "        host: health.example\n        method: HEAD");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], check.Replace("path: /healthz", "path: /healthz?full=1", StringComparison.Ordinal)));

        await WaitUntilAsync(() => Task.FromResult(!upstream.HealthRequests.IsEmpty), "a health check arrives");

        Assert.True(upstream.HealthRequests.TryPeek(out var probe));
        Assert.Equal("HEAD", probe.Method);
        Assert.Equal("/healthz?full=1", probe.Path);
        Assert.Equal("health.example", probe.Headers["host"]);
        Assert.Equal("Envoy/HC", probe.Headers["user-agent"]);
    }

    [Fact]
    public async Task Probe_NoHostConfigured_SendsClusterNameAsHost()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check()));

        await WaitUntilAsync(() => Task.FromResult(!upstream.HealthRequests.IsEmpty), "a health check arrives");

        Assert.True(upstream.HealthRequests.TryPeek(out var probe));
        Assert.Equal("GET", probe.Method);
        Assert.Equal("backend", probe.Headers["host"]);
    }

    [Fact]
    public async Task HealthEndpoint503_OneOfTwo_IsTakenOutAndReturnsAfterHealthyThreshold()
    {
        await using var good = await HealthUpstream.StartAsync("good");
        await using var bad = await HealthUpstream.StartAsync("bad");
        bad.HealthStatus = 503;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([good.Port, bad.Port], Check(healthyThreshold: 3)));

        await WaitForFlagsAsync(gateway, bad.Port, "/failed_active_hc");
        await WaitForFlagsAsync(gateway, good.Port, "healthy");
        var json = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters?format=json"));
        Assert.Contains("\"failed_active_health_check\": true", json, StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.backend.health_check.healthy", 1);
        await gateway.AssertStatAsync("cluster.backend.membership_healthy", 1);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("good", await gateway.Client.GetStringAsync(gateway.ListenerUri("/x")));
        }
        Assert.Equal(0, bad.Traffic);

        var checksBefore = bad.HealthRequests.Count;
        bad.HealthStatus = 200;
        await WaitForFlagsAsync(gateway, bad.Port, "healthy");
        // healthy_threshold 3: three passing checks were needed after the failures.
        Assert.True(bad.HealthRequests.Count - checksBefore >= 3, $"host returned after {bad.HealthRequests.Count - checksBefore} checks");
        await gateway.AssertStatAsync("cluster.backend.health_check.healthy", 2);

        var bodies = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            bodies.Add(await gateway.Client.GetStringAsync(gateway.ListenerUri("/x")));
        }
        Assert.Contains("bad", bodies);
    }

    [Fact]
    public async Task NothingListening_OneOfTwo_NetworkFailuresReachThresholdAndHostIsTakenOut()
    {
        await using var good = await HealthUpstream.StartAsync("good");
        var deadPort = HealthUpstream.DeadPort();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([good.Port, deadPort], Check(unhealthyThreshold: 2)));

        await WaitForFlagsAsync(gateway, deadPort, "/failed_active_hc");
        await WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.health_check.network_failure") >= 1, "network failures are counted");

        for (var i = 0; i < 4; i++)
        {
            var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("good", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task AllUnhealthy_PanicThresholdZero_NoHealthyUpstream503()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthStatus = 500;
        var yaml = Yaml([upstream.Port], Check(), clusterExtra: "    common_lb_config: { healthy_panic_threshold: { value: 0 } }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");

        var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no healthy upstream", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_none_healthy", 1);
        Assert.Equal(0, upstream.Traffic);
    }

    [Fact]
    public async Task AllUnhealthy_DefaultPanicThreshold_RoutesAnywayInPanic()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthStatus = 500;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check()));
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");

        var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        var panics = await gateway.StatAsync("cluster.backend.lb_healthy_panic");
        Assert.True(panics >= 1, $"lb_healthy_panic = {panics}");
    }

    [Fact]
    public async Task ExpectedStatuses_Configured_OnlyListedStatusesPass()
    {
        await using var passes = await HealthUpstream.StartAsync("passes");
        await using var fails = await HealthUpstream.StartAsync("fails");
        passes.HealthStatus = 204;
        fails.HealthStatus = 200;
        var check = Check(httpExtra: "        expected_statuses: [{ start: 204, end: 205 }]");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([passes.Port, fails.Port], check));

        await WaitForFlagsAsync(gateway, fails.Port, "/failed_active_hc");
        await WaitForFlagsAsync(gateway, passes.Port, "healthy");
    }

    [Fact]
    public async Task DefaultExpectedStatus_204_FailsHostAtOnceIgnoringThreshold()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check(unhealthyThreshold: 1000)));
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");

        upstream.HealthStatus = 204;

        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");
    }

    [Fact]
    public async Task RetriableStatus_CountsTowardsUnhealthyThreshold()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        var check = Check(interval: "0.3s", unhealthyThreshold: 3, httpExtra: "        retriable_statuses: [{ start: 503, end: 504 }]");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], check));
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");
        var stats = gateway.Services.GetRequiredService<HealthCheckService>().CheckerFor("backend")!.Stats;
        var failuresBefore = stats.Failure.Value;

        upstream.HealthStatus = 503;

        await WaitUntilAsync(() => Task.FromResult(stats.Failure.Value > failuresBefore), "a retriable failure");
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, upstream.Port));
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");
        Assert.True(stats.Failure.Value - failuresBefore >= 3, $"{stats.Failure.Value - failuresBefore} failures");
        Assert.Equal(0, stats.NetworkFailure.Value);
    }

    [Fact]
    public async Task Timeout_SlowHealthEndpoint_MarksFailureWithActiveHcTimeout()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthDelayMs = 2000;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check(timeout: "0.1s", unhealthyThreshold: 1)));

        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc/active_hc_timeout");
        await WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.health_check.network_failure") >= 1, "the timeout counts as a network failure");

        upstream.HealthDelayMs = 0;
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");
    }

    [Fact]
    public async Task Stats_HealthyCluster_CountsAttemptsAndSuccesses()
    {
        await using var a = await HealthUpstream.StartAsync("a");
        await using var b = await HealthUpstream.StartAsync("b");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([a.Port, b.Port], Check()));

        await gateway.AssertStatAsync("cluster.backend.health_check.healthy", 2);
        await WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.health_check.success") >= 4, "successes are counted");
        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats"));
        foreach (var name in new[] { "attempt", "success", "failure", "passive_failure", "network_failure", "verify_cluster", "healthy" })
        {
            Assert.Contains($"cluster.backend.health_check.{name}: ", text, StringComparison.Ordinal);
        }
        Assert.Equal(0, await gateway.StatAsync("cluster.backend.health_check.failure"));
        Assert.True(await gateway.StatAsync("cluster.backend.health_check.attempt") >= await gateway.StatAsync("cluster.backend.health_check.success"));
    }

    [Fact]
    public async Task Stats_ClusterWithoutHealthCheck_HasNoHealthCheckStats()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        var yaml = Yaml([upstream.Port], Check()).Replace("    health_checks:\n", string.Empty, StringComparison.Ordinal);
        var start = yaml.IndexOf("    - timeout:", StringComparison.Ordinal);
        var end = yaml.IndexOf("    load_assignment:", StringComparison.Ordinal);
        yaml = yaml[..start] + yaml[end..];
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats"));

        Assert.DoesNotContain("health_check.", text, StringComparison.Ordinal);
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, upstream.Port));
    }

    [Fact]
    public async Task ApplyAsync_HealthCheckRemoved_StopsCheckingAndHostsAreHealthy()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthStatus = 500;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check()));
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");
        var service = gateway.Services.GetRequiredService<HealthCheckService>();
        var runtime = gateway.Services.GetRequiredService<Gateway.Hosting.GatewayRuntime>();
        var plan = runtime.Plan with { ClusterPlans = [.. runtime.Plan.ClusterPlans.Select(c => c with { HealthCheck = null })] };

        await service.ApplyAsync(plan);

        Assert.Null(service.CheckerFor("backend"));
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, upstream.Port));
        var checks = upstream.HealthRequests.Count;
        await Task.Delay(400);
        Assert.Equal(checks, upstream.HealthRequests.Count);
    }

    [Fact]
    public async Task ClustersJson_FailedHost_ShowsFailedActiveHealthCheck()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthStatus = 500;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check()));
        await WaitForFlagsAsync(gateway, upstream.Port, "/failed_active_hc");

        using var doc = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters?format=json")));

        var health = doc.RootElement.GetProperty("cluster_statuses")[0].GetProperty("host_statuses")[0].GetProperty("health_status");
        Assert.True(health.GetProperty("failed_active_health_check").GetBoolean());
    }

    [Fact]
    public async Task StartAsync_HealthCheckedCluster_WaitsForTheFirstChecksLikeEnvoysClusterWarming()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.HealthDelayMs = 300;
        // Panic mode off, a slow first check and checks far apart: the request finds the host healthy only if start-up waited.
        var yaml = Yaml([upstream.Port], Check(timeout: "5s", interval: "30s"), clusterExtra: "    common_lb_config: { healthy_panic_threshold: { value: 0 } }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(upstream.HealthRequests);
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, upstream.Port));
    }

    [Fact]
    public async Task Probe_FirstPass_StampsTheHostsLastPassTimeForSlowStart()
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check(timeout: "5s", interval: "30s")));
        await WaitForFlagsAsync(gateway, upstream.Port, "healthy");

        var registry = gateway.Services.GetRequiredService<Gateway.Clusters.ClusterRegistry>();
        var host = Assert.Single(registry.All, c => c.Members.Count > 0).Members[0];

        Assert.NotNull(host.LastHcPassTime);
    }
}
