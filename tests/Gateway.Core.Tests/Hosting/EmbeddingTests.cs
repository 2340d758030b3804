using System.Net;
using Gateway.Configuration;
using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The gateway embedded in an ASP.NET Core application, YARP-style: <c>AddEnvoyGateway(o => o.LoadFrom…)</c>,
/// <c>app.MapEnvoyGateway()</c>, and the application's own YARP routes beside the gateway's, which keep YARP's behaviour.
/// </summary>
public sealed class EmbeddingTests
{
    private static async Task<WebApplication> StartAsync(Action<IEnvoyGatewayBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        // An application's own services first (its own AddReverseProxy() included), then the gateway.
        services?.Invoke(builder.Services);
        builder.Services.AddEnvoyGateway(configure);
        var app = builder.Build();
        app.MapEnvoyGateway();
        await app.StartAsync();
        return app;
    }

    private static Uri ListenerUri(WebApplication app, string path)
        => new($"http://127.0.0.1:{app.Services.GetRequiredService<IEnvoyGateway>().ListenerBoundEndPoint("httpbin-demo")!.Port}{path}");

    [Fact]
    public async Task AddEnvoyGateway_LoadFromYaml_Serves()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var app = await StartAsync(o => o.LoadFromYaml(TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")));
        using var client = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ListenerUri(app, "/get"))).StatusCode);
    }

    [Fact]
    public async Task AddEnvoyGateway_LoadFromFileThenYaml_MergedAsEnvoysCommandLine()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(Path.GetTempPath(), $"gateway-embed-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"));
        try
        {
            await using var app = await StartAsync(o => o.LoadFromFile(path).LoadFromYaml("node: { id: embedded }"));
            using var client = new HttpClient();

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ListenerUri(app, "/get"))).StatusCode);
            Assert.Equal("embedded", app.Services.GetRequiredService<ConfigManager>().Bootstrap.Node?.Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AddEnvoyGateway_NoConfiguration_FailsNamingTheBuilderMethods()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_ => { }));
        Assert.Contains("LoadFromFile, LoadFromYaml or LoadFromBootstrap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEnvoyGateway_BadFile_FailsWithTheLoadersError()
    {
        var error = await Assert.ThrowsAsync<EnvoyConfigException>(() => StartAsync(o => o.LoadFromFile("/nonexistent/envoy.yaml")));
        Assert.Contains("/nonexistent/envoy.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplicationsOwnYarpRoute_KeepsYarpsLoadBalancingAndIsNotAGatewayCluster()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var app = await StartAsync(
            o => o.LoadFromYaml(TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")),
            services => services.AddReverseProxy().LoadFromMemory(
                [new RouteConfig { RouteId = "app", ClusterId = "app-cluster", Match = new Yarp.ReverseProxy.Configuration.RouteMatch { Path = "/app/{**rest}" } }],
                [new ClusterConfig
                {
                    ClusterId = "app-cluster",
                    LoadBalancingPolicy = "RoundRobin",
                    Destinations = new Dictionary<string, DestinationConfig>
                    {
                        ["a"] = new() { Address = $"http://127.0.0.1:{first.Port}/" },
                        ["b"] = new() { Address = $"http://127.0.0.1:{second.Port}/" },
                    },
                }]));
        var appPort = new Uri(app.Urls.First()).Port;
        using var client = new HttpClient();

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{appPort}/app/x")).StatusCode);
        }
        // YARP's round robin, not the gateway's host selection (which would not know the cluster).
        Assert.Equal(2, first.Requests);
        Assert.Equal(2, second.Requests);
        Assert.False(app.Services.GetRequiredService<Gateway.Clusters.ClusterRegistry>().TryGet("app-cluster", out _));
        // The gateway's own listener still serves.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ListenerUri(app, "/get"))).StatusCode);
    }
}
