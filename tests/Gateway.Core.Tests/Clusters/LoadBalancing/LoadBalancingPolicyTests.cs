using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Translation;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>The typed <c>load_balancing_policy</c> and the slow start settings, read as Envoy reads them.</summary>
public class LoadBalancingPolicyTests
{
    private const string Lb = "type.googleapis.com/envoy.extensions.load_balancing_policies.";

    private static ClusterPlan Plan(string clusterFields)
        => EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(LoadBalancingValidationTests.Yaml(clusterFields))).ClusterPlans.Single(c => c.Name == "httpbin");

    private static List<string> Errors(string clusterFields) => LoadBalancingValidationTests.Errors(clusterFields);

    private static string Policies(params string[] entries)
        => "  load_balancing_policy:\n    policies:\n" + string.Concat(entries.Select(e => "    - typed_extension_config: " + e + "\n")).TrimEnd('\n');

    [Fact]
    public void Translate_FirstPolicyUnknown_TheNextSupportedOneIsUsed()
    {
        var plan = Plan(Policies(
            "{ name: custom, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin } }",
            $"{{ name: lr, typed_config: {{ '@type': {Lb}least_request.v3.LeastRequest, choice_count: 3, active_request_bias: {{ default_value: 0.5, runtime_key: k }} }} }}",
            $"{{ name: rr, typed_config: {{ '@type': {Lb}round_robin.v3.RoundRobin }} }}"));

        Assert.Equal(LbPolicy.LeastRequest, plan.LbPolicy);
        Assert.Equal(new LeastRequestPlan(3, 0.5), plan.LeastRequest);
        Assert.Null(plan.SlowStart);
    }

    [Theory]
    [InlineData("random.v3.Random }", LbPolicy.Random)]
    [InlineData("round_robin.v3.RoundRobin }", LbPolicy.RoundRobin)]
    [InlineData("ring_hash.v3.RingHash, minimum_ring_size: 64, hash_function: MURMUR_HASH_2 }", LbPolicy.RingHash)]
    [InlineData("maglev.v3.Maglev, table_size: 131, consistent_hashing_lb_config: { use_hostname_for_hashing: true } }", LbPolicy.Maglev)]
    public void Translate_TypedPolicy_MapsOntoTheSameRuntime(string typedConfig, LbPolicy expected)
    {
        var plan = Plan("  lb_policy: LOAD_BALANCING_POLICY_CONFIG\n" + Policies($"{{ name: p, typed_config: {{ '@type': {Lb}{typedConfig} }}"));

        Assert.Equal(expected, plan.LbPolicy);
        switch (expected)
        {
            case LbPolicy.RingHash:
                Assert.Equal(new RingHashPlan(64, RingHashPlan.DefaultMaximumRingSize, RingHashFunction.MurmurHash2, false), plan.HashLb);
                break;
            case LbPolicy.Maglev:
                Assert.Equal(new MaglevPlan(131, true), plan.HashLb);
                break;
            default:
                Assert.Null(plan.HashLb);
                break;
        }
    }

    [Fact]
    public void Translate_TypedRoundRobinSlowStart_EnvoysDefaults()
    {
        var plan = Plan(Policies($"{{ name: rr, typed_config: {{ '@type': {Lb}round_robin.v3.RoundRobin, slow_start_config: {{ slow_start_window: 30s }} }} }}"));

        Assert.Equal(new SlowStartPlan(TimeSpan.FromSeconds(30), 1.0, 0.1), plan.SlowStart);
    }

    [Fact]
    public void Translate_LegacySlowStart_RoundRobinAndLeastRequest()
    {
        Assert.Equal(
            new SlowStartPlan(TimeSpan.FromSeconds(10), 2.0, 0.25),
            Plan("  lb_policy: ROUND_ROBIN\n  round_robin_lb_config: { slow_start_config: { slow_start_window: 10s, aggression: { default_value: 2, runtime_key: a }, min_weight_percent: { value: 25 } } }").SlowStart);
        Assert.Equal(
            new SlowStartPlan(TimeSpan.FromSeconds(5), 1.0, 0.1),
            Plan("  lb_policy: LEAST_REQUEST\n  least_request_lb_config: { slow_start_config: { slow_start_window: 5s } }").SlowStart);
        // No window: slow start is off, as in Envoy.
        Assert.Null(Plan("  lb_policy: ROUND_ROBIN\n  round_robin_lb_config: { slow_start_config: { } }").SlowStart);
    }

    [Fact]
    public void Load_NoSupportedPolicy_EnvoysMessageListingTheNames()
    {
        var error = Assert.Single(Errors(Policies(
            "{ name: envoy.load_balancing_policies.wrr_locality, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality } }",
            "{ name: custom }")));

        Assert.Contains("cluster: didn't find a registered load balancer factory implementation for cluster: 'httpbin' with names from [envoy.load_balancing_policies.wrr_locality, custom]", error, StringComparison.Ordinal);
        Assert.Contains("load_balancing_policy", error[..error.IndexOf("cluster:", StringComparison.Ordinal)], StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LoadBalancingPolicyConfigWithoutThePolicy_EnvoysMessage()
    {
        var error = Assert.Single(Errors("  lb_policy: LOAD_BALANCING_POLICY_CONFIG"));
        Assert.Contains("cluster: field load_balancing_policy need to be set", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  lb_policy: RING_HASH\n  common_lb_config: { locality_weighted_lb_config: {}, consistent_hashing_lb_config: { hash_balance_factor: 150 } }", 150u, true)]
    [InlineData("  lb_policy: MAGLEV\n  common_lb_config: { consistent_hashing_lb_config: { hash_balance_factor: 120 } }", 120u, false)]
    [InlineData("  load_balancing_policy: { policies: [ { typed_extension_config: { name: r, typed_config: { '@type': " + Lb + "ring_hash.v3.RingHash, hash_balance_factor: 110, locality_weighted_lb_config: {} } } } ] }", 110u, true)]
    // The deprecated field is ignored once consistent_hashing_lb_config is there (Envoy's RingHashLoadBalancer).
    [InlineData("  load_balancing_policy: { policies: [ { typed_extension_config: { name: r, typed_config: { '@type': " + Lb + "ring_hash.v3.RingHash, hash_balance_factor: 110, consistent_hashing_lb_config: { use_hostname_for_hashing: false } } } } ] }", 0u, false)]
    [InlineData("  load_balancing_policy: { policies: [ { typed_extension_config: { name: m, typed_config: { '@type': " + Lb + "maglev.v3.Maglev, consistent_hashing_lb_config: { hash_balance_factor: 200 }, locality_weighted_lb_config: {} } } } ] }", 200u, true)]
    public void Translate_HashBalanceFactorAndLocalityWeighting_ReadAsEnvoy(string clusterFields, uint factor, bool localityWeighted)
    {
        var plan = Plan(clusterFields);

        Assert.Equal(factor, plan.HashLb!.HashBalanceFactor);
        Assert.Equal(localityWeighted, plan.HashLb.LocalityWeighted);
        Assert.Equal(localityWeighted, plan.LocalityWeighted);
    }

    [Fact]
    public void Load_SettingsTheTypedPolicyReplaces_AllRefused()
    {
        var errors = Errors("  lb_policy: MAGLEV\n  maglev_lb_config: { table_size: 131 }\n  common_lb_config: { consistent_hashing_lb_config: { use_hostname_for_hashing: false } }\n"
            + Policies($"{{ name: rr, typed_config: {{ '@type': {Lb}round_robin.v3.RoundRobin }} }}"));

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("'lb_policy' MAGLEV is ignored when 'load_balancing_policy' is set", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'maglev_lb_config' is ignored when 'load_balancing_policy' is set", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("cluster: load_balancing_policy cannot be combined with partial fields (zone_aware_lb_config, locality_weighted_lb_config, consistent_hashing_lb_config) of common_lb_config", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_TypedPolicyConstraints_EnvoysMessages()
    {
        Assert.Contains("RingHashValidationError.MinimumRingSize: value must be less than or equal to 8388608",
            Assert.Single(Errors(Policies($"{{ name: r, typed_config: {{ '@type': {Lb}ring_hash.v3.RingHash, minimum_ring_size: 9000000 }} }}"))), StringComparison.Ordinal);
        Assert.Contains("ring hash: minimum_ring_size (128) > maximum_ring_size (64)",
            Assert.Single(Errors(Policies($"{{ name: r, typed_config: {{ '@type': {Lb}ring_hash.v3.RingHash, minimum_ring_size: 128, maximum_ring_size: 64 }} }}"))), StringComparison.Ordinal);
        Assert.Contains("The table size of maglev must be prime number",
            Assert.Single(Errors(Policies($"{{ name: m, typed_config: {{ '@type': {Lb}maglev.v3.Maglev, table_size: 100 }} }}"))), StringComparison.Ordinal);
        Assert.Contains("typed_extension_config.typed_config.hash_balance_factor: Proto constraint validation failed (RingHashValidationError.HashBalanceFactor: value must be greater than or equal to 100)",
            Assert.Single(Errors(Policies($"{{ name: r, typed_config: {{ '@type': {Lb}ring_hash.v3.RingHash, hash_balance_factor: 50 }} }}"))), StringComparison.Ordinal);
        Assert.Contains("ConsistentHashingLbConfigValidationError.HashBalanceFactor: value must be greater than or equal to 100",
            Assert.Single(Errors(Policies($"{{ name: m, typed_config: {{ '@type': {Lb}maglev.v3.Maglev, consistent_hashing_lb_config: {{ hash_balance_factor: 0 }} }} }}"))), StringComparison.Ordinal);
        Assert.Contains("LeastRequestValidationError.ChoiceCount: value must be greater than or equal to 2",
            Assert.Single(Errors(Policies($"{{ name: l, typed_config: {{ '@type': {Lb}least_request.v3.LeastRequest, choice_count: 1 }} }}"))), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadSlowStart_AllReported()
    {
        var errors = Errors("  lb_policy: ROUND_ROBIN\n  round_robin_lb_config: { slow_start_config: { slow_start_window: -1s, aggression: { default_value: 0 }, min_weight_percent: { value: 150 } } }");

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("'slow_start_window' may not be negative", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'runtime_key' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'aggression' must be a number greater than 0, not 0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'min_weight_percent' must be a percentage in [0, 100], not 150", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData(", selection_method: N_CHOICES", false)]
    [InlineData(", selection_method: FULL_SCAN", true)]
    // Envoy's proto: enable_full_scan is unused (replaced by selection_method), so it selects nothing.
    [InlineData(", enable_full_scan: true", false)]
    public void Translate_LeastRequestSelectionMethod_FullScanOnlyForFullScan(string fields, bool fullScan)
    {
        var plan = Plan(Policies($"{{ name: lr, typed_config: {{ '@type': {Lb}least_request.v3.LeastRequest, choice_count: 3{fields} }} }}"));

        Assert.Equal(LbPolicy.LeastRequest, plan.LbPolicy);
        Assert.Equal(3, plan.LeastRequest.ChoiceCount);
        Assert.Equal(fullScan, plan.LeastRequest.FullScan);
    }

    [Fact]
    public async Task Proxy_LeastRequestFullScan_SendsToTheIdleHost()
    {
        await using var slow = await EchoUpstream.StartAsync();
        await using var idle = await EchoUpstream.StartAsync();
        var yaml = ListenerYaml.Build(slow.Port, "", clusters: $$"""
            - name: lr
              type: STATIC
              load_balancing_policy:
                policies:
                - typed_extension_config: { name: lr, typed_config: { '@type': {{Lb}}least_request.v3.LeastRequest, selection_method: FULL_SCAN } }
              load_assignment:
                cluster_name: lr
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{slow.Port}} } } }
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{idle.Port}} } } }
            """, routes: """
            - match: { prefix: "/" }
              route: { cluster: lr }
            """);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        Assert.True(gateway.Services.GetRequiredService<Gateway.Clusters.ClusterRegistry>().TryGet("lr", out var cluster));
        // One request in flight on the first host: a full scan never picks it while the other is idle.
        var busy = cluster.Host("127.0.0.1:" + slow.Port);
        busy.RequestStarted();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            }
        }
        finally
        {
            busy.RequestEnded(200, timedOut: false);
        }

        Assert.Equal(0, slow.Requests);
        Assert.Equal(20, idle.Requests);
    }

    [Fact]
    public void Load_RoundRobinConfigOnLeastRequest_Refused()
    {
        var error = Assert.Single(Errors("  lb_policy: LEAST_REQUEST\n  round_robin_lb_config: { slow_start_config: { slow_start_window: 1s } }"));
        Assert.Contains("'round_robin_lb_config' applies only to lb_policy ROUND_ROBIN", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("least_request.v3.LeastRequest, connection_aware_lb_config: { }", "connection_aware_lb_config")]
    [InlineData("ring_hash.v3.RingHash, consistent_hashing_lb_config: { hash_policy: [ { header: { header_name: x } } ] }", "hash_policy")]
    public void Load_UnsupportedTypedPolicyField_RefusedByPath(string typedConfig, string field)
    {
        var error = Assert.Single(Errors(Policies($"{{ name: p, typed_config: {{ '@type': {Lb}{typedConfig} }} }}")));
        Assert.Contains($"field '{field}' of envoy.extensions.load_balancing_policies.", error, StringComparison.Ordinal);
        Assert.Contains("load_balancing_policy.policies[0].typed_extension_config.typed_config", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigDump_TypedPolicy_ShownWithItsType()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")
            .Replace("      lb_policy: ROUND_ROBIN", "      load_balancing_policy:\n        policies:\n        - typed_extension_config: { name: rr, typed_config: { '@type': "
                + Lb + "round_robin.v3.RoundRobin, slow_start_config: { slow_start_window: 2s } } }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
        var dump = string.Concat((await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"))).Where(c => !char.IsWhiteSpace(c)));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"load_balancing_policy\":{\"policies\":[{\"typed_extension_config\":{\"name\":\"rr\",\"typed_config\":{\"@type\":\"" + Lb + "round_robin.v3.RoundRobin\",\"slow_start_config\":{\"slow_start_window\":\"2s\"}}}}]}", dump, StringComparison.Ordinal);
    }
}
