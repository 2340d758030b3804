using Gateway.Clusters;
using Gateway.Clusters.HealthChecking;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters;

/// <summary><c>common_lb_config.ignore_new_hosts_until_first_hc</c>: new hosts are excluded until their first active health check.</summary>
public sealed class IgnoreNewHostsTests
{
    private static ClusterRuntime Cluster(bool ignoreNewHosts, Action<ClusterRuntime>? availabilityChanged = null)
        => new("c", new ClusterStats(new StatsStore(), "c"), availabilityChanged)
        {
            Plan = new ClusterPlan("c", DiscoveryType.Static, LbPolicy.RoundRobin, TimeSpan.FromSeconds(5), DnsLookupFamily.Auto, TimeSpan.FromSeconds(5), [])
            {
                IgnoreNewHostsUntilFirstHc = ignoreNewHosts,
            },
        };

    private static DestinationState Destination(string address) => new(address, new DestinationModel(new DestinationConfig { Address = address }));

    /// <summary>Two checked healthy hosts and three new ones awaiting their first check (failed and pending, as the checker starts them).</summary>
    private static List<DestinationState> Hosts(ClusterRuntime cluster, bool waitForFirstHc)
    {
        var all = new List<DestinationState>();
        for (var i = 1; i <= 5; i++)
        {
            var destination = Destination("http://10.0.0." + i + ":80");
            var host = cluster.Host(destination);
            if (i > 2)
            {
                host.WaitsForFirstHc = waitForFirstHc;
                host.SetHealthFlag(HostHealthFlags.FailedActiveHc | HostHealthFlags.PendingActiveHc);
            }
            all.Add(destination);
        }
        return all;
    }

    [Theory]
    // 2 healthy of 5 is 40% (< 50, panic: all 5 used); without the 3 excluded hosts it is 2 of 2.
    [InlineData(true, 2, false)]
    [InlineData(false, 5, true)]
    public void SelectAvailable_NewHostsPendingFirstHc_ExcludedOnlyWithTheOption(bool ignoreNewHosts, int available, bool panic)
    {
        var cluster = Cluster(ignoreNewHosts);

        var hosts = cluster.SelectAvailable(Hosts(cluster, waitForFirstHc: ignoreNewHosts));

        Assert.Equal(available, hosts.Count);
        Assert.Equal(panic, cluster.InPanic);
    }

    [Fact]
    public void ClearHealthFlag_PendingClearedByAFailedFirstCheck_RecomputesAvailabilityAndEndsExclusion()
    {
        var changes = 0;
        var cluster = Cluster(ignoreNewHosts: true, _ => changes++);
        var all = Hosts(cluster, waitForFirstHc: true);
        cluster.SelectAvailable(all);
        var host = cluster.Host(all[2]);
        changes = 0;

        host.ClearHealthFlag(HostHealthFlags.PendingActiveHc);

        Assert.Equal(1, changes);
        Assert.False(host.IsExcluded);
        Assert.False(host.IsHealthy);
    }

    [Fact]
    public async Task Start_HostsAfterTheInitialSet_WaitForTheirFirstCheckOnlyWithTheOption()
    {
        var cluster = Cluster(ignoreNewHosts: true);
        var plan = new HealthCheckPlan(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 3, 2, "c", "/healthz", "GET");
        var store = new StatsStore();
        // A fake clock that never advances: each session makes at most its first probe (to closed loopback ports).
        await using var checker = new ClusterHealthChecker(cluster, plan, new HealthCheckStats(store, "c"), new FakeTimeProvider(), NullLogger.Instance);
        var initial = Destination("http://127.0.0.1:1");
        cluster.SetMembers([initial]);
        checker.Start();

        var added = Destination("http://127.0.0.1:2");
        cluster.SetMembers([initial, added]);

        Assert.False(cluster.Host(initial).WaitsForFirstHc);
        Assert.True(cluster.Host(added).WaitsForFirstHc);
    }
}
