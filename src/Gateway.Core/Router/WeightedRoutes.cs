using Gateway.Listeners;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Router;

/// <summary>
/// A route's <c>weighted_clusters</c>, picked when the route is selected (Envoy's WeightedClusterSpecifierPlugin::route, from
/// the route match, so that the filters already see the entry): each entry is a <see cref="RouteRuntime"/> of its own (Envoy's
/// WeightedClusterEntry, a route delegating to its parent) with the entry's cluster, header mutations, host rewrite and
/// per-filter configuration, built when the configuration is applied.
/// </summary>
internal sealed class WeightedRoutes
{
    private readonly RouteRuntime[] _entries;
    private readonly uint[] _weights;
    private readonly ulong _totalWeight;
    private readonly string? _randomValueHeader;
    private readonly HashPolicy? _hashPolicy;

    /// <summary><paramref name="hashPolicy"/>: the route's <c>hash_policy</c> when <c>use_hash_policy</c> is set, else null.</summary>
    public WeightedRoutes(RouteRuntime[] entries, uint[] weights, string? randomValueHeader, HashPolicy? hashPolicy = null)
    {
        _entries = entries;
        _weights = weights;
        _randomValueHeader = randomValueHeader;
        _hashPolicy = hashPolicy;
        foreach (var weight in weights)
        {
            _totalWeight += weight;
        }
    }

    /// <summary>The entries, in configuration order.</summary>
    public ReadOnlySpan<RouteRuntime> Entries => _entries;

    /// <summary>
    /// The entry of this request: Envoy's pickWeightedCluster on the request's hash (<c>use_hash_policy</c>) or header
    /// value, else the stream's random value.
    /// </summary>
    public RouteRuntime Pick(HttpRequest request, ulong randomValue, System.Net.IPAddress? forwardedRemote)
    {
        if (_hashPolicy is { } policy)
        {
            // Envoy generates the hash without a cookie callback: a ttl cookie policy whose cookie is absent yields nothing here.
            string? noCookie = null;
            if (policy.Generate(request.HttpContext, ref noCookie, forwardedRemote, generateCookies: false) is { } hash)
            {
                randomValue = hash;
            }
        }
        return _entries[ClusterSpecifier.PickIndex(_weights, _totalWeight, RandomValue(request.Headers, randomValue))];
    }

    /// <summary>The random value of the pick: a single-valued unsigned integer header when configured, else the stream's.</summary>
    private ulong RandomValue(IHeaderDictionary headers, ulong randomValue)
    {
        if (_randomValueHeader is not null)
        {
            var values = headers[_randomValueHeader];
            // Several values would make picks inconsistent: Envoy falls back to the stream's value, as for a non-number.
            if (values.Count == 1 && ulong.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromHeader))
            {
                return fromHeader;
            }
        }
        return randomValue;
    }
}
