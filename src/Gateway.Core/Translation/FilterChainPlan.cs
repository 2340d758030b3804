using System.Net;
using Gateway.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Translation;

/// <summary>One filter chain of a listener: its connection manager (or TCP proxy), its TLS termination and the connections it takes.</summary>
public sealed record FilterChainPlan(string? Name, HttpProtocols Protocols, ConnectionManagerPlan ConnectionManager)
{
    /// <summary>The chain's <c>filter_chain_match</c> (the default chain's is empty: it is chosen when none matches).</summary>
    internal FilterChainMatchPlan Match { get; init; } = FilterChainMatchPlan.Any;

    /// <summary>The chain's TLS termination (<c>transport_socket</c>), or null for plain text.</summary>
    internal DownstreamTlsPlan? Tls { get; init; }

    /// <summary>
    /// The chain's <c>envoy.filters.network.tcp_proxy</c>, or null for an HTTP chain; a TCP proxy chain's connections never
    /// reach HTTP and its <see cref="ConnectionManager"/> is <see cref="TcpProxyPlan.NoConnectionManager"/>.
    /// </summary>
    internal TcpProxyPlan? TcpProxy { get; init; }

    /// <summary>
    /// The chain's non-terminal network filters before its terminal one, in order: each new connection passes them
    /// (Envoy's onNewConnection) before TLS and HTTP or the TCP proxy.
    /// </summary>
    public IReadOnlyList<NetworkFilterPlan> NetworkFilters { get; init; } = [];
}

/// <summary>A non-terminal network filter of a chain.</summary>
/// <param name="StatPrefix">Its stats' prefix.</param>
public abstract record NetworkFilterPlan(string StatPrefix);

/// <summary>One <c>envoy.filters.network.connection_limit</c>.</summary>
/// <param name="StatPrefix">Its stats' prefix (<c>connection_limit.&lt;stat_prefix&gt;.</c>).</param>
/// <param name="MaxConnections">Connections open through it at once.</param>
/// <param name="Delay">How long a refused connection is held before it is closed; null: at once.</param>
public sealed record ConnectionLimitPlan(string StatPrefix, ulong MaxConnections, TimeSpan? Delay) : NetworkFilterPlan(StatPrefix);

/// <summary>One <c>envoy.filters.network.local_ratelimit</c>.</summary>
/// <param name="StatPrefix">Its stats' prefix (<c>local_rate_limit.&lt;stat_prefix&gt;.</c>).</param>
/// <param name="MaxTokens">The bucket's size, full at start.</param>
/// <param name="TokensPerFill">Tokens added at each fill.</param>
/// <param name="FillInterval">The time between fills.</param>
/// <param name="ShareKey">The <c>share_key</c> whose bucket it takes from; null: its own.</param>
public sealed record LocalRateLimitPlan(string StatPrefix, uint MaxTokens, uint TokensPerFill, TimeSpan FillInterval, string? ShareKey) : NetworkFilterPlan(StatPrefix);

/// <summary>One chain's filter_chain_match, compiled (empty lists and zero mean "any").</summary>
internal sealed record FilterChainMatchPlan
{
    /// <summary>The match of a chain without <c>filter_chain_match</c>.</summary>
    public static readonly FilterChainMatchPlan Any = new();

    public int DestinationPort { get; init; }

    public IPNetwork[] PrefixRanges { get; init; } = [];

    /// <summary>Lower case; a wildcard keeps its <c>*.</c>.</summary>
    public string[] ServerNames { get; init; } = [];

    public string TransportProtocol { get; init; } = string.Empty;

    public string[] ApplicationProtocols { get; init; } = [];

    public IPNetwork[] DirectSourcePrefixRanges { get; init; } = [];

    public ConnectionSourceType SourceType { get; init; }

    public IPNetwork[] SourcePrefixRanges { get; init; } = [];

    public int[] SourcePorts { get; init; } = [];

    /// <summary>Compiles a validated <c>filter_chain_match</c>.</summary>
    public static FilterChainMatchPlan From(FilterChainMatch? match)
    {
        if (match is null)
        {
            return Any;
        }
        var ports = new int[match.SourcePorts.Count];
        for (var i = 0; i < ports.Length; i++)
        {
            ports[i] = (int)match.SourcePorts[i];
        }
        var names = new string[match.ServerNames.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = match.ServerNames[i].ToLowerInvariant();
        }
        return new FilterChainMatchPlan
        {
            DestinationPort = (int)(match.DestinationPort ?? 0),
            PrefixRanges = Ranges(match.PrefixRanges),
            ServerNames = names,
            TransportProtocol = match.TransportProtocol ?? string.Empty,
            ApplicationProtocols = [.. match.ApplicationProtocols],
            DirectSourcePrefixRanges = Ranges(match.DirectSourcePrefixRanges),
            SourceType = match.SourceType,
            SourcePrefixRanges = Ranges(match.SourcePrefixRanges),
            SourcePorts = ports,
        };
    }

    private static IPNetwork[] Ranges(List<CidrRange> ranges)
    {
        var networks = new IPNetwork[ranges.Count];
        for (var i = 0; i < networks.Length; i++)
        {
            networks[i] = Network(ranges[i]);
        }
        return networks;
    }

    /// <summary>
    /// Envoy's CidrRange::create: the address with its host bits cleared, the length clamped to the family's width (and
    /// an IPv4-mapped IPv6 range as its IPv4 range, which is how connections' addresses are compared).
    /// </summary>
    public static IPNetwork Network(CidrRange range)
    {
        var address = IPAddress.Parse(range.AddressPrefix!);
        var length = (int)Math.Min(range.PrefixLen ?? 0, (uint)(address.GetAddressBytes().Length * 8));
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
            length = Math.Max(0, length - 96);
        }
        var bytes = address.GetAddressBytes();
        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return new IPNetwork(new IPAddress(bytes), length);
    }
}

