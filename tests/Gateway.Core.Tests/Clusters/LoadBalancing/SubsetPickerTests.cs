using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>Envoy's subset load balancer over fixed host lists (subset_lb_test's cases, without Envoy's mocks).</summary>
public sealed class SubsetPickerTests
{
    private readonly StatsStore _store = new();
    private readonly ClusterStats _stats;
    private readonly ClusterRuntime _cluster;

    public SubsetPickerTests()
    {
        _stats = new ClusterStats(_store, "c");
        _cluster = new ClusterRuntime("c", _stats);
    }

    /// <summary>One host per <c>envoy.lb</c> JSON object (null: no metadata), at 10.0.0.1:80, 10.0.0.2:80, …</summary>
    private WeightedHost[] Hosts(params string?[] envoyLb)
    {
        var hosts = new WeightedHost[envoyLb.Length];
        for (var i = 0; i < hosts.Length; i++)
        {
            var address = "10.0.0." + (i + 1) + ":80";
            var host = _cluster.Host(address);
            host.Metadata = envoyLb[i] is { } json
                ? EnvoyMetadata.Create([new KeyValuePair<string, JsonObject>(SubsetCriteria.EnvoyLbNamespace, JsonNode.Parse(json)!.AsObject())])
                : EnvoyMetadata.Empty;
            hosts[i] = new WeightedHost(new DestinationState(address), host, 1);
        }
        return hosts;
    }

    private static SubsetCriteria? Criteria(string json) => SubsetCriteria.Merge(null, JsonDocument.Parse(json).RootElement);

    private static SubsetSelectorPlan Selector(params string[] keys) => new(keys, LbSubsetSelectorFallbackPolicy.NOT_DEFINED, [], false);

    private static SubsetLbPlan Plan(LbSubsetFallbackPolicy fallback, params SubsetSelectorPlan[] selectors)
        => new(fallback, selectors, ListAsAny: false, PanicModeAny: false, LocalityWeightAware: false, ScaleLocalityWeight: false, LbSubsetMetadataFallbackPolicy.METADATA_NO_FALLBACK);

    private SubsetPickerFactory Factory(SubsetLbPlan plan) => new(plan, PickerFactory.RoundRobin(new Random(7)), _stats, new Random(7));

    private static ISubsetPicker Create(SubsetPickerFactory factory, WeightedHost[] hosts) => (ISubsetPicker)factory.Create(hosts);

    private static HashSet<string> PickAll(ISubsetPicker picker, SubsetCriteria? criteria, int picks = 60)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < picks; i++)
        {
            if (picker.Pick(criteria, null, 0) is { } host)
            {
                seen.Add(host.Host.Address);
            }
        }
        return seen;
    }

    [Fact]
    public void Pick_CriteriaMatchingASubset_PicksOnlyItsHosts()
    {
        var hosts = Hosts("""{"version":"v1"}""", """{"version":"v2"}""", """{"version":"v1"}""", null);
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version"))), hosts);

        Assert.Equal(["10.0.0.1:80", "10.0.0.3:80"], PickAll(picker, Criteria("""{"version":"v1"}""")).Order());
        Assert.Equal(["10.0.0.2:80"], PickAll(picker, Criteria("""{"version":"v2"}""")));
        Assert.Equal(120, _stats.LbSubsetsSelected.Value);
        Assert.Equal(2, _stats.LbSubsetsCreated.Value);
        Assert.Equal(2, _stats.LbSubsetsActive.Value);
        Assert.Equal(0, _stats.LbSubsetsFallback.Value);
    }

    [Fact]
    public void Pick_SubsetOverPrioritySet_EachSubsetHasItsOwnLevelsAndPanic()
    {
        // As Envoy's subsets: each is a full priority set. v1 has a healthy P0 host and a P1 host; v2's only host is unhealthy
        // (its subset panics and still picks it instead of falling back).
        var hosts = Hosts("""{"version":"v1"}""", """{"version":"v1"}""", """{"version":"v2"}""");
        hosts[1] = hosts[1] with { Priority = 1 };
        hosts[2] = hosts[2] with { Health = HostHealth.Unhealthy };
        var prioritySet = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(7)), PrioritySetOptions.Defaults, new Random(7));
        var factory = new SubsetPickerFactory(Plan(LbSubsetFallbackPolicy.ANY_ENDPOINT, Selector("version")), prioritySet, _stats, new Random(7));
        var picker = Create(factory, hosts);

        Assert.Equal(["10.0.0.1:80"], PickAll(picker, Criteria("""{"version":"v1"}""")));
        Assert.Equal(["10.0.0.3:80"], PickAll(picker, Criteria("""{"version":"v2"}""")));
        Assert.True(picker.Pick(Criteria("""{"version":"v2"}"""), null, 0)?.Panic);
        Assert.Equal(0, _stats.LbSubsetsFallback.Value);
    }

    [Fact]
    public void Pick_NoFallbackAndNoMatch_NoHost()
    {
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version"))), Hosts("""{"version":"v1"}"""));

        Assert.Null(picker.Pick(Criteria("""{"version":"v3"}"""), null, 0));
        // No criteria at all: the fallback policy too.
        Assert.Null(picker.Pick(null, null, 0));
        Assert.Equal(0, _stats.LbSubsetsFallback.Value);
    }

    [Fact]
    public void Pick_AnyEndpointFallback_PicksAnyHostAndCountsFallback()
    {
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.ANY_ENDPOINT, Selector("version"))), Hosts("""{"version":"v1"}""", null));

        Assert.Equal(2, PickAll(picker, Criteria("""{"version":"v9"}""")).Count);
        Assert.Equal(60, _stats.LbSubsetsFallback.Value);
        Assert.Equal(0, _stats.LbSubsetsSelected.Value);
    }

    [Fact]
    public void Pick_CriteriaWithKeysOfNoSelector_FallBack()
    {
        // Subsets come only from selectors: {stage} matches no subset although the host has that value.
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version"))), Hosts("""{"version":"v1","stage":"prod"}"""));

        Assert.Null(picker.Pick(Criteria("""{"stage":"prod"}"""), null, 0));
        Assert.Null(picker.Pick(Criteria("""{"stage":"prod","version":"v1"}"""), null, 0));
    }

    [Fact]
    public void Pick_DefaultSubsetFallback_PicksTheDefaultHosts()
    {
        var plan = Plan(LbSubsetFallbackPolicy.DEFAULT_SUBSET, Selector("version"));
        var withDefault = new SubsetLbPlan(plan.FallbackPolicy, plan.Selectors, false, false, false, false, plan.MetadataFallbackPolicy)
        {
            DefaultSubset = Criteria("""{"stage":"prod"}"""),
        };
        var picker = Create(Factory(withDefault), Hosts("""{"version":"v1","stage":"prod"}""", """{"version":"v2","stage":"dev"}""", """{"stage":"prod"}"""));

        Assert.Equal(["10.0.0.1:80", "10.0.0.3:80"], PickAll(picker, null).Order());
        Assert.Equal(60, _stats.LbSubsetsFallback.Value);
    }

    [Fact]
    public void Pick_EmptyDefaultSubsetWithPanicModeAny_PicksAnyHostAndCountsFallbackPanic()
    {
        var plan = new SubsetLbPlan(LbSubsetFallbackPolicy.DEFAULT_SUBSET, [Selector("version")], false, PanicModeAny: true, false, false, LbSubsetMetadataFallbackPolicy.METADATA_NO_FALLBACK)
        {
            DefaultSubset = Criteria("""{"stage":"none"}"""),
        };
        var picker = Create(Factory(plan), Hosts("""{"version":"v1"}""", """{"version":"v2"}"""));

        Assert.Equal(2, PickAll(picker, Criteria("""{"version":"v3"}""")).Count);
        Assert.Equal(0, _stats.LbSubsetsFallback.Value);
        Assert.Equal(60, _stats.LbSubsetsFallbackPanic.Value);
    }

    [Fact]
    public void Pick_EmptyDefaultSubsetWithoutPanicModeAny_NoHost()
    {
        var plan = new SubsetLbPlan(LbSubsetFallbackPolicy.DEFAULT_SUBSET, [Selector("version")], false, false, false, false, LbSubsetMetadataFallbackPolicy.METADATA_NO_FALLBACK)
        {
            DefaultSubset = Criteria("""{"stage":"none"}"""),
        };
        var picker = Create(Factory(plan), Hosts("""{"version":"v1"}"""));

        Assert.Null(picker.Pick(null, null, 0));
    }

    [Fact]
    public void Pick_SelectorFallbackOverridesTheClusterFallback()
    {
        var plan = Plan(LbSubsetFallbackPolicy.ANY_ENDPOINT,
            new SubsetSelectorPlan(["version"], LbSubsetSelectorFallbackPolicy.NO_FALLBACK, [], false),
            new SubsetSelectorPlan(["stage"], LbSubsetSelectorFallbackPolicy.ANY_ENDPOINT, [], false));
        var picker = Create(Factory(plan), Hosts("""{"version":"v1","stage":"prod"}""", """{"version":"v2"}"""));

        // {version} misses: that selector says NO_FALLBACK, over the cluster's ANY_ENDPOINT.
        Assert.Null(picker.Pick(Criteria("""{"version":"v3"}"""), null, 0));
        // {stage} misses: its ANY_ENDPOINT, which does not count as the cluster's fallback.
        Assert.Equal(2, PickAll(picker, Criteria("""{"stage":"dev"}""")).Count);
        Assert.Equal(0, _stats.LbSubsetsFallback.Value);
        // Keys of no selector: the cluster's ANY_ENDPOINT.
        Assert.NotNull(picker.Pick(Criteria("""{"zone":"a"}"""), null, 0));
        Assert.Equal(1, _stats.LbSubsetsFallback.Value);
    }

    [Fact]
    public void Pick_KeysSubsetFallback_RetriesWithTheFallbackKeys()
    {
        var plan = Plan(LbSubsetFallbackPolicy.NO_FALLBACK,
            new SubsetSelectorPlan(["stage", "version"], LbSubsetSelectorFallbackPolicy.KEYS_SUBSET, ["version"], false),
            Selector("version"));
        var picker = Create(Factory(plan), Hosts("""{"version":"v1","stage":"prod"}""", """{"version":"v1","stage":"dev"}""", """{"version":"v2","stage":"canary"}"""));

        // No v1 canary: retried as {version: v1}, both v1 hosts.
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], PickAll(picker, Criteria("""{"version":"v1","stage":"canary"}""")).Order());
        Assert.Equal(["10.0.0.1:80"], PickAll(picker, Criteria("""{"version":"v1","stage":"prod"}""")));
    }

    [Fact]
    public void Create_SingleHostPerSubset_FirstHostWinsAndDuplicatesAreCounted()
    {
        var plan = Plan(LbSubsetFallbackPolicy.NO_FALLBACK, new SubsetSelectorPlan(["id"], LbSubsetSelectorFallbackPolicy.NOT_DEFINED, [], true));
        var picker = Create(Factory(plan), Hosts("""{"id":"a"}""", """{"id":"b"}""", """{"id":"a"}""", """{"id":"a"}"""));

        Assert.Equal(["10.0.0.1:80"], PickAll(picker, Criteria("""{"id":"a"}""")));
        Assert.Equal(["10.0.0.2:80"], PickAll(picker, Criteria("""{"id":"b"}""")));
        Assert.Equal(2, _store.Gauge("cluster.c.lb_subsets_single_host_per_subset_duplicate").Value);
    }

    [Fact]
    public void Pick_ListAsAny_AListValueJoinsASubsetPerElement()
    {
        var hosts = Hosts("""{"version":["v1","v2"]}""", """{"version":"v2"}""");
        var listAsAny = new SubsetLbPlan(LbSubsetFallbackPolicy.NO_FALLBACK, [Selector("version")], ListAsAny: true, false, false, false, LbSubsetMetadataFallbackPolicy.METADATA_NO_FALLBACK);
        var picker = Create(Factory(listAsAny), hosts);

        Assert.Equal(["10.0.0.1:80"], PickAll(picker, Criteria("""{"version":"v1"}""")));
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], PickAll(picker, Criteria("""{"version":"v2"}""")).Order());

        // Without list_as_any the list is one value: only criteria with the same list match it.
        var plain = Create(new SubsetPickerFactory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version")), PickerFactory.RoundRobin(new Random(7)), new ClusterStats(new StatsStore(), "d"), new Random(7)), hosts);
        Assert.Null(plain.Pick(Criteria("""{"version":"v1"}"""), null, 0));
        Assert.Equal(["10.0.0.1:80"], PickAll(plain, Criteria("""{"version":["v1","v2"]}""")));
    }

    [Fact]
    public void Pick_NumbersCompareAsDoublesAndNotAsStrings()
    {
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("v"))), Hosts("""{"v":1.0}""", """{"v":"1"}"""));

        Assert.Equal(["10.0.0.1:80"], PickAll(picker, Criteria("""{"v":1}""")));
        Assert.Equal(["10.0.0.2:80"], PickAll(picker, Criteria("""{"v":"1"}""")));
    }

    [Fact]
    public void Pick_FallbackList_TriesEachVariantInOrder()
    {
        var plan = new SubsetLbPlan(LbSubsetFallbackPolicy.NO_FALLBACK, [Selector("version"), Selector("hardware", "version")], false, false, false, false, LbSubsetMetadataFallbackPolicy.FALLBACK_LIST);
        var picker = Create(Factory(plan), Hosts("""{"version":"1.0","hardware":"c32"}""", """{"version":"3.0"}"""));

        // Envoy's example: {2.0, c64} has no host, then {1.0, c32} (the rest's version with the entry's hardware) does.
        var criteria = Criteria("""{"version":"1.0","fallback_list":[{"version":"2.0","hardware":"c64"},{"hardware":"c32"},{"version":"3.0"}]}""");
        Assert.Equal(["10.0.0.1:80"], PickAll(picker, criteria));
        Assert.Equal(["10.0.0.2:80"], PickAll(picker, Criteria("""{"version":"9","fallback_list":[{"version":"3.0"}]}""")));
        Assert.Null(picker.Pick(Criteria("""{"version":"9","fallback_list":[{"version":"8"}]}"""), null, 0));
    }

    [Fact]
    public void Pick_FallbackListWithoutThePolicy_IsAnOrdinaryKey()
    {
        var picker = Create(Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version"))), Hosts("""{"version":"3.0"}"""));

        Assert.Null(picker.Pick(Criteria("""{"version":"9","fallback_list":[{"version":"3.0"}]}"""), null, 0));
    }

    [Fact]
    public void Create_HostsLeaveASubset_CountsItRemoved()
    {
        var factory = Factory(Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version")));
        var hosts = Hosts("""{"version":"v1"}""", """{"version":"v2"}""");
        factory.Create(hosts);
        factory.Create(hosts);
        Assert.Equal(2, _stats.LbSubsetsCreated.Value);

        var picker = Create(factory, hosts[..1]);

        Assert.Equal(1, _stats.LbSubsetsRemoved.Value);
        Assert.Equal(1, _stats.LbSubsetsActive.Value);
        Assert.Null(picker.Pick(Criteria("""{"version":"v2"}"""), null, 0));
        factory.Retire();
        Assert.Equal(0, _stats.LbSubsetsActive.Value);
        Assert.Equal(2, _stats.LbSubsetsRemoved.Value);
    }

    [Fact]
    public void Pick_HashPolicySubsets_SameHashSameHost()
    {
        var plan = Plan(LbSubsetFallbackPolicy.NO_FALLBACK, Selector("version"));
        var factory = new SubsetPickerFactory(plan, HashPickerFactory.Create(new MaglevPlan(MaglevPlan.DefaultTableSize, false)), _stats, new Random(3));
        var picker = (ISubsetPicker)factory.Create(Hosts("""{"version":"v1"}""", """{"version":"v1"}""", """{"version":"v2"}"""));

        Assert.True(picker.UsesHash);
        var criteria = Criteria("""{"version":"v1"}""");
        var first = picker.Pick(criteria, 42, 0)!.Value.Host.Address;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(first, picker.Pick(criteria, 42, 0)!.Value.Host.Address);
        }
        Assert.NotEqual("10.0.0.3:80", first);
    }

    [Fact]
    public void Pick_SelectedAndFallback_AllocateNothing()
    {
        var plan = Plan(LbSubsetFallbackPolicy.ANY_ENDPOINT,
            new SubsetSelectorPlan(["stage", "version"], LbSubsetSelectorFallbackPolicy.KEYS_SUBSET, ["version"], false),
            Selector("version"));
        var picker = Create(Factory(plan), Hosts("""{"version":"v1","stage":"prod"}""", """{"version":"v2"}"""));
        var selected = Criteria("""{"version":"v1"}""");
        var keysSubset = Criteria("""{"version":"v2","stage":"dev"}""");
        var none = Criteria("""{"zone":"a"}""");

        var bytes = Allocations.Measure(() =>
        {
            picker.Pick(selected, null, 0);
            picker.Pick(keysSubset, null, 0);
            picker.Pick(none, null, 0);
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void EntryCriteria_EntryKeysWinOverTheRoute()
    {
        var route = Criteria("""{"version":"v1","stage":"prod"}""");
        var entry = new ClusterWeight { Name = "c", MetadataMatch = new Metadata() };
        entry.MetadataMatch.FilterMetadata[SubsetCriteria.EnvoyLbNamespace] = JsonNode.Parse("""{"version":"v2","zone":"a"}""")!.AsObject();

        var merged = SubsetLbTranslation.EntryCriteria(route, entry)!;

        Assert.Equal(["stage", "version", "zone"], merged.Criteria.Select(c => c.Name));
        Assert.Equal(Criteria("""{"stage":"prod","version":"v2","zone":"a"}""")!.Key, merged.Key);
        Assert.Same(route, SubsetLbTranslation.EntryCriteria(route, new ClusterWeight { Name = "c" }));
    }

    private static readonly LocalityPlan ZoneA = new("eu", "a", "");
    private static readonly LocalityPlan ZoneB = new("eu", "b", "");

    /// <summary>Hosts of <see cref="Hosts"/> placed in <paramref name="locality"/> with its weight, at <paramref name="priority"/>.</summary>
    private static WeightedHost[] In(WeightedHost[] hosts, LocalityPlan locality, uint weight, int priority = 0)
        => hosts.Select(h => h with { Locality = locality, LocalityWeight = weight, Priority = priority }).ToArray();

    [Fact]
    public void Scaled_LocalityWeightTimesTheSubsetsShareOfItsHosts_RoundedHalfAwayAsEnvoy()
    {
        var all = Hosts(null, null, null, null, null, null, null, null, null);
        WeightedHost[] hosts = [.. In(all[..4], ZoneA, 10), .. In(all[4..6], ZoneB, 4), .. In(all[6..], ZoneA, 5, priority: 1)];
        var totals = new Dictionary<(int, LocalityPlan), int> { [(0, ZoneA)] = 4, [(0, ZoneB)] = 2, [(1, ZoneA)] = 3 };

        var scaled = SubsetPickerFactory.Scaled([hosts[0], hosts[4], hosts[5], hosts[6]], totals);

        // Zone a at P0: round(10 × 1 / 4) = round(2.5) = 3; zone b: 4 × 2 / 2 = 4; zone a at P1 (its own count): round(5 / 3) = 2.
        Assert.Equal([3u, 4u, 4u, 2u], scaled.Select(h => h.LocalityWeight));
        Assert.Same(hosts, SubsetPickerFactory.Scaled(hosts, null));
    }

    [Theory]
    [InlineData(false, 0.75)]
    [InlineData(true, 0.5)]
    public void Pick_LocalityWeightAwareSubset_ScaleLocalityWeightEvensTheLocalities(bool scale, double zoneAShare)
    {
        // Zone a (weight 3): three hosts, one of them v1; zone b (weight 1): one host, v1. The v1 subset keeps the
        // configured 3:1, or with scale_locality_weight 3 × 1/3 : 1 × 1/1 = 1:1.
        var all = Hosts("""{"version":"v1"}""", """{"version":"v2"}""", """{"version":"v2"}""", """{"version":"v1"}""");
        WeightedHost[] hosts = [.. In(all[..3], ZoneA, 3), .. In(all[3..], ZoneB, 1)];
        var plan = new SubsetLbPlan(LbSubsetFallbackPolicy.NO_FALLBACK, [Selector("version")], ListAsAny: false, PanicModeAny: false,
            LocalityWeightAware: true, ScaleLocalityWeight: scale, LbSubsetMetadataFallbackPolicy.METADATA_NO_FALLBACK);
        var levels = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(7)), new PrioritySetOptions(140, 50, LocalityWeighted: true), new Random(7));
        var picker = Create(new SubsetPickerFactory(plan, levels, _stats, new Random(7)), hosts);
        var v1 = Criteria("""{"version":"v1"}""");

        var zoneA = 0;
        for (var i = 0; i < 400; i++)
        {
            zoneA += picker.Pick(v1, null, 0)!.Value.Locality == ZoneA ? 1 : 0;
        }

        // EDF over the weights is exact up to its starting point.
        Assert.InRange(zoneA / 400.0, zoneAShare - 0.01, zoneAShare + 0.01);
    }
}
