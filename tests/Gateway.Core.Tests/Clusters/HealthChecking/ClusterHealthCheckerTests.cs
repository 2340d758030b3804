using Gateway.Clusters;
using Gateway.Clusters.HealthChecking;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Clusters.HealthChecking;

public class ClusterHealthCheckerTests
{
    private static readonly HealthCheckPlan Plan = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 3, 2, "backend", "/healthz", "GET")
    {
        NoTrafficInterval = TimeSpan.FromSeconds(60),
        NoTrafficHealthyInterval = TimeSpan.FromSeconds(90),
        UnhealthyInterval = TimeSpan.FromSeconds(20),
        UnhealthyEdgeInterval = TimeSpan.FromSeconds(30),
        HealthyEdgeInterval = TimeSpan.FromSeconds(40),
    };

    private static (ClusterHealthChecker Checker, ClusterRuntime Cluster) Create(HealthCheckPlan plan)
    {
        var store = new StatsStore();
        var cluster = new ClusterRuntime("backend", new ClusterStats(store, "backend"));
        return (new ClusterHealthChecker(cluster, plan, new HealthCheckStats(store, "backend"), new FakeTimeProvider(), NullLogger.Instance), cluster);
    }

    [Fact]
    public void NextInterval_ClusterWithoutTraffic_UsesNoTrafficIntervals()
    {
        var (checker, _) = Create(Plan);

        Assert.Equal(TimeSpan.FromSeconds(90), checker.NextInterval(healthy: true, HealthTransition.Unchanged));
        Assert.Equal(TimeSpan.FromSeconds(60), checker.NextInterval(healthy: true, HealthTransition.ChangePending));
        Assert.Equal(TimeSpan.FromSeconds(60), checker.NextInterval(healthy: false, HealthTransition.Changed));
    }

    [Fact]
    public void NextInterval_ClusterWithTraffic_UsesIntervalUnhealthyAndEdgeIntervals()
    {
        var (checker, cluster) = Create(Plan);
        cluster.Stats.UpstreamCxTotal.Increment();

        Assert.Equal(TimeSpan.FromSeconds(10), checker.NextInterval(healthy: true, HealthTransition.Unchanged));
        Assert.Equal(TimeSpan.FromSeconds(40), checker.NextInterval(healthy: true, HealthTransition.ChangePending));
        Assert.Equal(TimeSpan.FromSeconds(20), checker.NextInterval(healthy: false, HealthTransition.Changed));
        Assert.Equal(TimeSpan.FromSeconds(30), checker.NextInterval(healthy: false, HealthTransition.ChangePending));
    }

    [Fact]
    public void WithJitter_PercentAndAbsoluteJitter_StayWithinBounds()
    {
        var (checker, _) = Create(Plan with { IntervalJitterPercent = 50 });

        for (var i = 0; i < 100; i++)
        {
            var interval = checker.WithJitter(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
            Assert.InRange(interval, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(16));
        }
        Assert.Equal(TimeSpan.FromMilliseconds(1), Create(Plan).Checker.WithJitter(TimeSpan.Zero, TimeSpan.Zero));
    }
}
