using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>
/// Locality weights in RING_HASH and MAGLEV (Envoy's normalizeWeights in thread_aware_lb_impl.cc): each host's share of
/// the ring or table is its weight within its locality times its locality's weight share, per priority level.
/// </summary>
public sealed class HashLocalityWeightTests
{
    private static readonly LocalityPlan ZoneA = new("eu", "a", "");
    private static readonly LocalityPlan ZoneB = new("eu", "b", "");
    private static readonly LocalityPlan ZoneC = new("eu", "c", "");

    private static readonly RingHashPlan Ring = new(1024, RingHashPlan.DefaultMaximumRingSize, RingHashFunction.XxHash, false);
    private static readonly MaglevPlan Maglev = new(MaglevPlan.DefaultTableSize, false);

    private readonly ClusterRuntime _cluster = new("c", new ClusterStats(new StatsStore(), "c"));

    private WeightedHost Host(string address, LocalityPlan locality, uint localityWeight, uint weight = 1, HostHealth health = HostHealth.Healthy, int priority = 0)
        => new(new DestinationState(address), _cluster.Host(address), weight)
        {
            Locality = locality,
            LocalityWeight = localityWeight,
            Health = health,
            Priority = priority,
        };

    /// <summary>The share of <paramref name="picks"/> random hashes (a seeded Random, so the same every run) each host address got.</summary>
    private static Dictionary<string, double> Shares(IHostPicker picker, int picks = 20000)
    {
        var random = new Random(12345);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < picks; i++)
        {
            var host = picker.Pick((ulong)random.NextInt64(long.MinValue, long.MaxValue), 0)!.Value;
            counts[host.Host.Address] = counts.GetValueOrDefault(host.Host.Address) + 1;
        }
        return counts.ToDictionary(kv => kv.Key, kv => (double)kv.Value / picks);
    }

    [Fact]
    public void ByLocality_HostWeightWithinLocalityTimesLocalityShare()
    {
        WeightedHost[] hosts = [Host("10.0.0.2:80", ZoneB, 3, weight: 1), Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.3:80", ZoneB, 3, weight: 3)];

        var normalized = NormalizedHostWeights.ByLocality(hosts, hosts);

        // Localities in Envoy's order (zone a before b), hosts in their order within it: 1/4, 3/4 × 1/4, 3/4 × 3/4.
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], normalized.Hosts.Select(h => h.Host.Address));
        Assert.Equal([0.25, 0.1875, 0.5625], normalized.Weights);
        Assert.Equal(0.1875, normalized.Min);
        Assert.Equal(0.5625, normalized.Max);
    }

    [Fact]
    public void ByLocality_LocalityWithoutEligibleHosts_KeepsItsShareOfTheSum()
    {
        WeightedHost[] all = [Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.2:80", ZoneB, 1, health: HostHealth.Unhealthy)];

        var normalized = NormalizedHostWeights.ByLocality([all[0]], all);

        // As Envoy: the sum is over every locality of the level, so the healthy host's weight is 1/2, not 1.
        Assert.Equal(0.5, Assert.Single(normalized.Weights));
    }

    [Fact]
    public void ByLocality_ZeroWeightLocality_ContributesNoHostAndAllZeroGivesNone()
    {
        WeightedHost[] hosts = [Host("10.0.0.1:80", ZoneA, 2), Host("10.0.0.2:80", ZoneB, 0)];

        Assert.Equal(["10.0.0.1:80"], NormalizedHostWeights.ByLocality(hosts, hosts).Hosts.Select(h => h.Host.Address));
        WeightedHost[] unweighted = [Host("10.0.0.3:80", ZoneA, 0), Host("10.0.0.4:80", ZoneB, 0)];
        Assert.Empty(NormalizedHostWeights.ByLocality(unweighted, unweighted).Hosts);
        Assert.Null(new RingHashPicker(NormalizedHostWeights.ByLocality(unweighted, unweighted), Ring, new Random(1)).Pick(42, 0));
    }

    [Fact]
    public void RingHash_TwoLocalities1To3_EntriesAndTrafficSplitOneToThree()
    {
        WeightedHost[] hosts = [Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.2:80", ZoneB, 3)];

        var ring = new RingHashPicker(NormalizedHostWeights.ByLocality(hosts, hosts), Ring, new Random(1));
        var shares = Shares(ring);

        // The lightest host gets ceil(0.25 × 1024) = 256 entries, the other three times as many.
        Assert.Equal(1024UL, ring.Size);
        Assert.Equal(256UL, ring.MinHashesPerHost);
        Assert.Equal(768UL, ring.MaxHashesPerHost);
        // A 1024-entry ring's arcs spread its shares by a few percent (Envoy's own tests allow such bounds).
        Assert.InRange(shares["10.0.0.1:80"], 0.20, 0.30);
        Assert.InRange(shares["10.0.0.2:80"], 0.70, 0.80);
    }

    [Fact]
    public void Maglev_TwoLocalities1To3_EntriesAndTrafficSplitOneToThree()
    {
        WeightedHost[] hosts = [Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.2:80", ZoneB, 3)];

        var table = new MaglevPicker(NormalizedHostWeights.ByLocality(hosts, hosts), Maglev, new Random(1));
        var shares = Shares(table);

        // One turn in four rounds for the light host: a quarter of 65537 slots.
        Assert.InRange((double)table.MinEntriesPerHost / MaglevPlan.DefaultTableSize, 0.249, 0.251);
        Assert.InRange((double)table.MaxEntriesPerHost / MaglevPlan.DefaultTableSize, 0.749, 0.751);
        Assert.InRange(shares["10.0.0.1:80"], 0.23, 0.27);
    }

    [Theory]
    [InlineData("ring")]
    [InlineData("maglev")]
    public void PrioritySet_LocalityWeighted_HashTableUsesLocalityShares(string algorithm)
    {
        // Zone a: one host, weight 1; zone b: three hosts, weight 1. Unweighted, zone a would get a quarter; by locality, half.
        List<WeightedHost> hosts = [Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.2:80", ZoneB, 1), Host("10.0.0.3:80", ZoneB, 1), Host("10.0.0.4:80", ZoneB, 1)];
        HashLbPlan plan = algorithm == "ring" ? Ring : Maglev;
        var factory = new PrioritySetPickerFactory(HashPickerFactory.Create(plan, new Random(1)), new PrioritySetOptions(140, 50, LocalityWeighted: true), new Random(1));

        var weighted = Shares(factory.Create(hosts));
        var flat = Shares(new PrioritySetPickerFactory(HashPickerFactory.Create(plan, new Random(1)), new PrioritySetOptions(140, 50, LocalityWeighted: false), new Random(1)).Create(hosts));

        Assert.InRange(weighted["10.0.0.1:80"], 0.42, 0.58);
        Assert.InRange(flat["10.0.0.1:80"], 0.18, 0.32);
    }

    [Fact]
    public void PrioritySet_LocalityWeightedUnhealthyHost_ItsLocalitysOtherHostsKeepTheShare()
    {
        // Zone a (weight 1): one healthy host, one unhealthy; zone b (weight 1): one host. Envoy normalizes the healthy
        // hosts within each locality: the healthy host of zone a keeps all of its locality's half.
        List<WeightedHost> hosts = [Host("10.0.0.1:80", ZoneA, 1), Host("10.0.0.2:80", ZoneA, 1, health: HostHealth.Unhealthy), Host("10.0.0.3:80", ZoneB, 1), Host("10.0.0.4:80", ZoneC, 2)];
        var factory = new PrioritySetPickerFactory(HashPickerFactory.Create(Maglev, new Random(1)), new PrioritySetOptions(140, 50, LocalityWeighted: true), new Random(1));

        var shares = Shares(factory.Create(hosts));

        Assert.False(shares.ContainsKey("10.0.0.2:80"));
        Assert.InRange(shares["10.0.0.1:80"], 0.23, 0.27);
        Assert.InRange(shares["10.0.0.3:80"], 0.23, 0.27);
        Assert.InRange(shares["10.0.0.4:80"], 0.48, 0.52);
    }

    [Fact]
    public void PrioritySet_LocalityWeightedInPanic_AllHostsByLocalityAndMarked()
    {
        // One healthy host of four: the level is in panic, so every host is in the table, each by its locality's share.
        List<WeightedHost> hosts = [Host("10.0.0.1:80", ZoneA, 3), Host("10.0.0.2:80", ZoneB, 1, health: HostHealth.Unhealthy), Host("10.0.0.3:80", ZoneB, 1, health: HostHealth.Unhealthy), Host("10.0.0.4:80", ZoneB, 1, health: HostHealth.Unhealthy)];
        var factory = new PrioritySetPickerFactory(HashPickerFactory.Create(Maglev, new Random(1)), new PrioritySetOptions(140, 50, LocalityWeighted: true), new Random(1));

        var picker = factory.Create(hosts);
        var shares = Shares(picker);

        Assert.InRange(shares["10.0.0.1:80"], 0.73, 0.77);
        Assert.True(picker.Pick(7, 0)!.Value.Panic);
    }

    [Fact]
    public void PrioritySet_LocalityWeightedTwoLevels_EachLevelByItsOwnLocalities()
    {
        // P0 has no healthy host: P1 takes the load, its two localities weighted 1:3.
        List<WeightedHost> hosts =
        [
            Host("10.0.0.1:80", ZoneA, 1, health: HostHealth.Unhealthy),
            Host("10.0.1.1:80", ZoneA, 1, priority: 1),
            Host("10.0.1.2:80", ZoneB, 3, priority: 1),
        ];
        var factory = new PrioritySetPickerFactory(HashPickerFactory.Create(Maglev, new Random(1)), new PrioritySetOptions(140, 50, LocalityWeighted: true), new Random(1));

        var shares = Shares(factory.Create(hosts));

        Assert.False(shares.ContainsKey("10.0.0.1:80"));
        Assert.InRange(shares["10.0.1.1:80"], 0.23, 0.27);
    }
}
