using System.Net;

namespace Gateway.Listeners.Inspection;

/// <summary>FilterChainMatch.source_type.</summary>
internal enum ConnectionSourceType
{
    Any,
    SameIpOrLoopback,
    External,
}

/// <summary>One chain's filter_chain_match, compiled (empty lists mean "any").</summary>
internal sealed record FilterChainMatchPlan
{
    public int DestinationPort { get; init; }

    public IPNetwork[] PrefixRanges { get; init; } = [];

    public string[] ServerNames { get; init; } = [];

    public string TransportProtocol { get; init; } = string.Empty;

    public string[] ApplicationProtocols { get; init; } = [];

    public IPNetwork[] DirectSourcePrefixRanges { get; init; } = [];

    public ConnectionSourceType SourceType { get; init; }

    public IPNetwork[] SourcePrefixRanges { get; init; } = [];

    public int[] SourcePorts { get; init; } = [];
}

/// <summary>What is known of a connection when its chain is chosen (after listener filters).</summary>
internal readonly record struct ConnectionFacts(
    IPEndPoint Destination,
    IPEndPoint DirectSource,
    IPEndPoint Source,
    string ServerName,
    string TransportProtocol,
    IReadOnlyList<string> ApplicationProtocols);

/// <summary>
/// Envoy's FilterChainManagerImpl order: destination port, destination IP, server name, transport protocol, application
/// protocols, direct source IP, source type, source IP, source port. At each level the most specific configured value
/// that matches wins and Envoy never backtracks to a less specific branch, so narrowing the candidate set level by level
/// gives the same chain as its tree. Runs once per connection.
/// </summary>
internal static class FilterChainSelector
{
    private const int NoMatch = int.MinValue;

    /// <summary>The index of the chosen chain in <paramref name="matches"/>, or -1 (default_filter_chain or close).</summary>
    public static int Select(IReadOnlyList<FilterChainMatchPlan> matches, in ConnectionFacts facts)
    {
        var candidates = new List<int>(matches.Count);
        for (var i = 0; i < matches.Count; i++)
        {
            candidates.Add(i);
        }

        var f = facts;
        Narrow(candidates, m => m.DestinationPort == 0 ? 0 : m.DestinationPort == f.Destination.Port ? 1 : NoMatch, matches);
        Narrow(candidates, m => Longest(m.PrefixRanges, f.Destination.Address), matches);
        Narrow(candidates, m => ServerNameSpecificity(m.ServerNames, f.ServerName), matches);
        Narrow(candidates, m => m.TransportProtocol.Length == 0 ? 0 : m.TransportProtocol == f.TransportProtocol ? 1 : NoMatch, matches);
        NarrowApplicationProtocols(candidates, matches, f.ApplicationProtocols);
        Narrow(candidates, m => Longest(m.DirectSourcePrefixRanges, f.DirectSource.Address), matches);
        var local = IPAddress.IsLoopback(f.Source.Address) || f.Source.Address.Equals(f.Destination.Address);
        Narrow(candidates, m => m.SourceType switch
        {
            ConnectionSourceType.Any => 0,
            ConnectionSourceType.SameIpOrLoopback => local ? 1 : NoMatch,
            _ => local ? NoMatch : 1,
        }, matches);
        Narrow(candidates, m => Longest(m.SourcePrefixRanges, f.Source.Address), matches);
        Narrow(candidates, m => m.SourcePorts.Length == 0 ? 0 : Array.IndexOf(m.SourcePorts, f.Source.Port) >= 0 ? 1 : NoMatch, matches);
        return candidates.Count == 0 ? -1 : candidates[0];
    }

    private static void Narrow(List<int> candidates, Func<FilterChainMatchPlan, int> specificity, IReadOnlyList<FilterChainMatchPlan> matches)
    {
        var best = NoMatch;
        foreach (var index in candidates)
        {
            best = Math.Max(best, specificity(matches[index]));
        }

        candidates.RemoveAll(index => best == NoMatch || specificity(matches[index]) != best);
    }

    private static void NarrowApplicationProtocols(List<int> candidates, IReadOnlyList<FilterChainMatchPlan> matches, IReadOnlyList<string> offered)
    {
        // The first protocol the client offers that some chain names wins; otherwise chains without the field.
        foreach (var protocol in offered)
        {
            if (candidates.Exists(index => Array.IndexOf(matches[index].ApplicationProtocols, protocol) >= 0))
            {
                candidates.RemoveAll(index => Array.IndexOf(matches[index].ApplicationProtocols, protocol) < 0);
                return;
            }
        }

        candidates.RemoveAll(index => matches[index].ApplicationProtocols.Length != 0);
    }

    /// <summary>Longest matching prefix length; no ranges is "any" (Envoy stores it as 0.0.0.0/0 and ::/0).</summary>
    private static int Longest(IPNetwork[] ranges, IPAddress address)
    {
        if (ranges.Length == 0)
        {
            return 0;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var best = NoMatch;
        foreach (var range in ranges)
        {
            if (range.Contains(address))
            {
                best = Math.Max(best, range.PrefixLength);
            }
        }

        return best;
    }

    /// <summary>Exact name first, then wildcard suffixes longest first (*.b.example.com before *.example.com), then "any".</summary>
    private static int ServerNameSpecificity(string[] names, string serverName)
    {
        if (names.Length == 0)
        {
            return 0;
        }

        var best = NoMatch;
        foreach (var name in names)
        {
            if (string.Equals(name, serverName, StringComparison.OrdinalIgnoreCase))
            {
                return int.MaxValue;
            }

            if (name.StartsWith("*.", StringComparison.Ordinal) && serverName.Length > name.Length - 1
                && serverName.EndsWith(name.AsSpan(1), StringComparison.OrdinalIgnoreCase))
            {
                best = Math.Max(best, name.Length);
            }
        }

        return best;
    }
}
