using System.Net;
using Gateway.Configuration;
using Gateway.Listeners.Inspection;
using Gateway.Translation;

namespace Gateway.Tests.Listeners.Inspection;

/// <summary>Chain selection in Envoy's order over synthetic connection facts.</summary>
public class FilterChainSelectorTests
{
    private static ConnectionFacts Facts(string sni = "", string transport = "raw_buffer", string source = "10.0.0.5:4000", int port = 443, params string[] alpn) =>
        new(new IPEndPoint(IPAddress.Parse("192.168.1.1"), port), IPEndPoint.Parse(source), IPEndPoint.Parse(source), sni, transport, alpn);

    [Fact]
    public void Select_ServerNames_ExactThenLongestWildcardThenAny()
    {
        FilterChainMatchPlan[] chains =
        [
            new() { ServerNames = ["*.com"] },
            new() { ServerNames = ["*.example.com"] },
            new() { ServerNames = ["www.example.com"] },
            new(),
        ];

        Assert.Equal(2, FilterChainSelector.Select(chains, Facts("www.example.com")));
        Assert.Equal(1, FilterChainSelector.Select(chains, Facts("a.b.example.com")));
        Assert.Equal(0, FilterChainSelector.Select(chains, Facts("other.com")));
        Assert.Equal(3, FilterChainSelector.Select(chains, Facts("host.org")));
        Assert.Equal(3, FilterChainSelector.Select(chains, Facts("")));
    }

    [Fact]
    public void Select_MoreSpecificEarlierLevel_DoesNotBacktrack()
    {
        // Envoy picks the destination_port branch first; its chain requires tls, so a plain connection matches nothing.
        FilterChainMatchPlan[] chains =
        [
            new() { DestinationPort = 443, TransportProtocol = "tls" },
            new(),
        ];

        Assert.Equal(-1, FilterChainSelector.Select(chains, Facts(port: 443)));
        Assert.Equal(0, FilterChainSelector.Select(chains, Facts(port: 443, transport: "tls")));
        Assert.Equal(1, FilterChainSelector.Select(chains, Facts(port: 8080)));
    }

    [Fact]
    public void Select_TransportProtocolAndAlpn_InClientOrder()
    {
        FilterChainMatchPlan[] chains =
        [
            new() { TransportProtocol = "tls", ApplicationProtocols = ["http/1.1"] },
            new() { TransportProtocol = "tls", ApplicationProtocols = ["h2"] },
            new() { TransportProtocol = "tls" },
            new() { TransportProtocol = "raw_buffer" },
        ];

        Assert.Equal(1, FilterChainSelector.Select(chains, Facts(transport: "tls", alpn: ["h2", "http/1.1"])));
        Assert.Equal(0, FilterChainSelector.Select(chains, Facts(transport: "tls", alpn: ["http/1.1", "h2"])));
        Assert.Equal(2, FilterChainSelector.Select(chains, Facts(transport: "tls", alpn: ["h3"])));
        Assert.Equal(3, FilterChainSelector.Select(chains, Facts()));
    }

    [Fact]
    public void Select_SourcePrefixLongestThenSourcePort()
    {
        FilterChainMatchPlan[] chains =
        [
            new() { SourcePrefixRanges = [IPNetwork.Parse("10.0.0.0/8")] },
            new() { SourcePrefixRanges = [IPNetwork.Parse("10.0.0.0/24")], SourcePorts = [4000] },
            new() { SourcePrefixRanges = [IPNetwork.Parse("10.0.0.0/24")] },
        ];

        Assert.Equal(1, FilterChainSelector.Select(chains, Facts(source: "10.0.0.5:4000")));
        Assert.Equal(2, FilterChainSelector.Select(chains, Facts(source: "10.0.0.5:4001")));
        Assert.Equal(0, FilterChainSelector.Select(chains, Facts(source: "10.9.0.5:4000")));
        Assert.Equal(-1, FilterChainSelector.Select(chains, Facts(source: "11.0.0.1:4000")));
    }

    [Fact]
    public void Select_SourceType_LocalOrExternal()
    {
        FilterChainMatchPlan[] chains =
        [
            new() { SourceType = ConnectionSourceType.SameIpOrLoopback },
            new() { SourceType = ConnectionSourceType.External },
        ];

        Assert.Equal(0, FilterChainSelector.Select(chains, Facts(source: "127.0.0.1:1")));
        Assert.Equal(1, FilterChainSelector.Select(chains, Facts(source: "10.0.0.5:1")));
    }

    [Fact]
    public void Select_Warm_AllocatesNothing()
    {
        FilterChainMatchPlan[] chains =
        [
            new() { ServerNames = ["*.example.com"], TransportProtocol = "tls", ApplicationProtocols = ["h2"] },
            new() { SourcePrefixRanges = [IPNetwork.Parse("10.0.0.0/24")], SourcePorts = [4000] },
            new(),
        ];
        var facts = Facts("www.example.com", "tls", alpn: ["h2", "http/1.1"]);
        Assert.Equal(0, FilterChainSelector.Select(chains, facts));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var chosen = FilterChainSelector.Select(chains, facts);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, chosen);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Select_ManyChains_PooledCandidatesSameChoice()
    {
        var chains = new FilterChainMatchPlan[300];
        for (var i = 0; i < chains.Length; i++)
        {
            chains[i] = new() { DestinationPort = 1000 + i };
        }

        Assert.Equal(299, FilterChainSelector.Select(chains, Facts(port: 1299)));
        Assert.Equal(-1, FilterChainSelector.Select(chains, Facts(port: 80)));
    }
}
