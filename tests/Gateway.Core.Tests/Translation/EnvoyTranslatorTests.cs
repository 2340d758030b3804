using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Translation;

/// <summary>
/// Golden-file tests of the pure translation step. To accept an intended change, run the tests with
/// UPDATE_GOLDEN=1 and review the diff of Translation/Golden/*.json.
/// </summary>
public class EnvoyTranslatorTests
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [Theory]
    [InlineData("simple.yaml")]
    [InlineData("simple_change_timeout.yaml")]
    [InlineData("quickstart.yaml")]
    [InlineData("features.yaml")]
    public void Translate_Example_MatchesGoldenFile(string example)
    {
        var examplePath = Path.Combine(TestConfigs.RepositoryRoot, "examples", example);
        if (!File.Exists(examplePath))
        {
            examplePath = Path.Combine(TestConfigs.RepositoryRoot, "tests", "Gateway.Core.Tests", "Translation", "Golden", example);
        }
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.Load(examplePath, null));
        var actual = JsonSerializer.Serialize(plan, JsonOptions) + "\n";

        var goldenPath = Path.Combine(TestConfigs.RepositoryRoot, "tests", "Gateway.Core.Tests", "Translation", "Golden", Path.ChangeExtension(example, ".json"));
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(goldenPath, actual);
        }
        Assert.True(File.Exists(goldenPath), $"golden file {goldenPath} is missing; run with UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(goldenPath), actual);
    }

    [Fact]
    public void Translate_SeedConfig_KeepsEnvoyDefaults()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed()));

        var listener = Assert.Single(plan.Listeners);
        Assert.Equal("listener.0.0.0.0_15001", listener.StatScope);
        Assert.Equal("envoy", listener.FilterChains[0].ConnectionManager.ServerName);
        Assert.True(listener.FilterChains[0].ConnectionManager.GenerateRequestId);
        var route = Assert.Single(listener.FilterChains[0].ConnectionManager.Routes);
        Assert.Equal(TimeSpan.FromSeconds(15), route.Timeout);
        Assert.Equal(HostRewriteMode.Auto, route.HostRewrite);

        var cluster = Assert.Single(plan.Clusters);
        Assert.Equal("RoundRobin", cluster.LoadBalancingPolicy);
        var destination = Assert.Single(cluster.Destinations!);
        Assert.Equal("httpbin:8000", destination.Key);
        Assert.Equal("http://httpbin:8000", destination.Value.Address);
        Assert.Equal("httpbin", destination.Value.Host);
        Assert.Equal("LOGICAL_DNS", destination.Value.Metadata![EnvoyTranslator.DiscoveryTypeMetadata]);
        Assert.Equal("V4_ONLY", destination.Value.Metadata[EnvoyTranslator.DnsLookupFamilyMetadata]);
        Assert.Equal("5000", cluster.Metadata![EnvoyTranslator.ConnectTimeoutMetadata]);

        var yarpRoute = Assert.Single(plan.Routes);
        Assert.Equal("httpbin_service", yarpRoute.ClusterId);
    }

    [Fact]
    public void Translate_StaticEndpointWithoutHostname_HasNoHostToRewriteTo()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed("127.0.0.1", 8000, "STATIC")));

        var destination = Assert.Single(plan.Clusters[0].Destinations!).Value;
        Assert.Null(destination.Host);
        Assert.Null(destination.Metadata);
    }

    [Fact]
    public void Translate_ZeroTimeout_DisablesTheTimeout()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed(routeExtra: "\n                  timeout: 0s")));

        Assert.Equal(TimeSpan.Zero, plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0].Timeout);
    }

    [Fact]
    public void Translate_Metadata_IsAFrozenCopyTheModelCannotChange()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithMetadata(TestConfigs.Seed(),
            cluster: "{ filter_metadata: { c: { k: 1 } } }", endpoint: "{ filter_metadata: { e: { k: 1 } } }",
            routeConfig: "{ filter_metadata: { t: { k: 1 } } }", virtualHost: "{ filter_metadata: { v: { k: 1 } } }",
            route: "{ filter_metadata: { r: { k: 1 } } }"));
        var plan = EnvoyTranslator.Translate(bootstrap);

        var cluster = bootstrap.StaticResources!.Clusters[0];
        cluster.Metadata!.FilterMetadata["c"]["k"] = 2;
        cluster.Metadata.FilterMetadata["added"] = [];
        cluster.LoadAssignment!.Endpoints[0].LbEndpoints[0].Metadata!.FilterMetadata["e"]["k"] = 2;
        var routeConfig = plan.Listeners[0].FilterChains[0].ConnectionManager.RouteConfig;
        routeConfig.Metadata!.FilterMetadata["t"]["k"] = 2;
        routeConfig.VirtualHosts[0].Metadata!.FilterMetadata["v"]["k"] = 2;
        routeConfig.VirtualHosts[0].Routes[0].Metadata!.FilterMetadata["r"]["k"] = 2;

        var route = plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0];
        Assert.Equal("""{"c":{"k":1}}""", plan.ClusterPlans[0].Metadata!.ToJsonString());
        Assert.Equal("""{"e":{"k":1}}""", plan.ClusterPlans[0].Endpoints[0].Metadata!.ToJsonString());
        Assert.Equal("""{"t":{"k":1}}""", plan.Listeners[0].FilterChains[0].ConnectionManager.RouteConfigMetadata!.ToJsonString());
        Assert.Equal("""{"v":{"k":1}}""", route.VirtualHostMetadata!.ToJsonString());
        Assert.Equal("""{"r":{"k":1}}""", route.Metadata!.ToJsonString());
    }

    [Fact]
    public void Translate_NoMetadata_LeavesThePlansAndDestinationsWithout()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed("127.0.0.1", 8000, "STATIC")));

        Assert.Null(plan.ClusterPlans[0].Metadata);
        Assert.Null(plan.ClusterPlans[0].Endpoints[0].Metadata);
        Assert.Null(plan.Listeners[0].FilterChains[0].ConnectionManager.RouteConfigMetadata);
        Assert.Null(plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0].Metadata);
        Assert.Null(plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0].VirtualHostMetadata);
        Assert.Null(Assert.Single(plan.Clusters[0].Destinations!).Value.Metadata);
    }
}
