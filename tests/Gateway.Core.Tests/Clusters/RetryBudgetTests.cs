using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Tests.Clusters;

/// <summary>The retry budget's arithmetic and the cluster's retry and connection limits, without sockets.</summary>
public class RetryBudgetTests
{
    private readonly StatsStore _stats = new();

    private ClusterRuntime Cluster(ThresholdsPlan thresholds)
        => new("c", new ClusterStats(_stats, "c"))
        {
            Plan = new ClusterPlan("c", DiscoveryType.Static, LbPolicy.RoundRobin, TimeSpan.FromSeconds(5), DnsLookupFamily.Auto, TimeSpan.FromSeconds(5), [])
            {
                Thresholds = [thresholds, ThresholdsPlan.Defaults],
            },
        };

    private long Gauge(string name) => _stats.Gauge("cluster.c." + name).Value;

    [Theory]
    [InlineData(20, 3, 10, 3)]   // 20% of 10 = 2, floored by min_retry_concurrency 3
    [InlineData(20, 3, 100, 20)]
    [InlineData(25, 0, 100, 25)]
    [InlineData(20, 0, 14, 2)]   // 2.8 is truncated, as Envoy's uint64_t conversion does
    [InlineData(20, 0, 0, 0)]
    [InlineData(0, 0, 1000, 0)]
    [InlineData(100, 1, 7, 7)]
    [InlineData(50, 5, 0, 5)]
    public void Limit_ActiveRequests_IsPercentFlooredByMinRetryConcurrency(double percent, long min, long active, long expected)
        => Assert.Equal(expected, new RetryBudgetPlan(percent, min).Limit(active));

    [Fact]
    public void Limit_TenActiveAtTwentyPercent_IsThree()
        => Assert.Equal(3, new RetryBudgetPlan(RetryBudgetPlan.DefaultBudgetPercent, RetryBudgetPlan.DefaultMinRetryConcurrency).Limit(10));

    [Fact]
    public void RetryLimit_WithoutBudget_IsMaxRetries()
        => Assert.Equal(3, ThresholdsPlan.Defaults.RetryLimit(10_000));

    [Fact]
    public void TryAcquireRetry_Budget_AllowsThePercentOfActiveRequestsIncludingTheAskingOne()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { RetryBudget = new RetryBudgetPlan(50, 0) });
        for (var i = 0; i < 3; i++)
        {
            Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));
        }

        // 3 in flight + the asking request = 4; 50% → 2 concurrent retries.
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));

        cluster.ReleaseRetry(RoutingPriority.Default);
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
    }

    [Fact]
    public void TryAcquireRetry_BudgetShrinksWithTheRequests()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { RetryBudget = new RetryBudgetPlan(100, 0) });
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));

        cluster.ReleaseRequest(RoutingPriority.Default);

        // Only the asking request is left: a budget of 1, and 2 retries are already held.
        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.Equal(0, cluster.RetryLimit(RoutingPriority.Default));
    }

    [Fact]
    public void TryAcquireRetry_BudgetReplacesMaxRetries()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxRetries = 0, RetryBudget = new RetryBudgetPlan(20, 3) });

        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));
    }

    [Fact]
    public void TryAcquireRetry_ZeroBudget_RefusesEveryRetry()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { RetryBudget = new RetryBudgetPlan(0, 0) });
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));

        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));
    }

    [Fact]
    public void TryAcquireRetry_BudgetOnDefault_LeavesHighOnMaxRetries()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { RetryBudget = new RetryBudgetPlan(0, 0) });

        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.High));
    }

    [Fact]
    public void RetryLimit_WithBudget_IsTheBudgetOverTheRequestsInFlight()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { RetryBudget = new RetryBudgetPlan(20, 1) });
        Assert.Equal(1, cluster.RetryLimit(RoutingPriority.Default));
        for (var i = 0; i < 10; i++)
        {
            cluster.TryAcquireRequest(RoutingPriority.Default);
        }

        Assert.Equal(2, cluster.RetryLimit(RoutingPriority.Default));
        Assert.Equal(3, cluster.RetryLimit(RoutingPriority.High));
    }

    [Fact]
    public void RemainingRetries_WithBudgetAndTrackRemaining_IsZeroAsInEnvoy()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { TrackRemaining = true, RetryBudget = new RetryBudgetPlan(20, 3) });

        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));

        Assert.Equal(0, Gauge("circuit_breakers.default.remaining_retries"));
        Assert.Equal(1023, Gauge("circuit_breakers.default.remaining_rq"));
    }

    [Fact]
    public void RemainingRetries_WithoutBudget_CountsDownFromMaxRetries()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { TrackRemaining = true });

        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));

        Assert.Equal(2, Gauge("circuit_breakers.default.remaining_retries"));
    }

    [Fact]
    public void RqRetryOpen_WithBudget_FollowsTheNestedMaxRetriesAsInEnvoy()
    {
        // Envoy's RetryBudgetImpl counts retries in a nested max_retries resource, whose open gauge it sets.
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxRetries = 1, RetryBudget = new RetryBudgetPlan(0, 2) });

        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.Equal(1, Gauge("circuit_breakers.default.rq_retry_open"));
        Assert.True(cluster.TryAcquireRetry(RoutingPriority.Default));
        Assert.False(cluster.TryAcquireRetry(RoutingPriority.Default));

        cluster.ReleaseRetry(RoutingPriority.Default);
        cluster.ReleaseRetry(RoutingPriority.Default);
        Assert.Equal(0, Gauge("circuit_breakers.default.rq_retry_open"));
    }

    [Fact]
    public void TryAcquireRequest_NoIdleConnectionAtMaxConnections_CountsCxOverflow()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxConnections = 1 });
        cluster.Stats.UpstreamCxActive.Set(1);

        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));   // takes the open connection
        Assert.Equal(0, cluster.Stats.UpstreamCxOverflow.Value);
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));   // would need a second one
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.High));      // HIGH has its own max_connections (1024)

        Assert.Equal(1, cluster.Stats.UpstreamCxOverflow.Value);
        Assert.Equal(1, Gauge("circuit_breakers.default.cx_open"));
    }

    [Fact]
    public void TryAcquireRequest_OtherPriorityHoldsTheConnection_CountsCxOverflow()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxConnections = 1 });
        cluster.Stats.UpstreamCxActive.Set(1);

        // Connections are shared by both priorities' requests: a HIGH request holds the only one.
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.High));
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));

        Assert.Equal(1, cluster.Stats.UpstreamCxOverflow.Value);
    }

    [Fact]
    public void TryAcquireRequest_BelowMaxConnections_DoesNotCountCxOverflow()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxConnections = 2 });
        cluster.Stats.UpstreamCxActive.Set(1);

        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));
        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));

        Assert.Equal(0, cluster.Stats.UpstreamCxOverflow.Value);
        Assert.Equal(0, Gauge("circuit_breakers.default.cx_open"));
    }

    [Fact]
    public void TryAcquireRequest_PendingOverflow_DoesNotCountCxOverflow()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxConnections = 1, MaxPendingRequests = 0 });
        cluster.Stats.UpstreamCxActive.Set(1);

        Assert.True(cluster.TryAcquireRequest(RoutingPriority.Default));
        Assert.False(cluster.TryAcquireRequest(RoutingPriority.Default));

        Assert.Equal(0, cluster.Stats.UpstreamCxOverflow.Value);
        Assert.Equal(1, cluster.Stats.UpstreamRqPendingOverflow.Value);
    }

    [Fact]
    public void OnConnectionsChanged_FollowsTheConnectionCount()
    {
        var cluster = Cluster(ThresholdsPlan.Defaults with { MaxConnections = 2, TrackRemaining = true });

        cluster.Stats.UpstreamCxActive.Set(2);
        cluster.OnConnectionsChanged();
        Assert.Equal(1, Gauge("circuit_breakers.default.cx_open"));
        Assert.Equal(0, Gauge("circuit_breakers.default.remaining_cx"));
        Assert.Equal(0, Gauge("circuit_breakers.high.cx_open"));

        cluster.Stats.UpstreamCxActive.Set(1);
        cluster.OnConnectionsChanged();
        Assert.Equal(0, Gauge("circuit_breakers.default.cx_open"));
        Assert.Equal(1, Gauge("circuit_breakers.default.remaining_cx"));
    }
}
