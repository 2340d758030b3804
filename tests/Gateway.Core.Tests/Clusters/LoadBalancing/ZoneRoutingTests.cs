using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>
/// Envoy's zone-aware routing (ZoneAwareLoadBalancerBase): the locality percentages, the routing structures and the
/// early exits, and picks that go directly, sampled or across zones, with scripted random draws.
/// </summary>
public sealed class ZoneRoutingTests
{
    private static readonly LocalityPlan ZoneA = new("", "A", "");
    private static readonly LocalityPlan ZoneB = new("", "B", "");
    private static readonly LocalityPlan ZoneC = new("", "C", "");

    private readonly ClusterRuntime _cluster = new("upstream", new ClusterStats(new StatsStore(), "upstream"));
    private readonly ZoneRoutingStats _stats;
    private int _next;

    public ZoneRoutingTests() => _stats = ZoneRoutingStats.For(_cluster.Stats);

    /// <summary><paramref name="count"/> hosts in <paramref name="zone"/> with the given health, weight and priority.</summary>
    private WeightedHost[] Hosts(LocalityPlan zone, int count, HostHealth health = HostHealth.Healthy, uint weight = 1, int priority = 0)
    {
        var hosts = new WeightedHost[count];
        for (var i = 0; i < count; i++)
        {
            var address = "10.1." + (_next / 250) + "." + (_next++ % 250) + ":80";
            hosts[i] = new WeightedHost(new DestinationState(address), _cluster.Host(address), weight) { Locality = zone, Health = health, Priority = priority };
        }
        return hosts;
    }

    private static ZoneAwarePlan Settings(ulong minClusterSize = 6, uint routingEnabled = 100, bool failTrafficOnPanic = false, uint? forceLocalZone = null, bool weightBasis = false)
        => new(routingEnabled, minClusterSize, failTrafficOnPanic, forceLocalZone, weightBasis);

    private ZoneRoutingState Compute(WeightedHost[] upstream, WeightedHost[] local, LocalityPlan? localZone, ZoneAwarePlan settings, double panicThreshold = 50)
        => ZoneRoutingState.Compute(HostsPerLocality.Build(upstream, localZone), local, localZone, settings, panicThreshold, _stats);

    private IHostPicker Picker(WeightedHost[] upstream, WeightedHost[] local, LocalityPlan? localZone, ZoneAwarePlan settings, Random random, double panicThreshold = 50)
    {
        var options = new PrioritySetOptions(140, panicThreshold, false) { ZoneAware = settings, NodeLocality = localZone };
        var zone = new ZoneRoutingSource(() => local, _stats);
        return new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), options, random, zone, _cluster.Stats.LbHealthyPanic).Create(upstream);
    }

    private static HashSet<LocalityPlan> ZonesOf(IHostPicker picker, int picks)
    {
        var zones = new HashSet<LocalityPlan>();
        for (var i = 0; i < picks; i++)
        {
            zones.Add(picker.Pick(null, 0)!.Value.Locality!);
        }
        return zones;
    }

    [Fact]
    public void HostsPerLocality_LocalZonePresent_ComesFirstThenLocalityLess()
    {
        var hosts = HostsPerLocality.Build([.. Hosts(ZoneC, 1), .. Hosts(ZoneA, 1), .. Hosts(ZoneB, 2)], ZoneB);

        Assert.True(hosts.HasLocalLocality);
        Assert.Equal(new[] { ZoneB, ZoneA, ZoneC }, hosts.Localities);
        Assert.Equal(2, hosts.Groups[0].Length);
    }

    [Fact]
    public void HostsPerLocality_NoNodeLocality_NoLocalGroup()
    {
        var hosts = HostsPerLocality.Build([.. Hosts(ZoneB, 1), .. Hosts(ZoneA, 1)], null);

        Assert.False(hosts.HasLocalLocality);
        Assert.Equal(new[] { ZoneA, ZoneB }, hosts.Localities);
    }

    [Fact]
    public void CalculateLocalityPercentages_LocalTwoZonesUpstreamThree_AsEnvoysZoneAwareDifferentZoneSize()
    {
        // Envoy's RoundRobinLoadBalancerTest.ZoneAwareDifferentZoneSize: upstream A, B, C one host each, local A and B, local zone B.
        var upstream = HostsPerLocality.Build([.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1), .. Hosts(ZoneC, 1)], ZoneB);
        var local = HostsPerLocality.Build([.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneB);

        var percentages = ZoneRoutingState.CalculateLocalityPercentages(local, upstream, weightBasis: false);

        Assert.Equal(new LocalityPercentages[] { new(5000, 3333), new(5000, 3333), new(0, 3333) }, percentages);
    }

    [Fact]
    public void Compute_LocalTwoZonesUpstreamThree_ResidualRoutesTwoThirdsLocallyAndTheRestToC()
    {
        var state = Compute([.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1), .. Hosts(ZoneC, 1)], [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneB, Settings(minClusterSize: 3));

        // B has 33.33% of the upstream hosts for 50% of the callers: 3333 × 10000 / 5000 = 6666 of 10000 stay local;
        // A has no capacity beyond its callers' share, C all of its 33.33%.
        Assert.Equal(LocalityRoutingMode.LocalityResidual, state.Mode);
        Assert.Equal(6666UL, state.LocalPercentToRoute);
        Assert.Equal([0UL, 0UL, 3333UL], state.ResidualCapacity);
        Assert.Equal(1, _stats.RecalculateZoneStructures.Value);
    }

    [Fact]
    public void Compute_EnvoysCommentExample_ResidualCapacityAccumulates()
    {
        // load_balancer_impl.cc: local 40/40/20, upstream 25/50/25 → residual 0, 10%, 5%, accumulated 0, 1000, 1500.
        var state = Compute(
            [.. Hosts(ZoneA, 2), .. Hosts(ZoneB, 4), .. Hosts(ZoneC, 2)],
            [.. Hosts(ZoneA, 2), .. Hosts(ZoneB, 2), .. Hosts(ZoneC, 1)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.LocalityResidual, state.Mode);
        Assert.Equal(2500UL * 10000 / 4000, state.LocalPercentToRoute);
        Assert.Equal([0UL, 1000UL, 1500UL], state.ResidualCapacity);
    }

    [Fact]
    public void Compute_UpstreamShareAtLeastTheLocalShare_LocalityDirect()
    {
        // Two zones of three upstream hosts each and one caller in each: 50% ≥ 50%.
        var state = Compute([.. Hosts(ZoneA, 3), .. Hosts(ZoneB, 3)], [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.LocalityDirect, state.Mode);
    }

    [Fact]
    public void Compute_WeightBasis_PercentagesFollowTheWeights()
    {
        // By count A has 50% of the upstream (≥ 50% local): direct. By weight A has 1/(1+3) = 25% < 50%: residual.
        WeightedHost[] upstream = [.. Hosts(ZoneA, 3, weight: 1), .. Hosts(ZoneB, 3, weight: 3)];
        WeightedHost[] local = [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)];

        Assert.Equal(LocalityRoutingMode.LocalityDirect, Compute(upstream, local, ZoneA, Settings()).Mode);
        var byWeight = Compute(upstream, local, ZoneA, Settings(weightBasis: true));
        Assert.Equal(LocalityRoutingMode.LocalityResidual, byWeight.Mode);
        Assert.Equal(5000UL, byWeight.LocalPercentToRoute);
    }

    [Fact]
    public void Compute_OneUpstreamLocality_NoLocalityRouting()
    {
        var state = Compute(Hosts(ZoneA, 6), [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.NoLocalityRouting, state.Mode);
        Assert.Equal(0, _stats.LocalClusterNotOk.Value);
    }

    [Fact]
    public void Compute_LocalClusterWithoutHostsInTheLocalZone_LocalClusterNotOk()
    {
        var state = Compute([.. Hosts(ZoneA, 3), .. Hosts(ZoneB, 3)], [.. Hosts(ZoneB, 1), .. Hosts(ZoneC, 1)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.NoLocalityRouting, state.Mode);
        Assert.Equal(1, _stats.LocalClusterNotOk.Value);
    }

    [Fact]
    public void Compute_NoNodeLocality_LocalClusterNotOk()
    {
        var state = Compute([.. Hosts(ZoneA, 3), .. Hosts(ZoneB, 3)], [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], null, Settings());

        Assert.Equal(LocalityRoutingMode.NoLocalityRouting, state.Mode);
        Assert.Equal(1, _stats.LocalClusterNotOk.Value);
    }

    [Fact]
    public void Compute_FewerHealthyHostsThanMinClusterSize_ClusterTooSmall()
    {
        WeightedHost[] upstream = [.. Hosts(ZoneA, 2), .. Hosts(ZoneB, 2), .. Hosts(ZoneB, 2, HostHealth.Unhealthy)];

        var state = Compute(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.NoLocalityRouting, state.Mode);
        Assert.Equal(1, _stats.ZoneClusterTooSmall.Value);
        Assert.Equal(LocalityRoutingMode.LocalityDirect, Compute(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings(minClusterSize: 4)).Mode);
    }

    [Fact]
    public void Compute_LocalClusterInOneZone_NoRoutingUnlessTheLocalZoneIsForced()
    {
        WeightedHost[] upstream = [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 5)];
        WeightedHost[] local = Hosts(ZoneA, 2);

        Assert.Equal(LocalityRoutingMode.NoLocalityRouting, Compute(upstream, local, ZoneA, Settings()).Mode);
        // force_local_zone: local zone has 1 healthy upstream host ≥ min_size 1, though its share (1/6) is below the callers' (100%).
        Assert.Equal(LocalityRoutingMode.LocalityDirect, Compute(upstream, local, ZoneA, Settings(forceLocalZone: 1)).Mode);
        Assert.Equal(LocalityRoutingMode.LocalityResidual, Compute(upstream, local, ZoneA, Settings(forceLocalZone: 2)).Mode);
    }

    [Fact]
    public void Compute_LocalClusterMostlyUnhealthy_LocalClusterInPanic()
    {
        var state = Compute([.. Hosts(ZoneA, 3), .. Hosts(ZoneB, 3)], [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1, HostHealth.Unhealthy), .. Hosts(ZoneB, 1, HostHealth.Unhealthy)], ZoneA, Settings());

        Assert.Equal(LocalityRoutingMode.LocalityResidual, state.Mode);
        Assert.True(state.LocalClusterInPanic);
    }

    [Fact]
    public void Pick_LocalityDirect_EveryPickInTheLocalZone()
    {
        var upstream = Hosts(ZoneA, 3).Concat(Hosts(ZoneB, 3)).ToArray();
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings(), new Random(3));

        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(ZoneA, picker.Pick(null, 0)!.Value.Locality);
        }
        Assert.Equal(30, _stats.ZoneRoutingAllDirectly.Value);
    }

    [Fact]
    public void Pick_LocalityResidual_SampledLocallyOrCrossZoneByTheDraws()
    {
        // The ZoneAwareDifferentZoneSize layout: 6666 of 10000 stay in B, the rest go to C (A has no spare capacity).
        var upstream = Hosts(ZoneA, 2).Concat(Hosts(ZoneB, 2)).Concat(Hosts(ZoneC, 2)).ToArray();
        // Draws per pick: the priority (any value: one level), the sample of 10000, then across zones the residual draw.
        var random = new SequenceRandom(0, 6665, 0, 6666, 0, 0, 9999, 3332);
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneB, Settings(), random);

        Assert.Equal(ZoneB, picker.Pick(null, 0)!.Value.Locality);
        Assert.Equal(ZoneC, picker.Pick(null, 0)!.Value.Locality);
        Assert.Equal(ZoneC, picker.Pick(null, 0)!.Value.Locality);
        Assert.Equal(1, _stats.ZoneRoutingSampled.Value);
        Assert.Equal(2, _stats.ZoneRoutingCrossZone.Value);
        Assert.Equal(0, _stats.ZoneNoCapacityLeft.Value);
    }

    [Fact]
    public void Pick_NoResidualCapacity_AnyZoneAndNoCapacityLeft()
    {
        // Envoy gets here only by rounding; upstream hosts of weight 0 (by weight) leave every zone's share at 0. The local
        // zone A has no upstream hosts, so nothing is sampled locally and the zone is a plain draw: 1 % 2 → C.
        WeightedHost[] upstream = [.. Hosts(ZoneB, 3, weight: 0), .. Hosts(ZoneC, 3, weight: 0)];
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings(weightBasis: true), new SequenceRandom(0, 0, 1));

        Assert.Equal(ZoneC, picker.Pick(null, 0)!.Value.Locality);
        Assert.Equal(1, _stats.ZoneRoutingCrossZone.Value);
        Assert.Equal(1, _stats.ZoneNoCapacityLeft.Value);
    }

    [Fact]
    public void Pick_RoutingEnabledZero_PicksFromTheWholeLevel()
    {
        var upstream = Hosts(ZoneA, 3).Concat(Hosts(ZoneB, 3)).ToArray();
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings(routingEnabled: 0), new Random(5));

        Assert.Equal(2, ZonesOf(picker, 12).Count);
        Assert.Equal(0, _stats.ZoneRoutingAllDirectly.Value);
    }

    [Fact]
    public void Pick_LocalClusterInPanic_WholeLevelAndLocalClusterNotOk()
    {
        var upstream = Hosts(ZoneA, 3).Concat(Hosts(ZoneB, 3)).ToArray();
        WeightedHost[] local = [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 2, HostHealth.Unhealthy)];
        var picker = Picker(upstream, local, ZoneA, Settings(), new Random(5));

        Assert.Equal(2, ZonesOf(picker, 12).Count);
        Assert.Equal(12, _stats.LocalClusterNotOk.Value);
    }

    [Fact]
    public void Pick_LocalClusterInPanicWithFailTrafficOnPanic_NoHost()
    {
        var upstream = Hosts(ZoneA, 3).Concat(Hosts(ZoneB, 3)).ToArray();
        WeightedHost[] local = [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 2, HostHealth.Unhealthy)];
        var picker = Picker(upstream, local, ZoneA, Settings(failTrafficOnPanic: true), new Random(5));

        Assert.Null(picker.Pick(null, 0));
        Assert.Equal(1, _stats.LocalClusterNotOk.Value);
    }

    [Fact]
    public void Pick_UpstreamLevelInPanicWithFailTrafficOnPanic_NoHostAndHealthyPanicCounted()
    {
        // No local cluster needed: fail_traffic_on_panic applies to the priority levels themselves.
        var options = new PrioritySetOptions(140, 50, false) { ZoneAware = Settings(failTrafficOnPanic: true) };
        var picker = new PrioritySetPickerFactory(PickerFactory.RoundRobin(new Random(1)), options, new Random(2), null, _cluster.Stats.LbHealthyPanic)
            .Create([.. Hosts(ZoneA, 1), .. Hosts(ZoneA, 3, HostHealth.Unhealthy)]);

        Assert.Null(picker.Pick(null, 0));
        Assert.Equal(1, _cluster.Stats.LbHealthyPanic.Value);
    }

    [Fact]
    public void Pick_OnlyPriorityZeroRoutesByZone()
    {
        // P0 has 1 of 4 hosts healthy (35% of the load), in A: its picks stay in A; P1 takes the rest over both zones.
        WeightedHost[] upstream =
        [
            .. Hosts(ZoneA, 1), .. Hosts(ZoneA, 1, HostHealth.Unhealthy), .. Hosts(ZoneB, 2, HostHealth.Unhealthy),
            .. Hosts(ZoneA, 3, priority: 1), .. Hosts(ZoneB, 3, priority: 1),
        ];
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneA, Settings(minClusterSize: 1), new Random(5));

        var p1Zones = new HashSet<LocalityPlan>();
        for (var i = 0; i < 60; i++)
        {
            var host = picker.Pick(null, 0)!.Value;
            if (host.Priority == 0)
            {
                Assert.Equal(ZoneA, host.Locality);
            }
            else
            {
                p1Zones.Add(host.Locality!);
            }
        }
        Assert.Equal(2, p1Zones.Count);
        Assert.True(_stats.ZoneRoutingAllDirectly.Value > 0);
    }

    [Fact]
    public void Pick_ZoneRouted_AllocatesNothing()
    {
        var upstream = Hosts(ZoneA, 2).Concat(Hosts(ZoneB, 2)).Concat(Hosts(ZoneC, 2)).ToArray();
        var picker = Picker(upstream, [.. Hosts(ZoneA, 1), .. Hosts(ZoneB, 1)], ZoneB, Settings(routingEnabled: 90), new Random(7));

        Assert.Equal(0, Allocations.Measure(() => picker.Pick(null, 0)));
    }

    private const string DnsLocalCluster = """
        node: { id: gw, locality: { zone: A } }
        cluster_manager: { local_cluster_name: front }
        static_resources:
          clusters:
          - name: front
            type: STRICT_DNS
            load_assignment:
              endpoints:
              - locality: { zone: A }
                lb_endpoints: [ { endpoint: { address: { socket_address: { address: a.front, port_value: 80 } } } } ]
              - locality: { zone: B }
                lb_endpoints: [ { endpoint: { address: { socket_address: { address: b.front, port_value: 80 } } } } ]
          - name: service
            type: STATIC
            load_assignment:
              endpoints:
              - locality: { zone: A }
                lb_endpoints:
                - endpoint: { address: { socket_address: { address: 10.2.0.1, port_value: 80 } } }
                - endpoint: { address: { socket_address: { address: 10.2.0.2, port_value: 80 } } }
                - endpoint: { address: { socket_address: { address: 10.2.0.3, port_value: 80 } } }
              - locality: { zone: B }
                lb_endpoints:
                - endpoint: { address: { socket_address: { address: 10.2.1.1, port_value: 80 } } }
                - endpoint: { address: { socket_address: { address: 10.2.1.2, port_value: 80 } } }
                - endpoint: { address: { socket_address: { address: 10.2.1.3, port_value: 80 } } }
        """;

    private static List<DestinationState> Destinations(IEnumerable<KeyValuePair<string, Yarp.ReverseProxy.Configuration.DestinationConfig>> configs)
        => configs.Select(d => new DestinationState(d.Key, new DestinationModel(d.Value))).ToList();

    [Fact]
    public async Task ClusterRuntime_LocalClusterResolvesToMoreHostsInTheLocalZone_UpstreamSpillsToOtherZones()
    {
        // Envoy's member update callback on the local priority set: the local cluster's DNS answer changes the
        // callers' share per zone, and the upstream's routing follows without a change of its own.
        var plan = EnvoyTranslator.Translate(Gateway.Configuration.EnvoyConfigLoader.LoadYaml(DnsLocalCluster));
        var registry = new ClusterRegistry(new StatsStore());
        var front = registry.GetOrCreate("front");
        var service = registry.GetOrCreate("service");
        front.Plan = plan.ClusterPlans[0];
        service.Plan = plan.ClusterPlans[1];
        service.PickerRandom = new Random(17);
        service.SelectAvailable(Destinations(plan.Clusters[1].Destinations!));
        var zoneA = new[] { "10.0.0.1" };
        var resolver = new DnsDestinationResolver(Microsoft.Extensions.Logging.Abstractions.NullLogger<DnsDestinationResolver>.Instance, TimeProvider.System,
            (host, _, _) => Task.FromResult(host == "a.front" ? zoneA.Select(System.Net.IPAddress.Parse).ToArray() : [System.Net.IPAddress.Parse("10.0.1.1")]));
        async Task ResolveFrontAsync() => front.SelectAvailable(Destinations((await resolver.ResolveDestinationsAsync(plan.Clusters[0].Destinations!, CancellationToken.None)).Destinations));

        // One caller per zone, three upstream hosts per zone: every pick stays in A.
        await ResolveFrontAsync();
        var stats = ZoneRoutingStats.For(service.Stats);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ZoneA, service.Picker!.Pick(null, 0)!.Value.Locality);
        }
        Assert.Equal(50, stats.ZoneRoutingAllDirectly.Value);

        // Three callers in A and one in B (75/25) for 50/50 upstream hosts: 5000 × 10000 / 7500 = 6666 of 10000 stay in A.
        zoneA = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        await ResolveFrontAsync();
        var inB = 0;
        for (var i = 0; i < 300; i++)
        {
            inB += service.Picker!.Pick(null, 0)!.Value.Locality == ZoneB ? 1 : 0;
        }
        Assert.Equal(50, stats.ZoneRoutingAllDirectly.Value);
        Assert.Equal(inB, stats.ZoneRoutingCrossZone.Value);
        Assert.Equal(300 - inB, stats.ZoneRoutingSampled.Value);
        // Binomial(300, 1/3): a standard deviation of about 8; the bound is 5 of them.
        Assert.InRange(inB, 100 - 41, 100 + 41);
    }

    /// <summary>Draws the scripted values in order, then 0.</summary>
    private sealed class SequenceRandom(params long[] values) : Random
    {
        private int _next;

        public override long NextInt64(long maxValue)
        {
            var index = Interlocked.Increment(ref _next) - 1;
            return index < values.Length ? values[index] % maxValue : 0;
        }
    }
}
