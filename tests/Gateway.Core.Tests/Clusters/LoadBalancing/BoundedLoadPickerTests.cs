using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary><c>hash_balance_factor</c>: Envoy's BoundedLoadHashingLoadBalancer over a ring or table, with the hosts' active requests.</summary>
public sealed class BoundedLoadPickerTests
{
    private readonly ClusterStats _stats = new(new StatsStore(), "c");
    private readonly ClusterRuntime _cluster;

    public BoundedLoadPickerTests() => _cluster = new ClusterRuntime("c", _stats);

    private List<WeightedHost> Hosts(int count)
    {
        var hosts = new List<WeightedHost>();
        for (var i = 1; i <= count; i++)
        {
            var address = "10.0.0." + i + ":80";
            hosts.Add(new WeightedHost(new DestinationState(address), _cluster.Host(address), 1));
        }
        return hosts;
    }

    /// <summary><paramref name="count"/> requests in flight on <paramref name="host"/> (and on the cluster, as the router charges both, unless <paramref name="cluster"/> is false).</summary>
    private void Load(WeightedHost host, int count, bool cluster = true)
    {
        for (var i = 0; i < count; i++)
        {
            host.Host.RequestStarted();
            if (cluster)
            {
                _stats.UpstreamRqActive.Increment();
            }
        }
    }

    private static HashPickerFactory Factory(HashLbPlan plan) => HashPickerFactory.Create(plan, new Random(1));

    public static TheoryData<string> Algorithms => new() { "ring", "maglev" };

    private static HashLbPlan Plan(string algorithm, uint factor) => algorithm == "ring"
        ? new RingHashPlan(64, RingHashPlan.DefaultMaximumRingSize, RingHashFunction.XxHash, false) { HashBalanceFactor = factor }
        : new MaglevPlan(131, false) { HashBalanceFactor = factor };

    [Fact]
    public void Mt19937_StandardVectors_MatchStdMt19937()
    {
        // The C++ standard's check: the 10000th output of a default-constructed std::mt19937 (seed 5489) is 4123659995.
        var generator = new Mt19937(new uint[Mt19937.StateSize], 5489);
        Assert.Equal(3499211612u, generator.Next());
        for (var i = 2; i < 10000; i++)
        {
            generator.Next();
        }
        Assert.Equal(4123659995u, generator.Next());
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Pick_NoHostOverloaded_TheTablesHost(string algorithm)
    {
        var hosts = Hosts(4);
        var plain = Factory(Plan(algorithm, 0)).Create(hosts);
        var bounded = Factory(Plan(algorithm, 150)).Create(hosts);

        Assert.IsType<BoundedLoadPicker>(bounded);
        for (ulong hash = 0; hash < 50; hash++)
        {
            Assert.Equal(plain.Pick(hash * 7919, 0)!.Value.Host.Address, bounded.Pick(hash * 7919, 0)!.Value.Host.Address);
        }
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Pick_TablesHostAboveItsBound_AnotherHostTheSameForTheSameHash(string algorithm)
    {
        var hosts = Hosts(3);
        var plain = Factory(Plan(algorithm, 0)).Create(hosts);
        var bounded = Factory(Plan(algorithm, 150)).Create(hosts);
        const ulong Hash = 123456789;
        var home = plain.Pick(Hash, 0)!.Value;
        // 7 in flight on the home host, 7 in the cluster: slots = ceil(ceil(8 × 150 / 100) × 1/3) = 4 < 7.
        Load(home, 7);

        var picked = bounded.Pick(Hash, 0)!.Value;

        Assert.NotEqual(home.Host.Address, picked.Host.Address);
        Assert.Equal(picked.Host.Address, bounded.Pick(Hash, 0)!.Value.Host.Address);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Pick_AtItsBound_StillTheTablesHost(string algorithm)
    {
        var hosts = Hosts(3);
        var home = Factory(Plan(algorithm, 0)).Create(hosts).Pick(42, 0)!.Value;
        var bounded = Factory(Plan(algorithm, 150)).Create(hosts);
        // 2 in flight, both on the home host: slots = ceil(ceil(3 × 150 / 100) × 1/3) = 2, not above: kept.
        Load(home, 2);
        Assert.Equal(home.Host.Address, bounded.Pick(42, 0)!.Value.Host.Address);

        // 3 in flight: slots = ceil(ceil(4 × 150 / 100) × 1/3) = 2 < 3: overloaded, another host.
        Load(home, 1);
        Assert.NotEqual(home.Host.Address, bounded.Pick(42, 0)!.Value.Host.Address);
    }

    [Fact]
    public void Pick_EveryHostOverloaded_TheLeastOverloaded()
    {
        var hosts = Hosts(3);
        var bounded = Factory(Plan("maglev", 100)).Create(hosts);
        // Requests on the hosts the cluster's upstream_rq_active does not count (yet): each host has 1 slot
        // (ceil(1 × 100 / 100) × 1/3, at least 1), so all are above it; the least overloaded is taken.
        Load(hosts[0], 30, cluster: false);
        Load(hosts[1], 10, cluster: false);
        Load(hosts[2], 20, cluster: false);

        for (ulong hash = 0; hash < 20; hash++)
        {
            Assert.Equal(hosts[1].Host.Address, bounded.Pick(hash * 104729, 0)!.Value.Host.Address);
        }
    }

    [Fact]
    public void Pick_WeightedHosts_SlotsFollowTheNormalizedWeight()
    {
        // Weights 1, 1, 2 (normalized 1/4, 1/4, 1/2): the heavy host has twice the slots.
        var hosts = Hosts(3);
        hosts[2] = hosts[2] with { Weight = 2 };
        var bounded = Factory(Plan("maglev", 100)).Create(hosts);
        Load(hosts[0], 10);
        Load(hosts[1], 10);
        Load(hosts[2], 15);

        // 35 in flight: slots ceil(36 / 4) = 9, 9 and 18: only the heavy host (15) is within its bound.
        for (ulong hash = 0; hash < 20; hash++)
        {
            Assert.Equal(hosts[2].Host.Address, bounded.Pick(hash * 104729, 0)!.Value.Host.Address);
        }

        Load(hosts[0], 5);
        Load(hosts[2], 13);
        // 53 in flight: slots ceil(54 / 4) = 14, 14 and 27: 15 and 28 are above, the second host (10) is within.
        for (ulong hash = 0; hash < 20; hash++)
        {
            Assert.Equal(hosts[1].Host.Address, bounded.Pick(hash * 104729, 0)!.Value.Host.Address);
        }
    }

    [Fact]
    public void Pick_BoundedLoadThroughThePrioritySet_SkipsTheOverloadedHost()
    {
        var hosts = Hosts(3);
        var plan = Plan("ring", 125);
        var picker = new PrioritySetPickerFactory(Factory(plan), PrioritySetOptions.Defaults, new Random(1)).Create(hosts);
        var home = Factory(Plan("ring", 0)).Create(hosts).Pick(2024, 0)!.Value;
        Load(home, 10);

        Assert.NotEqual(home.Host.Address, picker.Pick(2024, 0)!.Value.Host.Address);
    }

    [Fact]
    public void Pick_OverloadedWalkOverALocalityWeightedTable_AllocatesNothing()
    {
        var hosts = Hosts(300);
        var bounded = HashPickerFactory.Create(Plan("maglev", 120), new Random(1)).Create(NormalizedHostWeights.Flat(hosts));
        var few = Factory(Plan("ring", 120)).Create(hosts[..3]);
        foreach (var host in hosts)
        {
            Load(host, 2, cluster: false);
        }

        // Every host above its one slot, so each pick walks them all: more hosts than the stack holds (the rented
        // index array), and three (on the stack).
        var bytes = Allocations.Measure(() =>
        {
            bounded.Pick(11, 0);
            few.Pick(11, 0);
        });

        Assert.Equal(0, bytes);
    }
}
