using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Tests.Common;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

public sealed class HostPickerTests
{
    private static WeightedHost[] Hosts(params uint[] weights)
    {
        var cluster = new ClusterRuntime("c", new ClusterStats(new StatsStore(), "c"));
        var hosts = new WeightedHost[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            var address = "10.0.0." + (i + 1) + ":80";
            hosts[i] = new WeightedHost(new DestinationState(address), cluster.Host(address), weights[i]);
        }
        return hosts;
    }

    [Fact]
    public void EdfScheduler_EqualWeights_PicksInInsertionOrder()
    {
        // Envoy's edf_scheduler_test Unweighted: 128 entries of weight 1 come out in order, round after round.
        var edf = new EdfScheduler(128);
        for (var i = 0; i < 128; i++)
        {
            edf.Add(i, 1);
        }
        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < 128; i++)
            {
                Assert.Equal(i, edf.PickAndAdd(_ => 1));
            }
        }
    }

    [Fact]
    public void EdfScheduler_WeightsOneToN_PicksEachInProportion()
    {
        // Envoy's edf_scheduler_test Weighted: entry i with weight i + 1 is picked i + 1 times in n(n+1)/2 picks.
        const int N = 128;
        var edf = new EdfScheduler(N);
        var counts = new int[N];
        for (var i = 0; i < N; i++)
        {
            edf.Add(i, i + 1);
        }
        for (var pick = 0; pick < N * (N + 1) / 2; pick++)
        {
            counts[edf.PickAndAdd(i => i + 1)]++;
        }
        for (var i = 0; i < N; i++)
        {
            Assert.Equal(i + 1, counts[i]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    public void RoundRobin_Weights3To1_ExactOverEveryCycle(int seed)
    {
        var hosts = Hosts(3, 1);
        var picker = PickerFactory.RoundRobin(new Random(seed)).Create(hosts);
        for (var cycle = 0; cycle < 50; cycle++)
        {
            var first = 0;
            for (var i = 0; i < 4; i++)
            {
                first += picker.Pick(null, 0)!.Value.Host == hosts[0].Host ? 1 : 0;
            }
            Assert.Equal(3, first);
        }
    }

    [Fact]
    public void RoundRobin_EqualWeights_Rotates()
    {
        var hosts = Hosts(1, 1, 1);
        var picker = PickerFactory.RoundRobin(new Random(3)).Create(hosts);
        var start = Array.FindIndex(hosts, h => h.Host == picker.Pick(null, 0)!.Value.Host);
        for (var i = 1; i < 30; i++)
        {
            Assert.Same(hosts[(start + i) % 3].Host, picker.Pick(null, 0)!.Value.Host);
        }
    }

    [Fact]
    public void LeastRequest_TwoHosts_PicksTheIdleOneOfTheDraws()
    {
        var hosts = Hosts(1, 1);
        hosts[0].Host.RequestStarted();
        // N_CHOICES draws choice_count hosts even when there are no more hosts than that: both draws on the busy host pick it
        // (Envoy's proto: 25% of the time with two hosts).
        var picker = PickerFactory.LeastRequest(new ScriptedRandom(0, 1, 1, 0, 0, 0)).Create(hosts);

        Assert.Same(hosts[1].Host, picker.Pick(null, 0)!.Value.Host);
        Assert.Same(hosts[1].Host, picker.Pick(null, 0)!.Value.Host);
        Assert.Same(hosts[0].Host, picker.Pick(null, 0)!.Value.Host);
    }

    [Fact]
    public void LeastRequestFullScan_TwoHosts_AlwaysPicksTheIdleOne()
    {
        var hosts = Hosts(1, 1);
        hosts[0].Host.RequestStarted();
        var picker = PickerFactory.LeastRequest(new Random(5), fullScan: true).Create(hosts);
        for (var i = 0; i < 100; i++)
        {
            Assert.Same(hosts[1].Host, picker.Pick(null, 0)!.Value.Host);
        }
    }

    [Theory]
    // Three idle hosts: the second replaces the first when its draw % 2 is 0, the third the candidate when its draw % 3 is 0.
    [InlineData(1, 2, 0)]
    [InlineData(0, 1, 1)]
    [InlineData(1, 0, 2)]
    public void LeastRequestFullScan_Ties_ReservoirSampling(long second, long third, int picked)
    {
        var hosts = Hosts(1, 1, 1, 1);
        hosts[3].Host.RequestStarted();
        var picker = PickerFactory.LeastRequest(new ScriptedRandom(second, third), fullScan: true).Create(hosts);

        Assert.Same(hosts[picked].Host, picker.Pick(null, 0)!.Value.Host);
    }

    [Fact]
    public void LeastRequestFullScan_ManyPicks_TiedHostsEquallyLikely()
    {
        var hosts = Hosts(1, 1, 1);
        var picker = PickerFactory.LeastRequest(new Random(7), fullScan: true).Create(hosts);
        var counts = new int[3];
        for (var i = 0; i < 3000; i++)
        {
            var picked = picker.Pick(null, 0)!.Value.Host;
            counts[Array.FindIndex(hosts, h => h.Host == picked)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void LeastRequest_UnequalWeights_DividesWeightByActiveRequests()
    {
        // Weights 2 and 1; host 0 has 3 active requests: 2/4 = 0.5 against 1/1, so host 1 takes two picks in three.
        var hosts = Hosts(2, 1);
        for (var i = 0; i < 3; i++)
        {
            hosts[0].Host.RequestStarted();
        }
        var picker = PickerFactory.LeastRequest(new Random(5)).Create(hosts);
        var second = 0;
        for (var i = 0; i < 300; i++)
        {
            second += picker.Pick(null, 0)!.Value.Host == hosts[1].Host ? 1 : 0;
        }
        Assert.InRange(second, 199, 201);
    }

    [Fact]
    public void Random_ManyPicks_Uniform()
    {
        var hosts = Hosts(1, 9);
        var picker = PickerFactory.Random(new Random(11)).Create(hosts);
        var first = 0;
        for (var i = 0; i < 10_000; i++)
        {
            first += picker.Pick(null, 0)!.Value.Host == hosts[0].Host ? 1 : 0;
        }
        // Weights are ignored by Envoy's RANDOM: 50% ± 3% (far beyond 5 standard deviations of 0.5%).
        Assert.InRange(first, 4700, 5300);
    }

    [Fact]
    public void PriorityLoad_HalfHealthyP0_Takes70Percent()
    {
        Span<int> healthy = stackalloc int[2];
        Span<int> degraded = stackalloc int[2];
        Assert.True(PriorityLoad.Compute([(4, 2, 0), (4, 4, 0)], 140, healthy, degraded));
        Assert.Equal(70, healthy[0]);
        Assert.Equal(30, healthy[1]);
    }

    [Fact]
    public void PriorityLoad_AllP0Unhealthy_P1TakesEverything()
    {
        Span<int> healthy = stackalloc int[2];
        Span<int> degraded = stackalloc int[2];
        Assert.True(PriorityLoad.Compute([(3, 0, 0), (2, 2, 0)], 140, healthy, degraded));
        Assert.Equal(0, healthy[0]);
        Assert.Equal(100, healthy[1]);
    }

    [Fact]
    public void PriorityLoad_NothingAvailable_ReportsTotalPanic()
    {
        Span<int> healthy = stackalloc int[2];
        Span<int> degraded = stackalloc int[2];
        Assert.False(PriorityLoad.Compute([(3, 0, 0), (2, 0, 0)], 140, healthy, degraded));
    }

    [Fact]
    public void PriorityLoad_DegradedOnly_LoadGoesToDegraded()
    {
        Span<int> healthy = stackalloc int[1];
        Span<int> degraded = stackalloc int[1];
        Assert.True(PriorityLoad.Compute([(2, 0, 1)], 140, healthy, degraded));
        Assert.Equal(0, healthy[0]);
        Assert.Equal(100, degraded[0]);
    }

    [Theory]
    [InlineData("round_robin_equal")]
    [InlineData("round_robin_weighted")]
    [InlineData("least_request_equal")]
    [InlineData("least_request_weighted")]
    [InlineData("random")]
    public void Pick_EveryPolicy_AllocatesNothing(string policy)
    {
        var random = new Random(1);
        var picker = policy switch
        {
            "round_robin_equal" => PickerFactory.RoundRobin(random).Create(Hosts(1, 1, 1)),
            "round_robin_weighted" => PickerFactory.RoundRobin(random).Create(Hosts(3, 1, 2)),
            "least_request_equal" => PickerFactory.LeastRequest(random).Create(Hosts(1, 1, 1)),
            "least_request_weighted" => PickerFactory.LeastRequest(random).Create(Hosts(3, 1, 2)),
            _ => PickerFactory.Random(random).Create(Hosts(1, 1, 1)),
        };
        Assert.Equal(0, Allocations.Measure(() => picker.Pick(null, 0)));
    }
}
