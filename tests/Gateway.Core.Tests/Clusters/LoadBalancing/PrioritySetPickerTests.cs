using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>Envoy's priority set over the pickers: priority loads, per-priority panic, degraded hosts, locality weights.</summary>
public sealed class PrioritySetPickerTests
{
    private static readonly LocalityPlan ZoneA = new("eu", "a", "");
    private static readonly LocalityPlan ZoneB = new("eu", "b", "");

    private static int _next;

    /// <summary>Hosts of one priority: <paramref name="healthy"/> healthy ones, then <paramref name="unhealthy"/> unhealthy, then <paramref name="degraded"/> degraded.</summary>
    private static List<WeightedHost> Level(int priority, int healthy, int unhealthy = 0, int degraded = 0, LocalityPlan? locality = null, uint localityWeight = 0)
    {
        var cluster = new ClusterRuntime("c", new ClusterStats(new StatsStore(), "c"));
        var hosts = new List<WeightedHost>();
        void Add(HostHealth health)
        {
            var address = "10.0." + Interlocked.Increment(ref _next) % 250 + "." + (hosts.Count + 1) + ":80";
            hosts.Add(new WeightedHost(new DestinationState(address), cluster.Host(address), 1)
            {
                Priority = priority,
                Health = health,
                Locality = locality,
                LocalityWeight = localityWeight,
            });
        }
        for (var i = 0; i < healthy; i++)
        {
            Add(HostHealth.Healthy);
        }
        for (var i = 0; i < unhealthy; i++)
        {
            Add(HostHealth.Unhealthy);
        }
        for (var i = 0; i < degraded; i++)
        {
            Add(HostHealth.Degraded);
        }
        return hosts;
    }

    private static PrioritySetOptions Options(uint factor = 140, double threshold = 50, bool localityWeighted = false) => new(factor, threshold, localityWeighted);

    [Fact]
    public void Compute_P0TwoOfFourHealthyAtFactor140_Splits70To30()
    {
        // Envoy's maths: P0 health = min(100, 140 × 2 / 4) = 70, P1 health 100; normalized total 100 → 70% / 30%.
        var state = PrioritySetState.Compute([.. Level(0, healthy: 2, unhealthy: 2), .. Level(1, healthy: 2)], Options());

        Assert.Equal([70, 30], state.HealthyLoad);
        Assert.Equal([0, 0], state.DegradedLoad);
        Assert.Equal([false, false], state.Panic);
    }

    [Fact]
    public void Compute_AllOfP0Unhealthy_P1TakesAllTheLoad()
    {
        var state = PrioritySetState.Compute([.. Level(0, healthy: 0, unhealthy: 3), .. Level(1, healthy: 2)], Options());

        Assert.Equal([0, 100], state.HealthyLoad);
        Assert.Equal([false, false], state.Panic);
        Assert.All(state.Reachable(), h => Assert.Equal(1, h.Priority));
    }

    [Fact]
    public void Compute_OverprovisioningFactor100_ShareFollowsTheHealthyFraction()
    {
        var state = PrioritySetState.Compute([.. Level(0, healthy: 2, unhealthy: 2), .. Level(1, healthy: 2)], Options(factor: 100));

        Assert.Equal([50, 50], state.HealthyLoad);
    }

    [Fact]
    public void Compute_DegradedHostsInP0_TakeWhatTheHealthyOnesCannot()
    {
        // Health 140 × 2 / 4 = 70, degraded 70; the healthy hosts take 70%, the degraded ones the remaining 30%.
        var state = PrioritySetState.Compute(Level(0, healthy: 2, degraded: 2), Options());

        Assert.Equal([70], state.HealthyLoad);
        Assert.Equal([30], state.DegradedLoad);
        Assert.Equal(2, state.HealthyCount);
        Assert.Equal(2, state.DegradedCount);
    }

    [Fact]
    public void Compute_EveryLevelBelowThreshold_TotalPanicSplitsByHostCount()
    {
        // Both levels 25% healthy (< 50%): total panic, the load follows the host counts (4 and 4 → 50/50).
        var state = PrioritySetState.Compute([.. Level(0, healthy: 1, unhealthy: 3), .. Level(1, healthy: 1, unhealthy: 3)], Options());

        Assert.Equal([true, true], state.Panic);
        Assert.Equal([50, 50], state.HealthyLoad);
        Assert.Equal(8, state.Reachable().Count);
    }

    [Fact]
    public void Compute_ThresholdZeroAndNothingHealthy_NoHostIsReachable()
    {
        var state = PrioritySetState.Compute(Level(0, healthy: 0, unhealthy: 2), Options(threshold: 0));

        Assert.Equal([100], state.HealthyLoad);
        Assert.Equal([false], state.Panic);
        Assert.Empty(state.Reachable());
    }

    [Fact]
    public void Compute_TotalBelow100_OnlyTheLevelBelowThresholdPanics()
    {
        // P0 1 of 4 healthy (35), P1 1 of 2 healthy (70): normalized total 100, so Envoy sets no panic at all.
        var full = PrioritySetState.Compute([.. Level(0, healthy: 1, unhealthy: 3), .. Level(1, healthy: 1, unhealthy: 1)], Options());
        Assert.Equal([false, false], full.Panic);
        Assert.Equal([35, 65], full.HealthyLoad);

        // P0 1 of 5 (28), P1 2 of 4 (70): total 98, so each level is checked: P0 (20% healthy) panics, P1 (50%) does not;
        // the load is 28 and 70 scaled by 100 / 98, the rounding remainder to P0.
        var partial = PrioritySetState.Compute([.. Level(0, healthy: 1, unhealthy: 4), .. Level(1, healthy: 2, unhealthy: 2)], Options());
        Assert.Equal([true, false], partial.Panic);
        Assert.Equal([29, 71], partial.HealthyLoad);
    }

    [Fact]
    public void Pick_P0TwoOfFourHealthy_SendsAbout70PercentToP0()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(7)), Options(), new Random(11));
        var picker = factory.Create([.. Level(0, healthy: 2, unhealthy: 2), .. Level(1, healthy: 2)]);

        const int N = 10_000;
        var p0 = 0;
        for (var i = 0; i < N; i++)
        {
            var host = picker.Pick(null, 0)!.Value;
            Assert.Equal(HostHealth.Healthy, host.Health);
            p0 += host.Priority == 0 ? 1 : 0;
        }

        // Binomial(10000, 0.7): standard deviation ≈ 46; 5 standard deviations either side.
        Assert.InRange(p0, 7000 - 230, 7000 + 230);
    }

    [Fact]
    public void Pick_AllOfP0Unhealthy_EveryPickIsP1()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.Random(new Random(3)), Options(), new Random(5));
        var picker = factory.Create([.. Level(0, healthy: 0, unhealthy: 2), .. Level(1, healthy: 3)]);

        for (var i = 0; i < 1000; i++)
        {
            var host = picker.Pick(null, 0)!.Value;
            Assert.Equal(1, host.Priority);
            Assert.False(host.Panic);
        }
    }

    [Fact]
    public void Pick_OnlyLevelInPanic_UsesAllHostsAndMarksThePick()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(), new Random(2));
        var picker = factory.Create(Level(0, healthy: 1, unhealthy: 3));

        var seen = new HashSet<string>();
        for (var i = 0; i < 8; i++)
        {
            var host = picker.Pick(null, 0)!.Value;
            Assert.True(host.Panic);
            seen.Add(host.Host.Address);
        }
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void Pick_DegradedHostsTakeTheRemainder_AboutThirtyPercent()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(), new Random(9));
        var picker = factory.Create(Level(0, healthy: 2, degraded: 2));

        const int N = 10_000;
        var degraded = 0;
        for (var i = 0; i < N; i++)
        {
            degraded += picker.Pick(null, 0)!.Value.Health == HostHealth.Degraded ? 1 : 0;
        }

        Assert.InRange(degraded, 3000 - 230, 3000 + 230);
    }

    [Fact]
    public void Pick_LocalityWeights2To1_SplitsTwoToOne()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(localityWeighted: true), new Random(4));
        var picker = factory.Create([.. Level(0, healthy: 2, locality: ZoneA, localityWeight: 2), .. Level(0, healthy: 2, locality: ZoneB, localityWeight: 1)]);

        const int N = 3000;
        var a = 0;
        for (var i = 0; i < N; i++)
        {
            a += picker.Pick(null, 0)!.Value.Locality == ZoneA ? 1 : 0;
        }

        // EDF over weights 2 and 1 is exact per cycle of three picks; the random start shifts it by at most one.
        Assert.InRange(a, 1999, 2001);
    }

    [Fact]
    public void Pick_LocalityHalfUnhealthy_EffectiveWeightScaledByAvailability()
    {
        // Zone a: weight 1, 1 of 2 healthy → 1 × min(1, 1.4 × 0.5) = 0.7; zone b: weight 1, all healthy → 1. Share of a: 0.7 / 1.7.
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(localityWeighted: true), new Random(4));
        var picker = factory.Create([.. Level(0, healthy: 1, unhealthy: 1, locality: ZoneA, localityWeight: 1), .. Level(0, healthy: 2, locality: ZoneB, localityWeight: 1)]);

        const int N = 1700;
        var a = 0;
        for (var i = 0; i < N; i++)
        {
            var host = picker.Pick(null, 0)!.Value;
            Assert.Equal(HostHealth.Healthy, host.Health);
            a += host.Locality == ZoneA ? 1 : 0;
        }

        Assert.InRange(a, 700 - 2, 700 + 2);
    }

    [Fact]
    public void Pick_LocalityWithoutWeight_GetsNoTraffic()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(localityWeighted: true), new Random(4));
        var picker = factory.Create([.. Level(0, healthy: 2, locality: ZoneA, localityWeight: 1), .. Level(0, healthy: 2, locality: ZoneB)]);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(ZoneA, picker.Pick(null, 0)!.Value.Locality);
        }
    }

    [Fact]
    public void Pick_RingHashOverTwoLevels_TheHashChoosesTheLevelAndTheHost()
    {
        var hash = HashPickerFactory.Create(new RingHashPlan(1024, 8_388_608, RingHashFunction.XxHash, false), new Random(1));
        var factory = new PrioritySetPickerFactory(hash, Options(), new Random(2));
        var picker = factory.Create([.. Level(0, healthy: 2, unhealthy: 2), .. Level(1, healthy: 2)]);
        Assert.IsAssignableFrom<HashingPicker>(picker);

        for (ulong key = 0; key < 200; key++)
        {
            var first = picker.Pick(key, 0)!.Value;
            // choosePriority reads hash % 100 + 1 against the loads 70 / 30.
            Assert.Equal(key % 100 + 1 <= 70 ? 0 : 1, first.Priority);
            Assert.Equal(first.Host.Address, picker.Pick(key, 0)!.Value.Host.Address);
            Assert.Equal(HostHealth.Healthy, first.Health);
        }
    }

    [Fact]
    public void Create_OneHealthyLevel_IsThePolicysOwnPicker()
    {
        var factory = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), Options(), new Random(2));

        Assert.IsType<RoundRobinPicker>(factory.Create(Level(0, healthy: 3, unhealthy: 1)));
    }
}
