using System.Net;
using System.Net.Sockets;
using Gateway.Clusters;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests.Clusters;

public class DnsDestinationResolverTests
{
    private static readonly IPAddress[] Answers = [IPAddress.Parse("10.1.0.1"), IPAddress.Parse("fd00::1"), IPAddress.Parse("10.1.0.2")];

    private static (DnsDestinationResolver Resolver, List<AddressFamily> Asked) Create(IPAddress[]? answers = null)
    {
        var asked = new List<AddressFamily>();
        var resolver = new DnsDestinationResolver(NullLogger<DnsDestinationResolver>.Instance, TimeProvider.System, (host, family, _) =>
        {
            Assert.Equal("svc.internal", host);
            asked.Add(family);
            var all = answers ?? Answers;
            return Task.FromResult(family == AddressFamily.Unspecified ? all : Array.FindAll(all, a => a.AddressFamily == family));
        });
        return (resolver, asked);
    }

    private static Dictionary<string, DestinationConfig> Destination(string discovery, string family) => new()
    {
        ["svc.internal:8080"] = new DestinationConfig
        {
            Address = "http://svc.internal:8080",
            Host = "svc.internal",
            Metadata = new Dictionary<string, string>
            {
                [EnvoyTranslator.DiscoveryTypeMetadata] = discovery,
                [EnvoyTranslator.DnsLookupFamilyMetadata] = family,
                [EnvoyTranslator.DnsRefreshRateMetadata] = "5000",
            },
        },
    };

    [Fact]
    public async Task Resolve_StrictDnsV4Only_EveryIPv4AddressIsAHost()
    {
        var (resolver, asked) = Create();

        var result = await resolver.ResolveDestinationsAsync(Destination("STRICT_DNS", "V4_ONLY"), CancellationToken.None);

        Assert.Equal([AddressFamily.InterNetwork], asked);
        Assert.Equal(["10.1.0.1:8080", "10.1.0.2:8080"], result.Destinations.Keys.Order(StringComparer.Ordinal));
        Assert.All(result.Destinations.Values, d => Assert.Equal("svc.internal", d.Host));
        Assert.Equal("http://10.1.0.1:8080", result.Destinations["10.1.0.1:8080"].Address);
        Assert.NotNull(result.ChangeToken);
    }

    [Fact]
    public async Task Resolve_LogicalDns_UsesOnlyTheFirstAddress()
    {
        var (resolver, _) = Create();

        var result = await resolver.ResolveDestinationsAsync(Destination("LOGICAL_DNS", "V4_ONLY"), CancellationToken.None);

        var destination = Assert.Single(result.Destinations);
        Assert.Equal("svc.internal:8080", destination.Key);
        Assert.Equal("http://10.1.0.1:8080", destination.Value.Address);
    }

    [Fact]
    public async Task Resolve_AutoFamily_PrefersIPv6()
    {
        var (resolver, _) = Create();

        var result = await resolver.ResolveDestinationsAsync(Destination("STRICT_DNS", "AUTO"), CancellationToken.None);

        Assert.Equal("http://[fd00::1]:8080", Assert.Single(result.Destinations).Value.Address);
    }

    [Fact]
    public async Task Resolve_V4PreferredWithOnlyIPv6_FallsBackToIPv6()
    {
        var (resolver, _) = Create([IPAddress.Parse("fd00::7")]);

        var result = await resolver.ResolveDestinationsAsync(Destination("STRICT_DNS", "V4_PREFERRED"), CancellationToken.None);

        Assert.Equal("http://[fd00::7]:8080", Assert.Single(result.Destinations).Value.Address);
    }

    [Fact]
    public async Task Resolve_NameDoesNotResolve_ClusterHasNoHostsAndRetriesLater()
    {
        var resolver = new DnsDestinationResolver(NullLogger<DnsDestinationResolver>.Instance, TimeProvider.System,
            (_, _, _) => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)));

        var result = await resolver.ResolveDestinationsAsync(Destination("STRICT_DNS", "V4_ONLY"), CancellationToken.None);

        Assert.Empty(result.Destinations);
        Assert.NotNull(result.ChangeToken);
    }

    [Fact]
    public async Task Resolve_StaticDestination_IsPassedThrough()
    {
        var (resolver, asked) = Create();
        var destinations = new Dictionary<string, DestinationConfig> { ["127.0.0.1:80"] = new() { Address = "http://127.0.0.1:80" } };

        var result = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Empty(asked);
        Assert.Equal("http://127.0.0.1:80", Assert.Single(result.Destinations).Value.Address);
        Assert.Null(result.ChangeToken);
    }
}
