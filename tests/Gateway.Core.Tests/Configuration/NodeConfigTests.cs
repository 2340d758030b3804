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
    public void Load_NodeMetadata_ReadsStructValuesAsEnvoysYamlReaderDoes()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(WithNode("""
            { metadata: { filter_metadata: { envoy.lb: { canary: yes, weight: 2, big: 4294967296, ratio: 0.5, text: "7", none: null, tags: [ a, 1 ], nested: { on: off } } } } }
            """));

        var entry = bootstrap.Node!.Metadata!.FilterMetadata["envoy.lb"];
        Assert.Equal("""{"canary":true,"weight":2,"big":"4294967296","ratio":0.5,"text":"7","none":null,"tags":["a",1],"nested":{"on":false}}""", entry.ToJsonString());
    }

    [Fact]
    public void Load_NodeMetadataOverlay_ReplacesTheNamespace()
    {
        var path = Path.Combine(Path.GetTempPath(), $"node-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, WithNode("{ metadata: { filter_metadata: { a: { x: 1 }, b: { y: 2 } } } }"));
        Bootstrap bootstrap;
        try
        {
            bootstrap = EnvoyConfigLoader.Load(path, "node: { metadata: { filter_metadata: { a: { z: 3 } } } }");
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Equal("""{"z":3}""", bootstrap.Node!.Metadata!.FilterMetadata["a"].ToJsonString());
        Assert.Equal("""{"y":2}""", bootstrap.Node.Metadata.FilterMetadata["b"].ToJsonString());
    }

    [Fact]
    public void Load_NodeTypedFilterMetadata_IsRejectedAsNotSupportedByPath()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithNode("{ metadata: { typed_filter_metadata: {} } }")));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("node.metadata.typed_filter_metadata", error.Location.Path);
        Assert.Equal("field 'typed_filter_metadata' of envoy.config.core.v3.Metadata is not supported by this gateway yet", error.Message);
    }

    [Theory]
    [InlineData("{ id: [ a ] }", "node.id", "expected a string")]
    [InlineData("{ locality: [ eu ] }", "node.locality", "expected a mapping for envoy.config.core.v3.Locality")]
    [InlineData("{ locality: { region: { a: b } } }", "node.locality.region", "expected a string")]
    [InlineData("{ metadata: { filter_metadata: [ a ] } }", "node.metadata.filter_metadata", "expected a mapping")]
    [InlineData("{ metadata: { filter_metadata: { a: 1 } } }", "node.metadata.filter_metadata.a", "expected a mapping for google.protobuf.Struct")]
    [InlineData("{ metadata: { filter_metadata: { a: {}, a: {} } } }", "node.metadata.filter_metadata.a", "duplicate key 'a'")]
    [InlineData("{ metadata: { filter_metadata: { a: { k: 1, k: 2 } } } }", "node.metadata.filter_metadata.a.k", "duplicate field 'k'")]
    [InlineData("{ locality: { country: fr } }", "node.locality.country", "unknown field 'country' in envoy.config.core.v3.Locality")]
    public void Load_NodeWrongShape_NamesThePath(string node, string path, string message)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithNode(node)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
