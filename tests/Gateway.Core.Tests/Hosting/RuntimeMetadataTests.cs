using System.Net;
using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Tests.Hosting;

/// <summary>Applied configuration: the route, virtual host, route configuration, cluster and host objects carry their frozen metadata.</summary>
public class RuntimeMetadataTests
{
    [Fact]
    public async Task Apply_ConfiguredMetadata_IsOnRouteClusterAndHostRuntimes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.SeedWithMetadata(
            TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"),
            cluster: "{ filter_metadata: { acme.cluster: { team: api } } }",
            endpoint: "{ filter_metadata: { envoy.lb: { canary: true } } }",
            routeConfig: "{ filter_metadata: { acme.table: { owner: edge } } }",
            virtualHost: "{ filter_metadata: { acme.vhost: { tier: 1 } } }",
            route: "{ filter_metadata: { envoy.filters.http.router: { name: r1 } } }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var runtime = (GatewayRuntime)gateway.Gateway;

        // A request through the listener: YARP has published the cluster's destinations, so the host exists.
        using (var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var route = runtime.SlotFor("httpbin-demo").Current!.Chains[0].Routes.GetTarget(0, 0);
        Assert.Equal("""{"envoy.filters.http.router":{"name":"r1"}}""", route.Metadata.ToJsonString());
        Assert.Equal("""{"acme.vhost":{"tier":1}}""", route.VirtualHostMetadata.ToJsonString());
        Assert.Equal("""{"acme.table":{"owner":"edge"}}""", route.RouteConfigurationMetadata.ToJsonString());
        Assert.Same(runtime.Clusters.GetOrCreate("httpbin_service"), route.Cluster);
        Assert.Equal("""{"acme.cluster":{"team":"api"}}""", route.Cluster!.Metadata.ToJsonString());
        var host = Assert.Single(route.Cluster.Members);
        Assert.Equal($"127.0.0.1:{upstream.Port}", host.Address);
        Assert.True(host.Metadata.TryGetValue("envoy.lb", "canary", out var canary));
        Assert.True(canary.GetBoolean());
    }

    [Fact]
    public async Task Apply_NoMetadata_RuntimesHaveTheEmptyOne()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"));
        var runtime = (GatewayRuntime)gateway.Gateway;
        using (var response = await gateway.Client.GetAsync(gateway.ListenerUri("/x")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var route = runtime.SlotFor("httpbin-demo").Current!.Chains[0].Routes.GetTarget(0, 0);
        Assert.Same(EnvoyMetadata.Empty, route.Metadata);
        Assert.Same(EnvoyMetadata.Empty, route.VirtualHostMetadata);
        Assert.Same(EnvoyMetadata.Empty, route.RouteConfigurationMetadata);
        Assert.Same(EnvoyMetadata.Empty, route.Cluster!.Metadata);
        Assert.Same(EnvoyMetadata.Empty, Assert.Single(route.Cluster.Members).Metadata);
    }
}
