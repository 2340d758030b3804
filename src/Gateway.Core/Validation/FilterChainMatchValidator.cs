using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Validation;

/// <summary>
/// Envoy's checks of a listener's <c>filter_chain_match</c>es (FilterChainManagerImpl::addFilterChains): valid ranges and
/// ports, no partial wildcards in <c>server_names</c>, no two chains with the same match, and no two chains that would
/// both take some connection (Envoy's overlapping rules, found by expanding every repeated field into its values).
/// </summary>
internal sealed class FilterChainMatchValidator(ValidationContext context)
{
    // Expanding a match multiplies its repeated fields; a config that would expand past this is refused rather than
    // left to exhaust the loader.
    private const long MaxCombinations = 1_000_000;

    /// <summary>Validates each chain's match and the set of them; <paramref name="listenerAddress"/> as Envoy prints it (<c>0.0.0.0:10000</c>).</summary>
    public void Validate(IReadOnlyList<FilterChain> chains, string listenerAddress)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var leaves = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chain in chains)
        {
            var match = chain.FilterChainMatch;
            if (match is null)
            {
                if (!seen.TryAdd(string.Empty, chain.Name ?? string.Empty))
                {
                    context.Error(chain, "name", Duplicate(listenerAddress, chain, seen[string.Empty]));
                }
                else if (!AddLeaves(leaves, FilterChainMatchPlan.Any))
                {
                    context.Error(chain, "name", Overlapping(listenerAddress));
                }
                continue;
            }
            if (!ValidateFields(match, listenerAddress))
            {
                continue;
            }
            var key = Canonical(match);
            if (seen.TryGetValue(key, out var other))
            {
                context.Error(chain, "filter_chain_match", Duplicate(listenerAddress, chain, other));
                continue;
            }
            seen.Add(key, chain.Name ?? string.Empty);
            var plan = FilterChainMatchPlan.From(match);
            if (Combinations(plan) > MaxCombinations)
            {
                context.Error(chain, "filter_chain_match", $"error adding listener '{listenerAddress}': filter chain '{chain.Name}' expands to more than {MaxCombinations} match combinations");
                continue;
            }
            if (!AddLeaves(leaves, plan))
            {
                context.Error(chain, "filter_chain_match", Overlapping(listenerAddress));
            }
        }
    }

    private static string Duplicate(string address, FilterChain chain, string other)
        => $"error adding listener '{address}': filter chain '{chain.Name}' has the same matching rules defined as '{other}'";

    private static string Overlapping(string address)
        => $"error adding listener '{address}': multiple filter chains with overlapping matching rules are defined";

    /// <summary>The fields' own rules; false when one fails (the match is then not compared with others).</summary>
    private bool ValidateFields(FilterChainMatch match, string address)
    {
        var valid = true;
        if (match.DestinationPort is { } port && port is 0 or > 65535)
        {
            context.Error(match, "destination_port", "Proto constraint validation failed (FilterChainMatchValidationError.DestinationPort: value must be inside range [1, 65535])");
            valid = false;
        }
        foreach (var sourcePort in match.SourcePorts)
        {
            if (sourcePort is 0 or > 65535)
            {
                context.Error(match, "source_ports", "Proto constraint validation failed (FilterChainMatchValidationError.SourcePorts: value must be inside range [1, 65535])");
                valid = false;
                break;
            }
        }
        valid &= CidrRanges.Validate(context, match.PrefixRanges);
        valid &= CidrRanges.Validate(context, match.SourcePrefixRanges);
        valid &= CidrRanges.Validate(context, match.DirectSourcePrefixRanges);
        foreach (var name in match.ServerNames)
        {
            // Envoy matches exact names and "*." suffixes only.
            if (name.Contains('*', StringComparison.Ordinal) && !name.StartsWith("*.", StringComparison.Ordinal))
            {
                context.Error(match, "server_names", $"error adding listener '{address}': partial wildcards are not supported in \"server_names\"");
                valid = false;
                break;
            }
        }
        return valid;
    }

    /// <summary>The match's fields in proto order, repeated fields in their order: equal strings are equal messages (MessageUtil's equality).</summary>
    private static string Canonical(FilterChainMatch match)
    {
        var text = new StringBuilder();
        text.Append(match.DestinationPort?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-").Append('|');
        Ranges(text, match.PrefixRanges);
        Ranges(text, match.SourcePrefixRanges);
        text.AppendJoin(',', match.SourcePorts).Append('|');
        text.AppendJoin(',', match.ServerNames).Append('|');
        text.Append(match.TransportProtocol).Append('|');
        text.AppendJoin(',', match.ApplicationProtocols).Append('|');
        text.Append((int)match.SourceType).Append('|');
        Ranges(text, match.DirectSourcePrefixRanges);
        return text.ToString();
    }

    private static void Ranges(StringBuilder text, List<CidrRange> ranges)
    {
        foreach (var range in ranges)
        {
            text.Append(range.AddressPrefix).Append('/').Append(range.PrefixLen ?? 0).Append(',');
        }
        text.Append('|');
    }

    private static long Combinations(FilterChainMatchPlan plan)
    {
        long count = 1;
        foreach (var length in (ReadOnlySpan<int>)[plan.PrefixRanges.Length, plan.ServerNames.Length, plan.ApplicationProtocols.Length,
            plan.DirectSourcePrefixRanges.Length, plan.SourcePrefixRanges.Length, plan.SourcePorts.Length])
        {
            count *= Math.Max(1, length);
            if (count > MaxCombinations)
            {
                break;
            }
        }
        return count;
    }

    /// <summary>
    /// Adds every (destination port, destination range, server name, transport protocol, application protocol, direct
    /// source range, source type, source range, source port) the match stands for, as Envoy's tree holds them; false when
    /// one is already there.
    /// </summary>
    private static bool AddLeaves(HashSet<string> leaves, FilterChainMatchPlan plan)
    {
        var port = plan.DestinationPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var destination in OrAny(Names(plan.PrefixRanges)))
        {
            // A wildcard is stored as its suffix (".example.com"), so "*.example.com" twice overlaps.
            foreach (var serverName in OrAny(plan.ServerNames))
            {
                foreach (var alpn in OrAny(plan.ApplicationProtocols))
                {
                    foreach (var direct in OrAny(Names(plan.DirectSourcePrefixRanges)))
                    {
                        foreach (var source in OrAny(Names(plan.SourcePrefixRanges)))
                        {
                            foreach (var sourcePort in OrAny(plan.SourcePorts))
                            {
                                var leaf = string.Join('\u0001', port, destination, serverName, plan.TransportProtocol, alpn, direct, ((int)plan.SourceType).ToString(System.Globalization.CultureInfo.InvariantCulture), source, sourcePort);
                                if (!leaves.Add(leaf))
                                {
                                    return false;
                                }
                            }
                        }
                    }
                }
            }
        }
        return true;
    }

    private static string[] Names(IPNetwork[] ranges)
    {
        var names = new string[ranges.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = ranges[i].ToString();
        }
        return names;
    }

    private static string[] OrAny(string[] values) => values.Length == 0 ? [string.Empty] : values;

    private static IEnumerable<string> OrAny(int[] values)
    {
        if (values.Length == 0)
        {
            yield return "0";
            yield break;
        }
        foreach (var value in values)
        {
            yield return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>Envoy's CidrRange checks, shared by every field that holds <c>envoy.config.core.v3.CidrRange</c>s.</summary>
internal static class CidrRanges
{
    /// <summary>Reports each malformed address or over-long prefix; false when there was one.</summary>
    public static bool Validate(ValidationContext context, List<CidrRange> ranges)
    {
        var valid = true;
        foreach (var range in ranges)
        {
            if (!IPAddress.TryParse(range.AddressPrefix, out var prefix))
            {
                context.Error(range, "address_prefix", $"malformed IP address: '{range.AddressPrefix}'");
                valid = false;
            }
            else if (range.PrefixLen is { } length && length > (prefix.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32u : 128u))
            {
                context.Error(range, "prefix_len", $"'prefix_len' {length} is too long for {range.AddressPrefix}");
                valid = false;
            }
        }
        return valid;
    }
}
