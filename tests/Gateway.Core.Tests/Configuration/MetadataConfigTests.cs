using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>
/// <c>metadata</c> on clusters, endpoints, route configurations, virtual hosts and routes: <c>filter_metadata</c>
/// loads (as node metadata does), <c>typed_filter_metadata</c> is refused by path; and the frozen
/// <see cref="EnvoyMetadata"/> filters read.
/// </summary>
public class MetadataConfigTests
{
    private static string WithMetadata(string cluster = "", string endpoint = "", string routeConfig = "", string virtualHost = "", string route = "")
        => TestConfigs.SeedWithMetadata(TestConfigs.Seed(), cluster, endpoint, routeConfig, virtualHost, route);

    [Fact]
    public void Load_MetadataAtEveryPlace_IsBound()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(WithMetadata(
            cluster: "{ filter_metadata: { acme.cluster: { team: api } } }",
            endpoint: "{ filter_metadata: { envoy.lb: { canary: yes, version: \"2\" } } }",
            routeConfig: "{ filter_metadata: { acme.table: { owner: edge } } }",
            virtualHost: "{ filter_metadata: { acme.vhost: { tier: 1 } } }",
            route: "{ filter_metadata: { envoy.filters.http.router: { tags: [ a, 1.5 ] } } }"));

        var cluster = bootstrap.StaticResources!.Clusters[0];
        Assert.Equal("""{"team":"api"}""", cluster.Metadata!.FilterMetadata["acme.cluster"].ToJsonString());
        var endpoint = cluster.LoadAssignment!.Endpoints[0].LbEndpoints[0];
        Assert.Equal("""{"canary":true,"version":"2"}""", endpoint.Metadata!.FilterMetadata["envoy.lb"].ToJsonString());
        var routeConfig = ((HttpConnectionManager)bootstrap.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig!).RouteConfig!;
        Assert.Equal("""{"owner":"edge"}""", routeConfig.Metadata!.FilterMetadata["acme.table"].ToJsonString());
        Assert.Equal("""{"tier":1}""", routeConfig.VirtualHosts[0].Metadata!.FilterMetadata["acme.vhost"].ToJsonString());
        Assert.Equal("""{"tags":["a",1.5]}""", routeConfig.VirtualHosts[0].Routes[0].Metadata!.FilterMetadata["envoy.filters.http.router"].ToJsonString());
    }

    public static TheoryData<string, string> TypedFilterMetadataPlaces() => new()
    {
        { "cluster", "static_resources.clusters[0].metadata.typed_filter_metadata" },
        { "endpoint", "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].metadata.typed_filter_metadata" },
        { "routeConfig", "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.metadata.typed_filter_metadata" },
        { "virtualHost", "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].metadata.typed_filter_metadata" },
        { "route", "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].metadata.typed_filter_metadata" },
    };

    [Theory]
    [MemberData(nameof(TypedFilterMetadataPlaces))]
    public void Load_TypedFilterMetadata_IsRejectedAsNotSupportedByPath(string place, string path)
    {
        const string typed = "{ typed_filter_metadata: { x: { \"@type\": type.googleapis.com/google.protobuf.Struct } } }";
        var yaml = place switch
        {
            "cluster" => WithMetadata(cluster: typed),
            "endpoint" => WithMetadata(endpoint: typed),
            "routeConfig" => WithMetadata(routeConfig: typed),
            "virtualHost" => WithMetadata(virtualHost: typed),
            _ => WithMetadata(route: typed),
        };

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Location.Path);
        Assert.Equal("field 'typed_filter_metadata' of envoy.config.core.v3.Metadata is not supported by this gateway yet", error.Message);
    }

    [Theory]
    [InlineData("[ a ]", "static_resources.clusters[0].metadata", "expected a mapping for envoy.config.core.v3.Metadata")]
    [InlineData("{ filter_metadata: { a: [ 1 ] } }", "static_resources.clusters[0].metadata.filter_metadata.a", "expected a mapping for google.protobuf.Struct")]
    [InlineData("{ filter_metdata: {} }", "static_resources.clusters[0].metadata.filter_metdata", "unknown field 'filter_metdata' in envoy.config.core.v3.Metadata")]
    public void Load_ClusterMetadataWrongShape_NamesThePath(string metadata, string path, string message)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithMetadata(cluster: metadata)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_MetadataNestedAsDeepAsTheLoaderAllows_IsFrozen()
    {
        const int depth = 90;
        var nested = string.Concat(Enumerable.Repeat("{ a: ", depth)) + "1" + new string('}', depth);
        var bootstrap = EnvoyConfigLoader.LoadYaml(WithMetadata(cluster: "{ filter_metadata: { deep: " + nested + " } }"));

        var metadata = Gateway.Translation.EnvoyTranslator.Translate(bootstrap).ClusterPlans[0].Metadata!;

        Assert.True(metadata.TryGetNamespace("deep", out var value));
        for (var i = 0; i < depth; i++)
        {
            value = value.GetProperty("a");
        }
        Assert.Equal(1, value.GetDouble());
    }

    [Fact]
    public void Create_SortsKeysAndCopies_LaterChangesToTheSourceDoNotShow()
    {
        var source = new JsonObject { ["b"] = 1.0, ["a"] = new JsonObject { ["y"] = true, ["x"] = new JsonArray("s", null) } };
        var metadata = EnvoyMetadata.Create([new("z.ns", source), new("a.ns", new JsonObject())]);

        source["b"] = 2.0;
        ((JsonObject)source["a"]!)["y"] = false;

        Assert.Equal("""{"a.ns":{},"z.ns":{"a":{"x":["s",null],"y":true},"b":1}}""", metadata.ToJsonString());
        Assert.True(metadata.TryGetValue("z.ns", "b", out var b));
        Assert.Equal(1, b.GetDouble());
        Assert.True(metadata.TryGetNamespace("z.ns", out var ns));
        Assert.Equal(JsonValueKind.Object, ns.ValueKind);
        Assert.False(metadata.TryGetValue("z.ns", "missing", out _));
        Assert.False(metadata.TryGetValue("missing", "b", out _));
        Assert.Equal(["a.ns", "z.ns"], metadata.FilterMetadata.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Create_SameJsonInAnotherOrder_IsEqual()
    {
        var one = EnvoyMetadata.Create([new("ns", new JsonObject { ["a"] = 1.0, ["b"] = "x" })]);
        var other = EnvoyMetadata.Create([new("ns", new JsonObject { ["b"] = "x", ["a"] = 1.0 })]);
        var different = EnvoyMetadata.Create([new("ns", new JsonObject { ["a"] = 2.0, ["b"] = "x" })]);

        Assert.Equal(one, other);
        Assert.Equal(one.GetHashCode(), other.GetHashCode());
        Assert.NotEqual(one, different);
        Assert.Same(EnvoyMetadata.Empty, EnvoyMetadata.Create([]));
        Assert.True(EnvoyMetadata.Empty.IsEmpty);
    }
}
