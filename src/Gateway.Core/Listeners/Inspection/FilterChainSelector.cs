using System.Net;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Listeners.Inspection;

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
/// gives the same chain as its tree. Runs once per connection and allocates nothing (the candidate set is on the stack).
/// </summary>
internal static class FilterChainSelector
{
    private const int NoMatch = int.MinValue;

    // Chains beyond this count borrow their candidate set from the pool instead of the stack.
    private const int StackCandidates = 256;

    private enum Level
    {
        DestinationPort,
        DestinationIp,
        ServerName,
        TransportProtocol,
        ApplicationProtocols,
        DirectSourceIp,
        SourceType,
        SourceIp,
        SourcePort,
    }

    /// <summary>The index of the chosen chain in <paramref name="matches"/>, or -1 (default_filter_chain or close).</summary>
    public static int Select(IReadOnlyList<FilterChainMatchPlan> matches, in ConnectionFacts facts)
    {
        var count = matches.Count;
        if (count == 0)
        {
            return -1;
        }

        bool[]? rented = null;
        var alive = count <= StackCandidates ? stackalloc bool[count] : (rented = System.Buffers.ArrayPool<bool>.Shared.Rent(count)).AsSpan(0, count);
        try
        {
            alive.Fill(true);
            var local = IPAddress.IsLoopback(facts.Source.Address) || facts.Source.Address.Equals(facts.Destination.Address);
            for (var level = Level.DestinationPort; level <= Level.SourcePort; level++)
            {
                var any = level == Level.ApplicationProtocols
                    ? NarrowApplicationProtocols(alive, matches, facts.ApplicationProtocols)
                    : Narrow(alive, matches, level, facts, local);
                if (!any)
                {
                    return -1;
                }
            }

            return alive.IndexOf(true);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<bool>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Keeps the candidates of the level's most specific matching value; false when none matches.</summary>
    private static bool Narrow(Span<bool> alive, IReadOnlyList<FilterChainMatchPlan> matches, Level level, in ConnectionFacts facts, bool local)
    {
        var best = NoMatch;
        for (var i = 0; i < alive.Length; i++)
        {
            if (alive[i])
            {
                best = Math.Max(best, Specificity(level, matches[i], facts, local));
            }
        }

        if (best == NoMatch)
        {
            return false;
        }

        for (var i = 0; i < alive.Length; i++)
        {
            if (alive[i] && Specificity(level, matches[i], facts, local) != best)
            {
                alive[i] = false;
            }
        }

        return true;
    }

    /// <summary>How specifically a chain's value at <paramref name="level"/> matches (0 = not set, "any"), or <see cref="NoMatch"/>.</summary>
    private static int Specificity(Level level, FilterChainMatchPlan m, in ConnectionFacts f, bool local) => level switch
    {
        Level.DestinationPort => m.DestinationPort == 0 ? 0 : m.DestinationPort == f.Destination.Port ? 1 : NoMatch,
        Level.DestinationIp => Longest(m.PrefixRanges, f.Destination.Address),
        Level.ServerName => ServerNameSpecificity(m.ServerNames, f.ServerName),
        Level.TransportProtocol => m.TransportProtocol.Length == 0 ? 0 : m.TransportProtocol == f.TransportProtocol ? 1 : NoMatch,
        Level.DirectSourceIp => Longest(m.DirectSourcePrefixRanges, f.DirectSource.Address),
        Level.SourceType => m.SourceType switch
        {
            ConnectionSourceType.Any => 0,
            ConnectionSourceType.SameIpOrLoopback => local ? 1 : NoMatch,
            _ => local ? NoMatch : 1,
        },
        Level.SourceIp => Longest(m.SourcePrefixRanges, f.Source.Address),
        _ => m.SourcePorts.Length == 0 ? 0 : Array.IndexOf(m.SourcePorts, f.Source.Port) >= 0 ? 1 : NoMatch,
    };

    private static bool NarrowApplicationProtocols(Span<bool> alive, IReadOnlyList<FilterChainMatchPlan> matches, IReadOnlyList<string> offered)
    {
        // The first protocol the client offers that some chain names wins; otherwise chains without the field.
        for (var p = 0; p < offered.Count; p++)
        {
            var protocol = offered[p];
            var named = false;
            for (var i = 0; i < alive.Length && !named; i++)
            {
                named = alive[i] && Array.IndexOf(matches[i].ApplicationProtocols, protocol) >= 0;
            }

            if (named)
            {
                for (var i = 0; i < alive.Length; i++)
                {
                    alive[i] = alive[i] && Array.IndexOf(matches[i].ApplicationProtocols, protocol) >= 0;
                }

                return true;
            }
        }

        var any = false;
        for (var i = 0; i < alive.Length; i++)
        {
            alive[i] = alive[i] && matches[i].ApplicationProtocols.Length == 0;
            any |= alive[i];
        }

        return any;
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
