using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>Priorities, localities and configured endpoint health end to end: real Kestrel upstreams behind the gateway.</summary>
public class PriorityLoadBalancingIntegrationTests
{
    /// <summary>A gateway whose route goes to cluster <c>tiered</c> with the given <c>load_assignment.endpoints</c> (flush-left YAML).</summary>
    private static string Yaml(int anyPort, string localities, string extra = "", string lbPolicy = "ROUND_ROBIN")
        => ListenerYaml.Build(anyPort, "", routes: """
            - match: { prefix: "/" }
              route: { cluster: tiered }
            """, clusters: $$"""
            - name: tiered
              type: STATIC
              lb_policy: {{lbPolicy}}
            {{extra}}
              load_assignment:
                cluster_name: tiered
                endpoints:
            {{localities}}
            """);

    private static string Endpoint(int port, string status = "", int weight = 0)
        => $"      - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {port} }} }} }}"
            + (status.Length > 0 ? $"\n        health_status: {status}" : "")
            + (weight > 0 ? $"\n        load_balancing_weight: {weight}" : "");

    private static async Task SendAsync(InProcessGateway gateway, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Proxy_AllOfP0Unhealthy_P1TakesTheTraffic()
    {
        await using var backup = await EchoUpstream.StartAsync();
        // Nothing listens on the P0 ports: a request sent there would fail.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(backup.Port, $$"""
                - priority: 0
                  lb_endpoints:
            {{Endpoint(1, "UNHEALTHY")}}
            {{Endpoint(2, "DRAINING")}}
                - priority: 1
                  lb_endpoints:
            {{Endpoint(backup.Port)}}
            """));

        await SendAsync(gateway, 20);

        Assert.Equal(20, backup.Requests);
        await gateway.AssertStatAsync("cluster.tiered.membership_healthy", 1);
        await gateway.AssertStatAsync("cluster.tiered.membership_total", 3);
        await gateway.AssertStatAsync("cluster.tiered.lb_healthy_panic", 0);
    }

    [Fact]
    public async Task Proxy_P0TwoOfFourHealthy_SendsAbout70PercentToP0()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var backup = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, $$"""
                - priority: 0
                  lb_endpoints:
            {{Endpoint(a.Port)}}
            {{Endpoint(b.Port)}}
            {{Endpoint(1, "UNHEALTHY")}}
            {{Endpoint(2, "TIMEOUT")}}
                - priority: 1
                  lb_endpoints:
            {{Endpoint(backup.Port)}}
            """));

        const int N = 600;
        await SendAsync(gateway, N);

        // P0's health is min(100, 140 × 2 / 4) = 70: 70% to P0. Binomial(600, 0.7) has a standard deviation of
        // about 11; the bound is 5 of them.
        Assert.InRange(a.Requests + b.Requests, 420 - 56, 420 + 56);
        Assert.Equal(N, a.Requests + b.Requests + backup.Requests);
    }

    [Fact]
    public async Task Proxy_WeightedPriorityHealth_P0WithLittleHealthyWeightGivesItsLoadToP1()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var backup = await EchoUpstream.StartAsync();
        // By hosts P0 is 140 × 1 / 2 = 70% healthy; by weight 140 × 1 / 201 = 0%: everything goes to P1.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, $$"""
                - priority: 0
                  lb_endpoints:
            {{Endpoint(a.Port, weight: 1)}}
            {{Endpoint(1, "UNHEALTHY", weight: 200)}}
                - priority: 1
                  lb_endpoints:
            {{Endpoint(backup.Port)}}
                policy: { weighted_priority_health: true }
            """));

        await SendAsync(gateway, 30);

        Assert.Equal(0, a.Requests);
        Assert.Equal(30, backup.Requests);
    }

    [Fact]
    public async Task Proxy_OverprovisioningFactor200_P0KeepsAllTheTraffic()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var backup = await EchoUpstream.StartAsync();
        // 1 of 2 healthy × 200% = 100: P0 counts as fully available.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, $$"""
                - priority: 0
                  lb_endpoints:
            {{Endpoint(a.Port)}}
            {{Endpoint(1, "UNHEALTHY")}}
                - priority: 1
                  lb_endpoints:
            {{Endpoint(backup.Port)}}
                policy: { overprovisioning_factor: 200 }
            """));

        await SendAsync(gateway, 30);

        Assert.Equal(30, a.Requests);
        Assert.Equal(0, backup.Requests);
    }

    [Fact]
    public async Task Proxy_LocalityWeights2To1_SplitsTwoToOne()
    {
        await using var heavy = await EchoUpstream.StartAsync();
        await using var light = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(heavy.Port, $$"""
                - locality: { region: eu, zone: eu-a }
                  load_balancing_weight: 2
                  lb_endpoints:
            {{Endpoint(heavy.Port)}}
                - locality: { region: eu, zone: eu-b }
                  load_balancing_weight: 1
                  lb_endpoints:
            {{Endpoint(light.Port)}}
            """, extra: "  common_lb_config: { locality_weighted_lb_config: {} }"));

        await SendAsync(gateway, 300);

        // EDF over the locality weights is exact per cycle of three picks; the random start shifts it by at most one.
        Assert.InRange(heavy.Requests, 199, 201);
        Assert.Equal(300, heavy.Requests + light.Requests);
    }

    [Theory]
    [InlineData("RING_HASH", "  common_lb_config: { locality_weighted_lb_config: {} }")]
    [InlineData("MAGLEV", "  common_lb_config: { locality_weighted_lb_config: {} }")]
    [InlineData("LOAD_BALANCING_POLICY_CONFIG", "  load_balancing_policy: { policies: [ { typed_extension_config: { name: ring, typed_config: { '@type': type.googleapis.com/envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash, locality_weighted_lb_config: {} } } } ] }")]
    public async Task Proxy_HashPolicyWithLocalityWeights3To1_TheRingFollowsTheLocalities(string lbPolicy, string extra)
    {
        await using var heavy = await EchoUpstream.StartAsync();
        await using var light1 = await EchoUpstream.StartAsync();
        await using var light2 = await EchoUpstream.StartAsync();
        // Zone a (weight 3) has one host, zone b (weight 1) two: by hosts alone the heavy host would have a third of
        // the ring; by locality it has three quarters (each zone b host an eighth).
        await using var gateway = await InProcessGateway.StartAsync(Yaml(heavy.Port, $$"""
                - locality: { region: eu, zone: eu-a }
                  load_balancing_weight: 3
                  lb_endpoints:
            {{Endpoint(heavy.Port)}}
                - locality: { region: eu, zone: eu-b }
                  load_balancing_weight: 1
                  lb_endpoints:
            {{Endpoint(light1.Port)}}
            {{Endpoint(light2.Port)}}
            """, extra: extra, lbPolicy: lbPolicy));

        // No hash policy on the route: each request gets a random hash (Envoy's behaviour), so the shares are the ring's.
        const int N = 400;
        await SendAsync(gateway, N);

        // 300 expected; the ring's arcs and the draws spread it by about 14; the bound is 4 of them (a third would be 133).
        Assert.InRange(heavy.Requests, 300 - 60, 300 + 60);
        Assert.Equal(N, heavy.Requests + light1.Requests + light2.Requests);
        Assert.True(light1.Requests > 0 && light2.Requests > 0);
    }

    [Fact]
    public async Task Proxy_LocalityWeightsWithoutLocalityWeightedLbConfig_AreIgnored()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, $$"""
                - locality: { zone: eu-a }
                  load_balancing_weight: 9
                  lb_endpoints:
            {{Endpoint(a.Port)}}
                - locality: { zone: eu-b }
                  load_balancing_weight: 1
                  lb_endpoints:
            {{Endpoint(b.Port)}}
            """));

        await SendAsync(gateway, 20);

        // Envoy reads locality weights only with locality_weighted_lb_config: plain round robin over both hosts.
        Assert.Equal(10, a.Requests);
        Assert.Equal(10, b.Requests);
    }

    [Fact]
    public async Task Proxy_DegradedHost_UsedOnlyForWhatTheHealthyOnesCannotTake()
    {
        await using var healthy = await EchoUpstream.StartAsync();
        await using var degraded = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(healthy.Port, $$"""
                - lb_endpoints:
            {{Endpoint(healthy.Port)}}
            {{Endpoint(degraded.Port, "DEGRADED")}}
            """));

        const int N = 200;
        await SendAsync(gateway, N);

        // Health and degraded health are both min(100, 140 × 1 / 2) = 70: the healthy host takes 70%, the degraded
        // one the remaining 30%. Binomial(200, 0.3): standard deviation about 6.5, the bound is 5 of them.
        Assert.InRange(degraded.Requests, 60 - 32, 60 + 32);
        Assert.Equal(N, healthy.Requests + degraded.Requests);
        await gateway.AssertStatAsync("cluster.tiered.membership_healthy", 1);
        await gateway.AssertStatAsync("cluster.tiered.membership_degraded", 1);
    }

    [Fact]
    public async Task Proxy_OnlyLevelInPanic_UsesAllHostsAndCountsLbHealthyPanic()
    {
        await using var up = await EchoUpstream.StartAsync();
        await using var alsoUp = await EchoUpstream.StartAsync();
        // Both hosts marked unhealthy: 0% < 50%, so Envoy's panic mode uses them anyway.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(up.Port, $$"""
                - lb_endpoints:
            {{Endpoint(up.Port, "UNHEALTHY")}}
            {{Endpoint(alsoUp.Port, "UNHEALTHY")}}
            """));

        await SendAsync(gateway, 10);

        Assert.Equal(10, up.Requests + alsoUp.Requests);
        await gateway.AssertStatAsync("cluster.tiered.lb_healthy_panic", 10);
    }

    [Fact]
    public async Task Clusters_PrioritiesAndLocalities_ShowWeightLocalityPriorityAndEdsHealth()
    {
        await using var backup = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(backup.Port, $$"""
                - priority: 1
                  locality: { region: us, zone: us-east-1b, sub_zone: rack-2 }
                  lb_endpoints:
            {{Endpoint(backup.Port, weight: 3)}}
                - locality: { region: eu }
                  lb_endpoints:
            {{Endpoint(1, "UNHEALTHY")}}
            {{Endpoint(2, "DEGRADED")}}
            """));

        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));

        Assert.Contains("tiered::127.0.0.1:1::health_flags::/failed_eds_health\n", text, StringComparison.Ordinal);
        Assert.Contains("tiered::127.0.0.1:2::health_flags::/degraded_eds_health\n", text, StringComparison.Ordinal);
        Assert.Contains("tiered::127.0.0.1:1::region::eu\ntiered::127.0.0.1:1::zone::\ntiered::127.0.0.1:1::sub_zone::\n", text, StringComparison.Ordinal);
        var backupHost = $"tiered::127.0.0.1:{backup.Port}::";
        Assert.Contains($"{backupHost}health_flags::healthy\n{backupHost}weight::3\n{backupHost}region::us\n{backupHost}zone::us-east-1b\n{backupHost}sub_zone::rack-2\n{backupHost}canary::false\n{backupHost}priority::1\n", text, StringComparison.Ordinal);
        // Envoy lists the hosts priority by priority.
        Assert.True(text.IndexOf("127.0.0.1:2::", StringComparison.Ordinal) < text.IndexOf(backupHost, StringComparison.Ordinal));

        using var json = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters?format=json")));
        var hosts = json.RootElement.GetProperty("cluster_statuses").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "tiered").GetProperty("host_statuses");
        Assert.Equal("UNHEALTHY", hosts[0].GetProperty("health_status").GetProperty("eds_health_status").GetString());
        Assert.Equal("""{"region":"eu"}""", hosts[0].GetProperty("locality").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
        Assert.False(hosts[0].TryGetProperty("priority", out _));
        Assert.Equal("DEGRADED", hosts[1].GetProperty("health_status").GetProperty("eds_health_status").GetString());
        Assert.Equal("HEALTHY", hosts[2].GetProperty("health_status").GetProperty("eds_health_status").GetString());
        Assert.Equal(3, hosts[2].GetProperty("weight").GetInt32());
        Assert.Equal(1, hosts[2].GetProperty("priority").GetInt32());
        Assert.Equal("rack-2", hosts[2].GetProperty("locality").GetProperty("sub_zone").GetString());
    }

    private static List<(string Path, string Message)> Errors(string localities, string extra = "", string lbPolicy = "ROUND_ROBIN")
    {
        try
        {
            EnvoyConfigLoader.LoadYaml(Yaml(8080, localities, extra, lbPolicy));
            return [];
        }
        catch (EnvoyConfigException e)
        {
            return e.Errors.Select(x => (x.Location.Path, x.Message)).ToList();
        }
    }

    [Theory]
    [InlineData("priority: 129", "priority", "LocalityLbEndpointsValidationError.Priority: value must be less than or equal to 128")]
    [InlineData("load_balancing_weight: 0", "load_balancing_weight", "LocalityLbEndpointsValidationError.LoadBalancingWeight: value must be greater than or equal to 1")]
    [InlineData("proximity: 1", "proximity", "field 'proximity' of envoy.config.endpoint.v3.LocalityLbEndpoints is not supported by this gateway yet")]
    public void Load_BadLocalityField_NamesThePath(string field, string pathEnd, string message)
    {
        var errors = Errors($$"""
                - {{field}}
                  lb_endpoints:
            {{Endpoint(8081)}}
            """);

        var error = Assert.Single(errors);
        Assert.EndsWith("endpoints[0]." + pathEnd, error.Path, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OverprovisioningFactorZero_Refused()
    {
        var error = Assert.Single(Errors($$"""
                - lb_endpoints:
            {{Endpoint(8081)}}
                policy: { overprovisioning_factor: 0 }
            """));

        Assert.EndsWith("load_assignment.policy.overprovisioning_factor", error.Path, StringComparison.Ordinal);
        Assert.Contains("value must be greater than 0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("policy: { endpoint_stale_after: 5s }", "load_assignment.policy.endpoint_stale_after")]
    public void Load_UnsupportedPolicyField_RefusedByPath(string policy, string pathEnd)
    {
        var error = Assert.Single(Errors($$"""
                - lb_endpoints:
            {{Endpoint(8081)}}
                {{policy}}
            """));

        Assert.EndsWith(pathEnd, error.Path, StringComparison.Ordinal);
        Assert.Contains("is not supported by this gateway yet", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RING_HASH")]
    [InlineData("MAGLEV")]
    public void Load_LocalityWeightedWithHashPolicy_Accepted(string lbPolicy)
    {
        Assert.Empty(Errors($$"""
                - lb_endpoints:
            {{Endpoint(8081)}}
                  load_balancing_weight: 2
            """, extra: "  common_lb_config: { locality_weighted_lb_config: {} }", lbPolicy: lbPolicy));
    }

    [Fact]
    public void Load_PrioritiesLocalitiesAndHealthStatus_Accepted()
    {
        Assert.Empty(Errors($$"""
                - priority: 1
                  locality: { region: eu, zone: eu-a, sub_zone: r1 }
                  load_balancing_weight: 5
                  lb_endpoints:
            {{Endpoint(8081, "DEGRADED")}}
            {{Endpoint(8082, "UNKNOWN")}}
                policy: { overprovisioning_factor: 100 }
            """, extra: "  common_lb_config: { locality_weighted_lb_config: {} }"));
    }
}
