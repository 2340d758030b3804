using System.Net;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Translation;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>Subset routing by metadata end to end: real Kestrel upstreams with <c>envoy.lb</c> metadata behind the gateway.</summary>
public class SubsetLoadBalancingIntegrationTests
{
    /// <summary>The cluster's three hosts: v1/prod, v2/prod, v1/canary.</summary>
    private sealed class Upstreams : IAsyncDisposable
    {
        public required EchoUpstream V1a { get; init; }

        public required EchoUpstream V2 { get; init; }

        public required EchoUpstream V1b { get; init; }

        public static async Task<Upstreams> StartAsync()
            => new() { V1a = await EchoUpstream.StartAsync(), V2 = await EchoUpstream.StartAsync(), V1b = await EchoUpstream.StartAsync() };

        public async ValueTask DisposeAsync()
        {
            await V1a.DisposeAsync();
            await V2.DisposeAsync();
            await V1b.DisposeAsync();
        }
    }

    /// <summary>The same subsets as the typed <c>envoy.load_balancing_policies.subset</c> around <paramref name="child"/> (a typed policy).</summary>
    private static string TypedYaml(int v1a, int v2, int v1b, string child = "round_robin.v3.RoundRobin", bool localityWeightAware = false)
        => Yaml(v1a, v2, v1b, subsets: $$"""
              load_balancing_policy:
                policies:
                - typed_extension_config:
                    name: envoy.load_balancing_policies.subset
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.subset.v3.Subset
                      locality_weight_aware: {{(localityWeightAware ? "true" : "false")}}
                      subset_selectors:
                      - keys: [ version ]
                      - keys: [ version, stage ]
                        fallback_policy: KEYS_SUBSET
                        fallback_keys_subset: [ version ]
                      subset_lb_policy:
                        policies:
                        - typed_extension_config: { name: child, typed_config: { "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.{{child}} } }
            """);

    private static string Yaml(int v1a, int v2, int v1b, string fallback = "NO_FALLBACK", string httpFilters = "", string? subsets = null)
    {
        subsets ??= $$"""
              lb_subset_config:
                fallback_policy: {{fallback}}
                subset_selectors:
                - keys: [ version ]
                - keys: [ version, stage ]
                  fallback_policy: KEYS_SUBSET
                  fallback_keys_subset: [ version ]
            """;
        var clusters = $$"""
            - name: versions
              type: STATIC
            {{subsets}}
              load_assignment:
                cluster_name: versions
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{v1a}} } } }
                    metadata: { filter_metadata: { envoy.lb: { version: v1, stage: prod } } }
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{v2}} } } }
                    metadata: { filter_metadata: { envoy.lb: { version: v2, stage: prod } } }
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{v1b}} } } }
                    metadata: { filter_metadata: { envoy.lb: { version: v1, stage: canary } } }
            """;
        return ListenerYaml.Build(v1a, httpFilters, routes: """
            - match: { prefix: "/v1" }
              route:
                cluster: versions
                metadata_match: { filter_metadata: { envoy.lb: { version: v1 } } }
            - match: { prefix: "/v2" }
              route:
                cluster: versions
                metadata_match: { filter_metadata: { envoy.lb: { version: v2 } } }
            - match: { prefix: "/v3" }
              route:
                cluster: versions
                metadata_match: { filter_metadata: { envoy.lb: { version: v3 } } }
            - match: { prefix: "/canary" }
              route:
                cluster: versions
                metadata_match: { filter_metadata: { envoy.lb: { version: v1, stage: canary } } }
            - match: { prefix: "/v2-edge" }
              route:
                cluster: versions
                metadata_match: { filter_metadata: { envoy.lb: { version: v2, stage: edge } } }
            - match: { prefix: "/weighted" }
              route:
                metadata_match: { filter_metadata: { envoy.lb: { version: v1 } } }
                weighted_clusters:
                  clusters:
                  - name: versions
                    weight: 1
                    metadata_match: { filter_metadata: { envoy.lb: { version: v2 } } }
            - match: { prefix: "/" }
              route: { cluster: versions }
            """, clusters: clusters);
    }

    [Theory]
    [InlineData(false)]
    // The typed envoy.load_balancing_policies.subset around a typed round robin: the same subsets, the same picks.
    [InlineData(true)]
    public async Task Proxy_RouteMetadataMatch_ReachesOnlyTheMatchingEndpoints(bool typed)
    {
        await using var hosts = await Upstreams.StartAsync();
        var (v1a, v2, v1b) = (hosts.V1a, hosts.V2, hosts.V1b);
        await using var gateway = await InProcessGateway.StartAsync(typed ? TypedYaml(v1a.Port, v2.Port, v1b.Port) : Yaml(v1a.Port, v2.Port, v1b.Port));

        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/v1"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(0, v2.Requests);
        Assert.Equal(10, v1a.Requests);
        Assert.Equal(10, v1b.Requests);

        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/v2"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(5, v2.Requests);

        // Both keys: the one canary host.
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/canary"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(14, v1b.Requests);

        // {v2, edge} has no host: the selector's KEYS_SUBSET retries with {version: v2}.
        using (var keysSubset = await gateway.Client.GetAsync(gateway.ListenerUri("/v2-edge")))
        {
            Assert.Equal(HttpStatusCode.OK, keysSubset.StatusCode);
        }
        Assert.Equal(6, v2.Requests);
        await gateway.AssertStatAsync("cluster.versions.lb_subsets_selected", 30);
        await gateway.AssertStatAsync("cluster.versions.lb_subsets_active", 5);
        await gateway.AssertStatAsync("cluster.versions.lb_subsets_created", 5);
    }

    [Fact]
    public void Translate_TypedSubsetPolicy_ChildPolicyAndSubsetPlan()
    {
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TypedYaml(1, 2, 3, "least_request.v3.LeastRequest, choice_count: 3")))
            .ClusterPlans.Single(c => c.Name == "versions");

        Assert.Equal(LbPolicy.LeastRequest, plan.LbPolicy);
        Assert.Equal(3, plan.LeastRequest.ChoiceCount);
        Assert.NotNull(plan.Subset);
        Assert.Equal(2, plan.Subset.Selectors.Count);
    }

    [Theory]
    [InlineData("subset_lb_policy", "", "Proto constraint validation failed (SubsetValidationError.SubsetLbPolicy: value is required)")]
    // The child round robin has no locality_lb_config.locality_weighted_lb_config: the legacy form's check.
    [InlineData("locality_weight_aware", "locality_weight_aware: true, ", "Locality weight aware subset LB requires that a locality_weighted_lb_config be set in versions")]
    [InlineData("subset_selectors[0].fallback_keys_subset", "subset_selectors: [ { keys: [ a ], fallback_keys_subset: [ a ] } ], ", "fallback_keys_subset can be set only for KEYS_SUBSET fallback_policy")]
    public void Load_TypedSubsetPolicyErrors_AtTheField(string field, string fields, string message)
    {
        var child = field == "subset_lb_policy" ? "" : "subset_lb_policy: { policies: [ { typed_extension_config: { name: rr, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin } } } ] }";
        var yaml = ListenerYaml.Build(1, "", clusters: $$"""
            - name: versions
              type: STATIC
              load_balancing_policy:
                policies:
                - typed_extension_config: { name: subset, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.subset.v3.Subset, {{fields}}{{child}} } }
            """);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.clusters[1].load_balancing_policy.policies[0].typed_extension_config.typed_config." + field, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_TypedSubsetLocalityWeightAwareWithALocalityWeightedChild_LocalityWeighted()
    {
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(
            TypedYaml(1, 2, 3, "round_robin.v3.RoundRobin, locality_lb_config: { locality_weighted_lb_config: {} }", localityWeightAware: true)))
            .ClusterPlans.Single(c => c.Name == "versions");

        Assert.True(plan.LocalityWeighted);
        Assert.True(plan.Subset!.LocalityWeightAware);
    }

    [Fact]
    public void Load_TypedSubsetInsideTypedSubset_Refused()
    {
        var yaml = TypedYaml(1, 2, 3, child: "subset.v3.Subset, subset_lb_policy: { policies: [ { typed_extension_config: { name: rr, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin } } } ] }");

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Contains("a subset policy inside a subset policy's subset_lb_policy is not supported", Assert.Single(ex.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_NoSubsetMatchesWithNoFallback_503NoHealthyUpstream()
    {
        await using var hosts = await Upstreams.StartAsync();
        var (v1a, v2, v1b) = (hosts.V1a, hosts.V2, hosts.V1b);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(v1a.Port, v2.Port, v1b.Port));

        foreach (var path in new[] { "/v3", "/" })
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("no healthy upstream", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, v1a.Requests + v2.Requests + v1b.Requests);
        await gateway.AssertStatAsync("cluster.versions.upstream_cx_none_healthy", 2);
        await gateway.AssertStatAsync("cluster.versions.lb_subsets_fallback", 0);
    }

    [Fact]
    public async Task Proxy_AnyEndpointFallback_NoCriteriaReachesEveryHost()
    {
        await using var hosts = await Upstreams.StartAsync();
        var (v1a, v2, v1b) = (hosts.V1a, hosts.V2, hosts.V1b);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(v1a.Port, v2.Port, v1b.Port, "ANY_ENDPOINT"));

        for (var i = 0; i < 9; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/v3"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(3, v1a.Requests);
        Assert.Equal(3, v2.Requests);
        Assert.Equal(3, v1b.Requests);
        await gateway.AssertStatAsync("cluster.versions.lb_subsets_fallback", 9);
    }

    [Fact]
    public async Task Proxy_WeightedEntryMetadataMatch_WinsOverTheRoutes()
    {
        await using var hosts = await Upstreams.StartAsync();
        var (v1a, v2, v1b) = (hosts.V1a, hosts.V2, hosts.V1b);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(v1a.Port, v2.Port, v1b.Port));

        for (var i = 0; i < 6; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/weighted"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(6, v2.Requests);
        Assert.Equal(0, v1a.Requests + v1b.Requests);
    }

    [Fact]
    public async Task ConfigDump_LbSubsetConfigAndMetadataMatch_Shown()
    {
        await using var v1a = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(v1a.Port, v1a.Port + 1, v1a.Port + 2));

        var dump = string.Concat((await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"))).Where(c => !char.IsWhiteSpace(c)));

        Assert.Contains("\"lb_subset_config\":{\"subset_selectors\":[{\"keys\":[\"version\"]},{\"keys\":[\"version\",\"stage\"],\"fallback_policy\":\"KEYS_SUBSET\",\"fallback_keys_subset\":[\"version\"]}]}", dump);
        Assert.Contains("\"metadata_match\":{\"filter_metadata\":{\"envoy.lb\":{\"version\":\"v1\"}}}", dump);
    }

    [Fact]
    public async Task Proxy_EnvoyLbDynamicMetadata_MergedOverTheRoutesCriteria()
    {
        await using var hosts = await Upstreams.StartAsync();
        var (v1a, v2, v1b) = (hosts.V1a, hosts.V2, hosts.V1b);
        const string Setter = """
            - name: lb-version
              typed_config: { "@type": type.googleapis.com/gateway.tests.LbVersionSetter }
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(v1a.Port, v2.Port, v1b.Port, httpFilters: Setter),
            configureGateway: g => g.AddHttpFilter(new LbVersionSetterFactory()));

        // The route asks for v1; the request's envoy.lb metadata (as header_to_metadata would set it) wins.
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/v1"));
            request.Headers.Add("x-version", "v2");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // A route without criteria gets them from the request alone.
        using (var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/other")))
        {
            request.Headers.Add("x-version", "v2");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(5, v2.Requests);
        Assert.Equal(0, v1a.Requests + v1b.Requests);
    }

    /// <summary>Sets <c>envoy.lb</c> <c>version</c> from the <c>x-version</c> header (what header_to_metadata does).</summary>
    private sealed class LbVersionSetterFactory : HttpFilterFactory<LbVersionSetterConfig>
    {
        public override string Name => "gateway.tests.lb_version_setter";

        protected override IHttpFilter CreateFilter(LbVersionSetterConfig config, HttpFilterFactoryContext context) => new Setter();

        private sealed class Setter : IHttpFilter
        {
            public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

            public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
            {
                if (context.HttpContext.Request.Headers.TryGetValue("x-version", out var version))
                {
                    context.StreamInfo.DynamicMetadata("envoy.lb")["version"] = version.ToString();
                }
                return new(FilterStatus.Continue);
            }
        }
    }

    [Theory]
    [InlineData("{ keys: [ a, b ], fallback_keys_subset: [ a ] }", "fallback_keys_subset can be set only for KEYS_SUBSET fallback_policy")]
    [InlineData("{ keys: [ a, b ], fallback_policy: KEYS_SUBSET }", "fallback_keys_subset cannot be empty")]
    [InlineData("{ keys: [ a, b ], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [ c ] }", "fallback_keys_subset must be a subset of selector keys")]
    [InlineData("{ keys: [ a, b ], fallback_policy: KEYS_SUBSET, fallback_keys_subset: [ b, a ] }", "fallback_keys_subset cannot be equal to keys")]
    public void Load_BadFallbackKeysSubset_EnvoysErrorAtTheField(string selector, string message)
    {
        var yaml = ListenerYaml.Build(1, "", clusters: $$"""
            - name: versions
              type: STATIC
              lb_subset_config:
                subset_selectors:
                - {{selector}}
            """);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.clusters[1].lb_subset_config.subset_selectors[0].fallback_keys_subset", error.Location.Path);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Load_LocalityWeightAware_RefusedAsEnvoyWithoutLocalityWeightedLbConfig()
    {
        var yaml = ListenerYaml.Build(1, "", clusters: """
            - name: versions
              type: STATIC
              lb_subset_config:
                locality_weight_aware: true
                subset_selectors: [ { keys: [ a ] } ]
            """);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.clusters[1].lb_subset_config.locality_weight_aware", error.Location.Path);
        Assert.Equal("Locality weight aware subset LB requires that a locality_weighted_lb_config be set in versions", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_LocalityWeightAwareWithLocalityWeightedLbConfig_AcceptedWithOrWithoutScaleLocalityWeight(bool scale)
    {
        var yaml = ListenerYaml.Build(1, "", clusters: $$"""
            - name: versions
              type: STATIC
              common_lb_config: { locality_weighted_lb_config: {} }
              lb_subset_config:
                locality_weight_aware: true
                scale_locality_weight: {{(scale ? "true" : "false")}}
                subset_selectors: [ { keys: [ a ] } ]
            """);

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Equal(scale, plan.ClusterPlans.Single(c => c.Name == "versions").Subset!.ScaleLocalityWeight);
    }

    [Fact]
    public void Load_SubsetsWithTypedLoadBalancingPolicy_EnvoysError()
    {
        var yaml = ListenerYaml.Build(1, "", clusters: """
            - name: versions
              type: STATIC
              load_balancing_policy:
                policies:
                - typed_extension_config:
                    name: envoy.load_balancing_policies.round_robin
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin }
              lb_subset_config:
                subset_selectors: [ { keys: [ a ] } ]
            """);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.clusters[1].lb_subset_config", error.Location.Path);
        Assert.Equal("cluster: load_balancing_policy cannot be combined with lb_subset_config", error.Message);
    }
}

/// <summary>The lb version setter test filter's (empty) configuration.</summary>
[EnvoyType("gateway.tests.LbVersionSetter")]
public sealed class LbVersionSetterConfig : EnvoyMessage;
