using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Translation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Gateway.Clusters;

/// <summary>
/// Resolves the destinations of STRICT_DNS and LOGICAL_DNS clusters as Envoy does: STRICT_DNS makes
/// every resolved address a host, LOGICAL_DNS uses only the first; <c>dns_lookup_family</c> picks the
/// families; resolution repeats every <c>dns_refresh_rate</c>. A name that does not resolve leaves the
/// cluster without hosts (requests get 503 <c>no healthy upstream</c>) instead of failing the config.
/// </summary>
internal sealed partial class DnsDestinationResolver : IDestinationResolver
{
    private readonly ILogger<DnsDestinationResolver> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> _lookup;

    public DnsDestinationResolver(ILogger<DnsDestinationResolver> logger, TimeProvider timeProvider)
        : this(logger, timeProvider, static (host, family, ct) => Dns.GetHostAddressesAsync(host, family, ct))
    {
    }

    internal DnsDestinationResolver(ILogger<DnsDestinationResolver> logger, TimeProvider timeProvider, Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> lookup)
    {
        _logger = logger;
        _timeProvider = timeProvider;
        _lookup = lookup;
    }

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        Dictionary<string, DestinationConfig>? resolved = null;
        TimeSpan? refresh = null;
        foreach (var (id, destination) in destinations)
        {
            if (destination.Metadata is null || !destination.Metadata.TryGetValue(EnvoyTranslator.DiscoveryTypeMetadata, out var discovery))
            {
                (resolved ??= new(StringComparer.OrdinalIgnoreCase))[id] = destination;
                continue;
            }
            resolved ??= new(StringComparer.OrdinalIgnoreCase);
            var uri = new Uri(destination.Address);
            var family = destination.Metadata.GetValueOrDefault(EnvoyTranslator.DnsLookupFamilyMetadata, "AUTO");
            if (long.TryParse(destination.Metadata.GetValueOrDefault(EnvoyTranslator.DnsRefreshRateMetadata), NumberStyles.None, CultureInfo.InvariantCulture, out var refreshMs))
            {
                var interval = TimeSpan.FromMilliseconds(refreshMs);
                refresh = refresh is null || interval < refresh ? interval : refresh;
            }

            IReadOnlyList<IPAddress> addresses;
            try
            {
                addresses = await ResolveAsync(uri.IdnHost, family, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                Log.ResolveFailed(_logger, uri.IdnHost, ex.Message);
                continue;
            }

            var take = discovery == "LOGICAL_DNS" ? Math.Min(1, addresses.Count) : addresses.Count;
            for (var i = 0; i < take; i++)
            {
                var host = EnvoyTranslator.FormatHostPort(addresses[i].ToString(), uri.Port);
                resolved[discovery == "LOGICAL_DNS" ? id : host] = destination with
                {
                    Address = $"{uri.Scheme}://{host}",
                    Host = destination.Host ?? uri.Host,
                };
            }
        }

        IChangeToken? changeToken = null;
        if (refresh is { } period)
        {
            var source = new CancellationTokenSource(period, _timeProvider);
            changeToken = new CancellationChangeToken(source.Token);
        }
        return new ResolvedDestinationCollection(resolved ?? new Dictionary<string, DestinationConfig>(), changeToken);
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, string family, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }
        switch (family)
        {
            case "V4_ONLY":
                return await _lookup(host, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
            case "V6_ONLY":
                return await _lookup(host, AddressFamily.InterNetworkV6, cancellationToken).ConfigureAwait(false);
            case "ALL":
                return await _lookup(host, AddressFamily.Unspecified, cancellationToken).ConfigureAwait(false);
            default:
                {
                    // AUTO prefers IPv6 and falls back to IPv4; V4_PREFERRED the other way round.
                    var (first, second) = family == "V4_PREFERRED"
                        ? (AddressFamily.InterNetwork, AddressFamily.InterNetworkV6)
                        : (AddressFamily.InterNetworkV6, AddressFamily.InterNetwork);
                    var all = await _lookup(host, AddressFamily.Unspecified, cancellationToken).ConfigureAwait(false);
                    var preferred = Array.FindAll(all, a => a.AddressFamily == first);
                    return preferred.Length > 0 ? preferred : Array.FindAll(all, a => a.AddressFamily == second);
                }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.UpstreamDnsFailed, Level = LogLevel.Warning, Message = "DNS resolution for {Host} failed: {Reason}; the cluster has no hosts until it resolves")]
        public static partial void ResolveFailed(ILogger logger, string host, string reason);
    }
}
