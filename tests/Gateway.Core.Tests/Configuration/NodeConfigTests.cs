using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>The bootstrap's <c>node</c>: id, cluster and locality load; the rest is refused by path.</summary>
public class NodeConfigTests
{
    private static string WithNode(string node) => "node: " + node + "\n" + TestConfigs.Seed();

    [Fact]
    public void Load_NodeIdClusterLocality_AreBound()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(WithNode("{ id: front-1, cluster: front, locality: { region: eu, zone: eu-1a, sub_zone: rack-3 } }"));

        var node = bootstrap.Node!;
        Assert.Equal("front-1", node.Id);
        Assert.Equal("front", node.Cluster);
        Assert.Equal("eu", node.Locality!.Region);
        Assert.Equal("eu-1a", node.Locality.Zone);
        Assert.Equal("rack-3", node.Locality.SubZone);
    }

    [Fact]
    public void Load_NodeMetadata_IsRejectedAsNotSupportedByPath()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithNode("{ id: a, metadata: { filter_metadata: { x: { y: 1 } } } }")));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("node.metadata", error.Location.Path);
        Assert.Equal("field 'metadata' of envoy.config.core.v3.Node is not supported by this gateway yet", error.Message);
    }

    [Theory]
    [InlineData("{ id: [ a ] }", "node.id", "expected a string")]
    [InlineData("{ locality: [ eu ] }", "node.locality", "expected a mapping for envoy.config.core.v3.Locality")]
    [InlineData("{ locality: { region: { a: b } } }", "node.locality.region", "expected a string")]
    [InlineData("{ locality: { country: fr } }", "node.locality.country", "unknown field 'country' in envoy.config.core.v3.Locality")]
    public void Load_NodeWrongShape_NamesThePath(string node, string path, string message)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithNode(node)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
