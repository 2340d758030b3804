using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Translation;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>
/// Zone-aware routing end to end: a gateway in <c>zone-a</c> whose local cluster <c>front</c> lists the gateways per zone,
/// routing to cluster <c>service</c> with real Kestrel upstreams in two zones; and the configuration errors.
/// </summary>
public class ZoneAwareLoadBalancingIntegrationTests
{
    /// <summary>The gateway's bootstrap: route <c>/</c> to <c>service</c>; <c>front</c> is the local cluster (flush-left YAML blocks).</summary>
    private static string Yaml(int anyPort, string serviceEndpoints, string frontEndpoints, string serviceExtra = "", string frontExtra = "",
        string bootstrap = "node: { id: gw-1, cluster: front, locality: { zone: zone-a } }\ncluster_manager: { local_cluster_name: front }",
        string serviceLbPolicy = "  lb_policy: ROUND_ROBIN")
        => ListenerYaml.Build(anyPort, "", routes: """
            - match: { prefix: "/" }
              route: { cluster: service }
            """, clusters: $$"""
            - name: service
              type: STATIC
            {{serviceLbPolicy}}
            {{serviceExtra}}
              load_assignment:
                cluster_name: service
                endpoints:
            {{serviceEndpoints}}
            - name: front
              type: STATIC
            {{frontExtra}}
              load_assignment:
                cluster_name: front
                endpoints:
            {{frontEndpoints}}
            """, bootstrap: bootstrap);

    /// <summary>One <c>locality_lb_endpoints</c> entry in <paramref name="zone"/> with an endpoint per port.</summary>
    private static string Zone(string zone, IEnumerable<int> ports, string extra = "")
        => $"    - locality: {{ zone: {zone} }}\n" + (extra.Length > 0 ? $"      {extra}\n" : "") + "      lb_endpoints:\n"
            + string.Join("\n", ports.Select(p => $"      - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {p} }} }} }}"));

    private static async Task SendAsync(InProcessGateway gateway, int count, HttpStatusCode expected = HttpStatusCode.OK)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(expected, response.StatusCode);
        }
    }

    private static async Task<EchoUpstream[]> StartUpstreamsAsync(int count)
    {
        var upstreams = new EchoUpstream[count];
        for (var i = 0; i < count; i++)
        {
            upstreams[i] = await EchoUpstream.StartAsync();
        }
        return upstreams;
    }

    private static async Task StopAsync(IEnumerable<IAsyncDisposable> servers)
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Proxy_LocalZoneHasCapacity_AllTrafficStaysInTheLocalZone()
    {
        var a = await StartUpstreamsAsync(3);
        var b = await StartUpstreamsAsync(3);
        try
        {
            // One gateway per zone (front) and three upstream hosts per zone: zone-a's 50% of the upstream covers its 50% of the callers.
            await using var gateway = await InProcessGateway.StartAsync(Yaml(a[0].Port,
                Zone("zone-a", a.Select(u => u.Port)) + "\n" + Zone("zone-b", b.Select(u => u.Port)),
                Zone("zone-a", [1]) + "\n" + Zone("zone-b", [2])));

            await SendAsync(gateway, 60);

            Assert.Equal(60, a.Sum(u => u.Requests));
            Assert.All(a, u => Assert.Equal(20, u.Requests));
            Assert.Equal(0, b.Sum(u => u.Requests));
            await gateway.AssertStatAsync("cluster.service.lb_zone_routing_all_directly", 60);
            await gateway.AssertStatAsync("cluster.service.lb_zone_routing_sampled", 0);
            await gateway.AssertStatAsync("cluster.service.lb_zone_routing_cross_zone", 0);
            await gateway.AssertStatAsync("cluster.service.lb_zone_number_differs", 0);
            Assert.True(await gateway.StatAsync("cluster.service.lb_recalculate_zone_structures") > 0);
            // The local cluster itself does not route by zone (Envoy builds its load balancer before the local priority set).
            await gateway.AssertStatAsync("cluster.front.lb_recalculate_zone_structures", 0);
        }
        finally
        {
            await StopAsync([.. a, .. b]);
        }
    }

    [Fact]
    public async Task Proxy_LocalZoneShortOfCapacity_SpillsTheResidualToTheOtherZone()
    {
        var a = await StartUpstreamsAsync(3);
        var b = await StartUpstreamsAsync(3);
        try
        {
            // Two of three gateways in zone-a (66.66%) for 50% of the upstream: 5000 × 10000 / 6666 = 7500 of 10000 stay local.
            await using var gateway = await InProcessGateway.StartAsync(Yaml(a[0].Port,
                Zone("zone-a", a.Select(u => u.Port)) + "\n" + Zone("zone-b", b.Select(u => u.Port)),
                Zone("zone-a", [1, 2]) + "\n" + Zone("zone-b", [3])));

            const int N = 400;
            await SendAsync(gateway, N);

            // Binomial(400, 0.75) has a standard deviation of about 8.7; the bound is 5 of them.
            var local = a.Sum(u => u.Requests);
            Assert.InRange(local, 300 - 44, 300 + 44);
            Assert.Equal(N, local + b.Sum(u => u.Requests));
            var sampled = await gateway.StatAsync("cluster.service.lb_zone_routing_sampled");
            var crossZone = await gateway.StatAsync("cluster.service.lb_zone_routing_cross_zone");
            Assert.Equal(local, sampled);
            Assert.Equal(N - local, crossZone);
        }
        finally
        {
            await StopAsync([.. a, .. b]);
        }
    }

    [Fact]
    public async Task Proxy_LocalClusterHostsFailHealthChecks_RoutingFollowsTheLocalCluster()
    {
        var a = await StartUpstreamsAsync(3);
        var b = await StartUpstreamsAsync(3);
        var front = new[] { await HealthUpstream.StartAsync("fa"), await HealthUpstream.StartAsync("fb1"), await HealthUpstream.StartAsync("fb2") };
        try
        {
            const string check = """
                  health_checks:
                  - timeout: 1s
                    interval: 0.1s
                    no_traffic_interval: 0.1s
                    unhealthy_threshold: 1
                    healthy_threshold: 1
                    http_health_check: { path: /healthz }
                """;
            await using var gateway = await InProcessGateway.StartAsync(Yaml(a[0].Port,
                Zone("zone-a", a.Select(u => u.Port)) + "\n" + Zone("zone-b", b.Select(u => u.Port)),
                Zone("zone-a", [front[0].Port]) + "\n" + Zone("zone-b", [front[1].Port, front[2].Port]),
                frontExtra: check));
            await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("cluster.front.membership_healthy") == 3, "the local cluster is healthy");

            await SendAsync(gateway, 12);
            Assert.Equal(12, a.Sum(u => u.Requests));

            // Both zone-b gateways fail their checks: the local cluster is in panic (1 of 3 healthy < 50%), so the
            // upstream's structures are refreshed and picks no longer route by zone.
            front[1].HealthStatus = 503;
            front[2].HealthStatus = 503;
            await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("cluster.front.membership_healthy") == 1, "the zone-b gateways are unhealthy");
            await SendAsync(gateway, 12);

            // Round robin over all six hosts (a rebuild by a health check may restart its rotation): zone-b gets its turns.
            Assert.True(b.Sum(u => u.Requests) > 0);
            Assert.True(await gateway.StatAsync("cluster.service.lb_local_cluster_not_ok") >= 12);
        }
        finally
        {
            await StopAsync([.. a, .. b, .. front]);
        }
    }

    [Fact]
    public async Task Proxy_TypedRoundRobinZoneAware_RoutesByZone()
    {
        var a = await StartUpstreamsAsync(1);
        var b = await StartUpstreamsAsync(1);
        try
        {
            const string policy = """
                  load_balancing_policy:
                    policies:
                    - typed_extension_config:
                        name: rr
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin
                          locality_lb_config: { zone_aware_lb_config: { min_cluster_size: 2, routing_enabled: { value: 100 } } }
                """;
            await using var gateway = await InProcessGateway.StartAsync(Yaml(a[0].Port,
                Zone("zone-a", [a[0].Port]) + "\n" + Zone("zone-b", [b[0].Port]),
                Zone("zone-a", [1]) + "\n" + Zone("zone-b", [2]), serviceLbPolicy: policy));

            await SendAsync(gateway, 20);

            Assert.Equal(20, a[0].Requests);
            await gateway.AssertStatAsync("cluster.service.lb_zone_routing_all_directly", 20);
        }
        finally
        {
            await StopAsync([.. a, .. b]);
        }
    }

    [Fact]
    public async Task Proxy_TypedRandomLocalityWeighted_SplitsByLocalityWeight()
    {
        var heavy = await StartUpstreamsAsync(1);
        var light = await StartUpstreamsAsync(1);
        try
        {
            const string policy = """
                  load_balancing_policy:
                    policies:
                    - typed_extension_config:
                        name: random
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.random.v3.Random
                          locality_lb_config: { locality_weighted_lb_config: {} }
                """;
            // No local cluster: the locality weights alone decide (2 : 1).
            await using var gateway = await InProcessGateway.StartAsync(Yaml(heavy[0].Port,
                Zone("zone-a", [heavy[0].Port], "load_balancing_weight: 2") + "\n" + Zone("zone-b", [light[0].Port], "load_balancing_weight: 1"),
                Zone("zone-a", [1]), serviceLbPolicy: policy, bootstrap: ""));

            await SendAsync(gateway, 300);

            // EDF over the locality weights is exact per cycle of three picks; the random start shifts it by at most one.
            Assert.InRange(heavy[0].Requests, 199, 201);
            Assert.Equal(300, heavy[0].Requests + light[0].Requests);
        }
        finally
        {
            await StopAsync([.. heavy, .. light]);
        }
    }

    [Fact]
    public async Task Proxy_FailTrafficOnPanic_NoHealthyUpstreamInsteadOfPanicHosts()
    {
        var a = await StartUpstreamsAsync(1);
        try
        {
            // 1 of 3 hosts healthy: the level is in panic; with fail_traffic_on_panic no host is used.
            await using var gateway = await InProcessGateway.StartAsync(Yaml(a[0].Port,
                Zone("zone-a", [a[0].Port]) + "\n    - lb_endpoints:\n"
                    + "      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }\n        health_status: UNHEALTHY\n"
                    + "      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 2 } } }\n        health_status: UNHEALTHY",
                Zone("zone-a", [1]), serviceExtra: "  common_lb_config: { zone_aware_lb_config: { fail_traffic_on_panic: true } }", bootstrap: ""));

            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("no healthy upstream", await response.Content.ReadAsStringAsync());
            Assert.Equal(0, a[0].Requests);
            await gateway.AssertStatAsync("cluster.service.lb_healthy_panic", 1);
        }
        finally
        {
            await StopAsync(a);
        }
    }

    private static List<(string Path, string Message)> Errors(string yaml)
    {
        try
        {
            EnvoyConfigLoader.LoadYaml(yaml);
            return [];
        }
        catch (EnvoyConfigException e)
        {
            return e.Errors.Select(x => (x.Location.Path, x.Message)).ToList();
        }
    }

    private static string TwoZones => Zone("zone-a", [8081]) + "\n" + Zone("zone-b", [8082]);

    [Fact]
    public void Load_LocalClusterNotDefined_EnvoysMessage()
    {
        var error = Assert.Single(Errors(Yaml(8080, TwoZones, TwoZones, bootstrap: "cluster_manager: { local_cluster_name: nowhere }")));

        Assert.Equal("cluster_manager.local_cluster_name", error.Path);
        Assert.Equal("local cluster 'nowhere' must be defined", error.Message);
    }

    [Fact]
    public void Load_LocalClusterWithPriorityOne_EnvoysMessage()
    {
        var error = Assert.Single(Errors(Yaml(8080, TwoZones, Zone("zone-a", [1]) + "\n" + Zone("zone-b", [2], "priority: 1"))));

        Assert.EndsWith("clusters[2].load_assignment.endpoints[1].priority", error.Path, StringComparison.Ordinal);
        Assert.Equal("Unexpected non-zero priority for local cluster 'front'.", error.Message);
    }

    [Theory]
    [InlineData("  common_lb_config: { zone_aware_lb_config: { routing_enabled: { value: 150 } } }", "zone_aware_lb_config.routing_enabled.value", "'routing_enabled' must be a percentage in [0, 100], not 150")]
    [InlineData("  common_lb_config: { zone_aware_lb_config: {}, locality_weighted_lb_config: {} }", "common_lb_config.zone_aware_lb_config", "common_lb_config takes only one of zone_aware_lb_config, locality_weighted_lb_config (a one-of)")]
    [InlineData("  lb_policy: RING_HASH\n  common_lb_config: { zone_aware_lb_config: {} }", "common_lb_config.zone_aware_lb_config", "'zone_aware_lb_config' has no effect with lb_policy RING_HASH (consistent-hashing load balancers do not route by zone); remove it")]
    public void Load_BadZoneAwareLbConfig_NamesThePath(string extra, string pathEnd, string message)
    {
        var error = Assert.Single(Errors(Yaml(8080, TwoZones, TwoZones, serviceExtra: extra, serviceLbPolicy: "")));

        Assert.EndsWith(pathEnd, error.Path, StringComparison.Ordinal);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("round_robin.v3.RoundRobin, locality_lb_config: {}", "value is required")]
    [InlineData("least_request.v3.LeastRequest, locality_lb_config: { zone_aware_lb_config: {}, locality_weighted_lb_config: {} }", "locality_lb_config takes only one of zone_aware_lb_config, locality_weighted_lb_config (a one-of)")]
    [InlineData("random.v3.Random, locality_lb_config: { zone_aware_lb_config: { routing_enabled: { value: -1 } } }", "'routing_enabled' must be a percentage in [0, 100], not -1")]
    public void Load_BadTypedLocalityLbConfig_Refused(string typedConfig, string message)
    {
        var policy = "  load_balancing_policy: { policies: [ { typed_extension_config: { name: p, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies."
            + typedConfig + " } } } ] }";

        var error = Assert.Single(Errors(Yaml(8080, TwoZones, TwoZones, serviceLbPolicy: policy)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("typed_config.locality_lb_config", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ClusterManagerOutlierDetection_RefusedByPath()
    {
        var error = Assert.Single(Errors(Yaml(8080, TwoZones, TwoZones, bootstrap: "cluster_manager: { local_cluster_name: front, outlier_detection: { event_log_path: /tmp/x } }")));

        Assert.Equal("cluster_manager.outlier_detection", error.Path);
        Assert.Equal("field 'outlier_detection' of envoy.config.bootstrap.v3.ClusterManager is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Translate_ZoneAwareLbConfig_PlanHasTheSettingsTheLocalClusterAndTheZone()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(Yaml(8080, TwoZones, TwoZones,
            serviceExtra: "  common_lb_config: { zone_aware_lb_config: { routing_enabled: { value: 49.5 }, min_cluster_size: 3, fail_traffic_on_panic: true } }"));

        var plan = EnvoyTranslator.Translate(bootstrap);

        var service = plan.ClusterPlans.Single(c => c.Name == "service");
        Assert.Equal(new ZoneAwarePlan(50, 3, true, null, false), service.ZoneAware);
        Assert.Equal("front", service.LocalCluster);
        Assert.Equal(new LocalityPlan("", "zone-a", ""), service.NodeLocality);
        var front = plan.ClusterPlans.Single(c => c.Name == "front");
        Assert.Null(front.LocalCluster);
        Assert.Null(front.ZoneAware);
    }

    [Fact]
    public void Translate_TypedForceLocalZoneAndWeightBasis_PlanFollowsEnvoysDefaults()
    {
        var policy = "  load_balancing_policy: { policies: [ { typed_extension_config: { name: p, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies."
            + "least_request.v3.LeastRequest, locality_lb_config: { zone_aware_lb_config: { force_local_zone: {}, locality_basis: HEALTHY_HOSTS_WEIGHT } } } } } ] }";

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(8080, TwoZones, TwoZones, serviceLbPolicy: policy)));

        Assert.Equal(new ZoneAwarePlan(100, 6, false, 1, true), plan.ClusterPlans.Single(c => c.Name == "service").ZoneAware);
    }

    [Fact]
    public void Translate_RingHashWithLocalCluster_DoesNotRouteByZone()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(8080, TwoZones, TwoZones, serviceLbPolicy: "  lb_policy: MAGLEV")));

        Assert.Null(plan.ClusterPlans.Single(c => c.Name == "service").LocalCluster);
    }
}
