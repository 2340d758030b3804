using System.Net;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters;

/// <summary>An endpoint's <c>metadata</c> reaches the hosts made from it, also every address a DNS endpoint resolves to.</summary>
public class EndpointMetadataTests
{
    private const string Config = """
        static_resources:
          clusters:
          - name: dns
            type: STRICT_DNS
            load_assignment:
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: a.internal, port_value: 8080 } } }
                  metadata: { filter_metadata: { envoy.lb: { zone: a } } }
                - endpoint: { address: { socket_address: { address: b.internal, port_value: 8080 } } }
        """;

    [Fact]
    public async Task SetMembers_StrictDnsEndpoints_EveryResolvedAddressCarriesItsEndpointsMetadata()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Config));
        var resolver = new DnsDestinationResolver(NullLogger<DnsDestinationResolver>.Instance, TimeProvider.System, (host, _, _) => Task.FromResult(host switch
        {
            "a.internal" => new[] { IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2") },
            _ => [IPAddress.Parse("10.0.0.3")],
        }));
        var resolved = await resolver.ResolveDestinationsAsync(plan.Clusters[0].Destinations!, CancellationToken.None);
        var cluster = new ClusterRuntime("dns", new ClusterStats(new StatsStore(), "dns")) { Plan = plan.ClusterPlans[0] };

        cluster.SetMembers(resolved.Destinations.Select(d => new DestinationState(d.Key, new DestinationModel(d.Value))).ToList());

        var metadata = cluster.Members.ToDictionary(h => h.Address, h => h.Metadata.ToJsonString());
        Assert.Equal(new Dictionary<string, string>
        {
            ["10.0.0.1:8080"] = """{"envoy.lb":{"zone":"a"}}""",
            ["10.0.0.2:8080"] = """{"envoy.lb":{"zone":"a"}}""",
            ["10.0.0.3:8080"] = "{}",
        }, metadata);
        Assert.Same(cluster.Host("10.0.0.1:8080").Metadata, cluster.Host("10.0.0.2:8080").Metadata);
    }
}
