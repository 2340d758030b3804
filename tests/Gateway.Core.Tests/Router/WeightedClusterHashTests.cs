using System.Net;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Translation;

namespace Gateway.Tests.Router;

/// <summary>
/// <c>weighted_clusters.use_hash_policy</c> (Envoy's WeightedClusterSpecifierPlugin::pickWeightedCluster): the route's
/// <c>hash_policy</c> hash modulo the total weight picks the entry, the stream's random value when no policy yields a
/// hash; through the in-process gateway in front of two real Kestrel upstreams.
/// </summary>
public sealed class WeightedClusterHashTests
{
    private static string Yaml(int a, int b, string hashPolicy = "[{ header: { header_name: x-user } }]", string weightedExtra = "use_hash_policy: true")
        => ListenerYaml.Build(a, "", routes: $$"""
            - match: { prefix: "/" }
              route:
                hash_policy: {{hashPolicy}}
                weighted_clusters:
                  {{weightedExtra}}
                  clusters:
                  - { name: echo, weight: 1 }
                  - { name: other, weight: 1 }
            """, clusters: $$"""
            - name: other
              type: STATIC
              load_assignment:
                cluster_name: other
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{b}} } } }
            """);

    private static async Task SendAsync(InProcessGateway gateway, int count, string? user, string? cookie = null)
    {
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
            if (user is not null)
            {
                request.Headers.Add("x-user", user);
            }
            if (cookie is not null)
            {
                request.Headers.Add("cookie", cookie);
            }
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    /// <summary>The entry a key picks with weights 1 and 1: its xxHash64 modulo 2.</summary>
    private static int EntryOf(string key) => (int)(HashFunctions.XxHash64(key.AsSpan()) % 2);

    /// <summary>Two keys that pick different entries.</summary>
    private static (string First, string Second) KeysOnBothEntries()
    {
        var first = "user-0";
        for (var i = 1; i < 100; i++)
        {
            var key = "user-" + i;
            if (EntryOf(key) != EntryOf(first))
            {
                return (first, key);
            }
        }
        throw new InvalidOperationException("no key on the other entry");
    }

    [Fact]
    public async Task Send_UseHashPolicy_EachKeyKeepsItsEntry()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        EchoUpstream[] upstreams = [a, b];
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, b.Port));
        var (first, second) = KeysOnBothEntries();

        await SendAsync(gateway, 15, first);
        Assert.Equal(15, upstreams[EntryOf(first)].Requests);
        Assert.Equal(0, upstreams[EntryOf(second)].Requests);

        await SendAsync(gateway, 10, second);
        Assert.Equal(15, upstreams[EntryOf(first)].Requests);
        Assert.Equal(10, upstreams[EntryOf(second)].Requests);
    }

    [Fact]
    public async Task Send_UseHashPolicyWithoutAHash_TheRandomValuePicks()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, b.Port));

        // No x-user: each stream's random value picks; 40 requests all on one entry has probability 2^-39.
        await SendAsync(gateway, 40, null);

        Assert.Equal(40, a.Requests + b.Requests);
        Assert.InRange(a.Requests, 1, 39);
    }

    [Fact]
    public async Task Send_UseHashPolicyFalse_TheHashIsNotUsed()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, b.Port, weightedExtra: "use_hash_policy: false"));

        await SendAsync(gateway, 40, "user-0");

        Assert.InRange(a.Requests, 1, 39);
    }

    [Fact]
    public async Task Send_UseHashPolicyCookieWithTtlAbsent_NoCookieIsGeneratedForThePick()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        EchoUpstream[] upstreams = [a, b];
        // Envoy's pick passes no cookie callback: without the cookie the random value picks, as if the policy were absent.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(a.Port, b.Port, hashPolicy: "[{ cookie: { name: sticky, ttl: 60s } }]"));
        var (first, _) = KeysOnBothEntries();

        await SendAsync(gateway, 40, null);
        Assert.InRange(a.Requests, 1, 39);

        var before = upstreams[EntryOf(first)].Requests;
        await SendAsync(gateway, 10, null, cookie: "sticky=" + first);
        Assert.Equal(before + 10, upstreams[EntryOf(first)].Requests);
    }

    [Fact]
    public void Translate_UseHashPolicy_InThePlan()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(1, 2)));
        Assert.True(plan.Listeners[0].FilterChains[0].ConnectionManager.Routes.Single(r => r.WeightedClusters is not null).WeightedClusters!.UseHashPolicy);
    }

    [Fact]
    public void Load_HeaderNameAndUseHashPolicy_OneOfRefused()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Yaml(1, 2, weightedExtra: "use_hash_policy: true\n      header_name: x-pick")));

        var error = Assert.Single(ex.Errors);
        Assert.EndsWith("weighted_clusters.use_hash_policy", error.Location.Path, StringComparison.Ordinal);
        Assert.Contains("'header_name' and 'use_hash_policy' are a one-of", error.Message, StringComparison.Ordinal);
    }
}
