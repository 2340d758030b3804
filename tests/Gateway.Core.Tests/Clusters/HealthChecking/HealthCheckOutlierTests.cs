using System.Net;
using Gateway.Tests.Hosting;
using static Gateway.Tests.Clusters.HealthChecking.HealthCheckTestConfig;

namespace Gateway.Tests.Clusters.HealthChecking;

/// <summary>Active health checking and outlier detection together: a passing check returns an ejected host.</summary>
public class HealthCheckOutlierTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PassingHealthCheck_HostEjectedByOutlierDetection_IsReturnedOnlyWhenUnejectIsOn(bool uneject)
    {
        await using var upstream = await HealthUpstream.StartAsync("a");
        upstream.TrafficStatus = 500;
        var outlier = $"    outlier_detection: {{ consecutive_5xx: 2, max_ejection_percent: 100, base_ejection_time: 30s, interval: 30s, successful_active_health_check_uneject_host: {(uneject ? "true" : "false")} }}";
        await using var gateway = await InProcessGateway.StartAsync(Yaml([upstream.Port], Check(), clusterExtra: outlier));
        await WaitForAsync(async () => await HealthFlagsAsync(gateway, upstream.Port) == "healthy");

        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }
        await gateway.AssertStatAsync("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx", 1);

        // The next passing check (every 0.1 s) returns the host long before base_ejection_time, when allowed to.
        await Task.Delay(600);
        Assert.Equal(uneject ? "healthy" : "/failed_outlier_check", await HealthFlagsAsync(gateway, upstream.Port));
        await gateway.AssertStatAsync("cluster.backend.outlier_detection.ejections_active", uneject ? 0 : 1);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 5 s");
            await Task.Delay(50);
        }
    }
}
