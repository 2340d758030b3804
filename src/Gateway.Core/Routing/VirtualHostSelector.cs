using System.Collections.Frozen;
using System.Diagnostics;
using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>
/// Picks the virtual host for a request's authority as Envoy's <c>RouteMatcher::findVirtualHost</c> does
/// (source/common/router/config_impl.cc):
/// <list type="number">
/// <item>When the only domain anywhere is <c>*</c>, that host is chosen, even without an authority.</item>
/// <item>No authority: no virtual host.</item>
/// <item>The authority is ASCII-lower-cased and used <em>as received, port included</em> (Envoy does not retry
/// without the port), unless <c>ignore_port_in_host_matching</c> removes the port first (Envoy's
/// HeaderUtility::getPortStart: from the last ':' that is not inside an IPv6 literal's brackets).</item>
/// <item>Exact domain; then suffix wildcards (<c>*.foo.com</c>, <c>*-bar.foo.com</c>) longest first; then prefix
/// wildcards (<c>foo.*</c>) longest first; then <c>*</c>. A wildcard must cover at least one character, so
/// <c>*.foo.com</c> does not take <c>.foo.com</c>.</item>
/// </list>
/// </summary>
internal sealed class VirtualHostSelector
{
    // Authorities longer than this are lower-cased into a heap buffer instead of the stack.
    private const int StackLimit = 256;

    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly WildcardGroup[] _suffixes;
    private readonly WildcardGroup[] _prefixes;
    private readonly int _default;
    private readonly bool _defaultOnly;
    private readonly bool _ignorePort;

    private VirtualHostSelector(FrozenDictionary<string, int> exact, WildcardGroup[] suffixes, WildcardGroup[] prefixes, int defaultIndex, bool ignorePort)
    {
        _ignorePort = ignorePort;
        _exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _suffixes = suffixes;
        _prefixes = prefixes;
        _default = defaultIndex;
        _defaultOnly = exact.Count == 0 && suffixes.Length == 0 && prefixes.Length == 0;
    }

    /// <summary>Builds the selector; virtual host indices are positions in <see cref="RouteConfiguration.VirtualHosts"/>.</summary>
    /// <remarks>The configuration passed validation: no domain appears twice.</remarks>
    public static VirtualHostSelector Build(RouteConfiguration config)
    {
        var exact = new Dictionary<string, int>(StringComparer.Ordinal);
        var suffixes = new SortedDictionary<int, Dictionary<string, int>>(DescendingComparer.Instance);
        var prefixes = new SortedDictionary<int, Dictionary<string, int>>(DescendingComparer.Instance);
        var defaultIndex = -1;

        for (var i = 0; i < config.VirtualHosts.Count; i++)
        {
            foreach (var rawDomain in config.VirtualHosts[i].Domains)
            {
                // Envoy lower-cases domains (Http::LowerCaseString) and the authority (AsciiStrToLower).
                var domain = AsciiText.ToLower(rawDomain);
                bool added;
                if (domain == "*")
                {
                    added = defaultIndex < 0;
                    if (added)
                    {
                        defaultIndex = i;
                    }
                }
                else if (domain.StartsWith('*'))
                {
                    added = GroupFor(suffixes, domain.Length - 1).TryAdd(domain[1..], i);
                }
                else if (domain.EndsWith('*'))
                {
                    added = GroupFor(prefixes, domain.Length - 1).TryAdd(domain[..^1], i);
                }
                else
                {
                    added = exact.TryAdd(domain, i);
                }
                // RouteConfigurationValidator refuses duplicates under this same key (ASCII lower case), so none reach here.
                Debug.Assert(added, $"duplicate domain {domain} passed validation");
            }
        }

        return new VirtualHostSelector(exact.ToFrozenDictionary(StringComparer.Ordinal), ToGroups(suffixes), ToGroups(prefixes), defaultIndex, config.IgnorePortInHostMatching);
    }

    /// <summary>Finds the virtual host index for an authority, or -1 (Envoy answers 404, no route).</summary>
    /// <param name="host">The <c>:authority</c>/Host value as received, or null when the request has none.</param>
    public int Find(string? host)
    {
        if (_defaultOnly)
        {
            return _default;
        }
        if (host is null)
        {
            return -1;
        }
        ReadOnlySpan<char> authority = host;
        if (_ignorePort && PortStart(authority) is var portStart and >= 0)
        {
            authority = authority[..portStart];
        }
        if (AsciiText.IndexOfUpper(authority) < 0)
        {
            return FindLowered(authority);
        }
        var buffer = authority.Length <= StackLimit ? stackalloc char[StackLimit] : new char[authority.Length];
        var lowered = buffer[..authority.Length];
        AsciiText.ToLower(authority, lowered);
        return FindLowered(lowered);
    }

    /// <summary>Envoy's HeaderUtility::getPortStart: the last ':' unless an IPv6 literal's ']' follows it; -1 when there is no port.</summary>
    private static int PortStart(ReadOnlySpan<char> host)
    {
        var colon = host.LastIndexOf(':');
        if (colon < 0)
        {
            return -1;
        }
        var bracket = host.LastIndexOf(']');
        return bracket < 0 || bracket < colon ? colon : -1;
    }

    private int FindLowered(ReadOnlySpan<char> host)
    {
        if (_exact.TryGetValue(host, out var index))
        {
            return index;
        }
        foreach (var group in _suffixes)
        {
            // Strictly shorter: the '*' must stand for at least one character.
            if (group.Length < host.Length && group.Lookup.TryGetValue(host[^group.Length..], out index))
            {
                return index;
            }
        }
        foreach (var group in _prefixes)
        {
            if (group.Length < host.Length && group.Lookup.TryGetValue(host[..group.Length], out index))
            {
                return index;
            }
        }
        return _default;
    }

    private static Dictionary<string, int> GroupFor(SortedDictionary<int, Dictionary<string, int>> groups, int length)
    {
        if (!groups.TryGetValue(length, out var group))
        {
            group = new Dictionary<string, int>(StringComparer.Ordinal);
            groups.Add(length, group);
        }
        return group;
    }

    private static WildcardGroup[] ToGroups(SortedDictionary<int, Dictionary<string, int>> groups)
    {
        var result = new WildcardGroup[groups.Count];
        var i = 0;
        foreach (var (length, map) in groups)
        {
            result[i++] = new WildcardGroup(length, map.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>());
        }
        return result;
    }

    /// <summary>All wildcard domains whose fixed part has one length; tried longest first.</summary>
    private sealed class WildcardGroup(int length, FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup)
    {
        public int Length { get; } = length;

        public FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; } = lookup;
    }

    private sealed class DescendingComparer : IComparer<int>
    {
        public static readonly DescendingComparer Instance = new();

        public int Compare(int x, int y) => y.CompareTo(x);
    }
}
