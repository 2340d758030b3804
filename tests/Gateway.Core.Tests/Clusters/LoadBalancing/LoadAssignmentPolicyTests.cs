using System.Net;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Router;
using Gateway.Tests.Common;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Gateway.Translation;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary><c>load_assignment.policy</c>: <c>drop_overloads</c> and <c>weighted_priority_health</c>, as Envoy reads and applies them.</summary>
public class LoadAssignmentPolicyTests
{
    /// <summary>A gateway whose route goes to cluster <c>dropping</c> (one endpoint on <paramref name="port"/>) with the given <c>policy</c>.</summary>
    private static string Yaml(int port, string policy, string routerFields = "", bool probe = false)
        => ListenerYaml.Build(port, probe ? StreamInfoProbeFactory.Entry : "", routes: """
            - match: { prefix: "/" }
              route: { cluster: dropping }
            """, clusters: $$"""
            - name: dropping
              type: STATIC
              load_assignment:
                cluster_name: dropping
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
                policy: {{policy}}
            """).Replace("typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }",
                "typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" + routerFields + " }", StringComparison.Ordinal);

    private static List<string> Errors(string policy)
    {
        try
        {
            EnvoyConfigLoader.LoadYaml(Yaml(8081, policy));
            return [];
        }
        catch (EnvoyConfigException e)
        {
            return e.Errors.Select(x => x.ToString()).ToList();
        }
    }

    [Fact]
    public async Task Proxy_DropOverloads100Percent_Answers503DropOverloadAndSendsNothing()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var probe = new StreamInfoProbeFactory();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml(upstream.Port, "{ drop_overloads: [ { category: throttle, drop_percentage: { numerator: 100 } } ] }", probe: true),
            configureGateway: g => g.AddHttpFilter(probe));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("drop overload", await response.Content.ReadAsStringAsync());
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("x-envoy-drop-overload")));
        var completed = Assert.Single(await probe.CompletedAsync(1));
        Assert.Equal(ResponseFlags.DropOverload, completed.Flags);
        Assert.Equal("drop_overload", completed.Details);
        Assert.Equal(0, upstream.Requests);
        // Envoy's chargeUpstreamCode(503, dropped): the code stats, no upstream request.
        await gateway.AssertStatAsync("cluster.dropping.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.dropping.upstream_rq_5xx", 1);
        await gateway.AssertStatAsync("cluster.dropping.upstream_rq_total", 0);
    }

    [Fact]
    public async Task Proxy_DropOverloadsWithSuppressEnvoyHeaders_NoDropOverloadHeader()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml(upstream.Port, "{ drop_overloads: [ { category: throttle, drop_percentage: { numerator: 1000000, denominator: MILLION } } ] }", ", suppress_envoy_headers: true"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("x-envoy-drop-overload"));
    }

    [Theory]
    [InlineData(0.29, HttpStatusCode.ServiceUnavailable)]
    [InlineData(0.30, HttpStatusCode.OK)]
    [InlineData(0.90, HttpStatusCode.OK)]
    public async Task Proxy_DropOverloads30Percent_DropsWhenTheDrawIsBelow(double draw, HttpStatusCode status)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml(upstream.Port, "{ drop_overloads: [ { category: lb, drop_percentage: { numerator: 3000, denominator: TEN_THOUSAND } } ] }"));
        gateway.Services.GetRequiredService<RouterFilter>().DropOverloadRandom = new FixedDouble(draw);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(status == HttpStatusCode.OK ? 1 : 0, upstream.Requests);
    }

    [Fact]
    public async Task Proxy_DropOverloadsZero_Proxies()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml(upstream.Port, "{ drop_overloads: [ { category: none, drop_percentage: { numerator: 0 } } ] }"));
        gateway.Services.GetRequiredService<RouterFilter>().DropOverloadRandom = new FixedDouble(0);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Translate_DropOverloads_RatioAndCategory()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(
            Yaml(8081, "{ drop_overloads: [ { category: throttle, drop_percentage: { numerator: 250, denominator: TEN_THOUSAND } } ] }")))
            .ClusterPlans.Single(c => c.Name == "dropping");

        Assert.Equal(0.025, plan.DropOverload, 9);
        Assert.Equal("throttle", plan.DropCategory);
    }

    [Fact]
    public void Translate_DropOverloadsAboveTheDenominator_DropsEverything()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(
            Yaml(8081, "{ drop_overloads: [ { category: throttle, drop_percentage: { numerator: 150 } } ] }")))
            .ClusterPlans.Single(c => c.Name == "dropping");

        Assert.Equal(1.0, plan.DropOverload);
    }

    [Fact]
    public void Load_TwoDropCategories_EnvoysMessage()
    {
        var error = Assert.Single(Errors("{ drop_overloads: [ { category: a, drop_percentage: { numerator: 1 } }, { category: b, drop_percentage: { numerator: 1 } } ] }"));
        Assert.Contains("drop_overloads", error, StringComparison.Ordinal);
        Assert.Contains("Cluster drop_overloads config has 2 categories. Envoy only supports one.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DropCategoryEmpty_Refused()
    {
        var error = Assert.Single(Errors("{ drop_overloads: [ { drop_percentage: { numerator: 1 } } ] }"));
        Assert.Contains("ClusterLoadAssignment_Policy_DropOverloadValidationError.Category: value length must be at least 1 characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WeightedPriorityHealth_LoadsIntoThePlan()
    {
        Assert.Empty(Errors("{ weighted_priority_health: true }"));
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(8081, "{ weighted_priority_health: true }"))).ClusterPlans.Single(c => c.Name == "dropping");
        Assert.True(plan.WeightedPriorityHealth);
    }

    [Theory]
    // P0: a healthy host of weight 1 and an unhealthy one of weight 3; P1 healthy.
    // By hosts: 140 × 1 / 2 = 70 to P0. By weight: 140 × 1 / 4 = 35.
    [InlineData(false, 70)]
    [InlineData(true, 35)]
    public void Compute_WeightedPriorityHealth_HealthFromWeights(bool weighted, int p0Load)
    {
        WeightedHost[] hosts =
        [
            Host(0, 1, HostHealth.Healthy),
            Host(0, 3, HostHealth.Unhealthy),
            Host(1, 1, HostHealth.Healthy),
        ];

        var state = PrioritySetState.Compute(hosts, PrioritySetOptions.Defaults with { WeightedPriorityHealth = weighted });

        Assert.Equal([p0Load, 100 - p0Load], state.HealthyLoad);
        // Panic still counts hosts: P0 has 50% of its hosts healthy, not under the 50% threshold.
        Assert.False(state.Panic[0]);
    }

    [Fact]
    public void Compute_WeightedPriorityHealthWithHugeWeights_DoesNotOverflow()
    {
        WeightedHost[] hosts =
        [
            Host(0, uint.MaxValue, HostHealth.Healthy),
            Host(0, uint.MaxValue, HostHealth.Healthy),
            Host(0, 1, HostHealth.Unhealthy),
        ];

        var state = PrioritySetState.Compute(hosts, new PrioritySetOptions(int.MaxValue, 50, false) { WeightedPriorityHealth = true });

        Assert.Equal([100], state.HealthyLoad);
    }

    private static WeightedHost Host(int priority, uint weight, HostHealth health)
        => new(null!, null!, weight) { Priority = priority, Health = health };

    private sealed class FixedDouble(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
