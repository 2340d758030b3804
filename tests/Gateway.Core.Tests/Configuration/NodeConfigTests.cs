using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>The bootstrap's <c>node</c>: id, cluster, locality and metadata (a Struct) load; the rest is refused by path.</summary>
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
            { metadata: { canary: yes, weight: 2, big: 4294967296, ratio: 0.5, text: "7", none: null, tags: [ a, 1 ], nested: { on: off } } }
            """));

        Assert.Equal("""{"canary":true,"weight":2,"big":"4294967296","ratio":0.5,"text":"7","none":null,"tags":["a",1],"nested":{"on":false}}""", bootstrap.Node!.Metadata!.ToJsonString());
    }

    [Fact]
    public void Load_IstioStyleNodeMetadata_IsAStructWithAnyKeys()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(WithNode("""
            { id: "router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local", metadata: { ISTIO_VERSION: "1.24.0", CLUSTER_ID: Kubernetes, LABELS: { app: gw }, PROXY_CONFIG: { concurrency: 2 } } }
            """));

        var metadata = bootstrap.Node!.Metadata!;
        Assert.Equal("1.24.0", (string?)metadata["ISTIO_VERSION"]);
        Assert.Equal("gw", (string?)metadata["LABELS"]!["app"]);
    }

    [Fact]
    public void Load_NodeMetadataOverlay_ReplacesTheNamespace()
    {
        var path = Path.Combine(Path.GetTempPath(), $"node-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, WithNode("{ metadata: { a: { x: 1 }, b: { y: 2 } } }"));
        Bootstrap bootstrap;
        try
        {
            bootstrap = EnvoyConfigLoader.Load(path, "node: { metadata: { a: { z: 3 } } }");
        }
        finally
        {
            File.Delete(path);
        }

        // A Struct's fields are a map: the overlay's key replaces the file's (protobuf's MergeFrom).
        Assert.Equal("""{"z":3}""", bootstrap.Node!.Metadata!["a"]!.ToJsonString());
        Assert.Equal("""{"y":2}""", bootstrap.Node.Metadata["b"]!.ToJsonString());
    }

    [Theory]
    [InlineData("{ id: [ a ] }", "node.id", "expected a string")]
    [InlineData("{ locality: [ eu ] }", "node.locality", "expected a mapping for envoy.config.core.v3.Locality")]
    [InlineData("{ locality: { region: { a: b } } }", "node.locality.region", "expected a string")]
    [InlineData("{ metadata: [ a ] }", "node.metadata", "expected a mapping for google.protobuf.Struct")]
    [InlineData("{ metadata: 1 }", "node.metadata", "expected a mapping for google.protobuf.Struct")]
    [InlineData("{ metadata: { k: 1, k: 2 } }", "node.metadata.k", "duplicate field 'k'")]
    [InlineData("{ metadata: { a: { k: 1, k: 2 } } }", "node.metadata.a.k", "duplicate field 'k'")]
    [InlineData("{ locality: { country: fr } }", "node.locality.country", "unknown field 'country' in envoy.config.core.v3.Locality")]
    public void Load_NodeWrongShape_NamesThePath(string node, string path, string message)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithNode(node)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
