using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// A virtual host's <c>virtual_clusters</c>, compiled once (Envoy's VirtualHostImpl::virtualClusterFromEntries): the first
/// whose header matchers all match the request, else the catch-all <c>other</c>, which exists only when the virtual host
/// has virtual clusters.
/// </summary>
internal sealed class VirtualClusters
{
    private readonly Entry[] _entries;
    private readonly Entry _catchAll;

    private VirtualClusters(Entry[] entries, Entry catchAll)
    {
        _entries = entries;
        _catchAll = catchAll;
    }

    /// <summary>The compiled virtual clusters of a virtual host, or null when it has none.</summary>
    public static VirtualClusters? Build(VirtualHost vhost, StatsStore store)
    {
        if (vhost.VirtualClusters.Count == 0)
        {
            return null;
        }
        var prefix = "vhost." + vhost.Name + ".vcluster.";
        var entries = new Entry[vhost.VirtualClusters.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var config = vhost.VirtualClusters[i];
            var headers = new HeaderPredicate[config.Headers.Count];
            for (var j = 0; j < headers.Length; j++)
            {
                headers[j] = HeaderPredicate.FromConfig(config.Headers[j]);
            }
            entries[i] = new Entry(config.Name!, headers, new RequestClassStats(store, prefix + config.Name + "."));
        }
        return new VirtualClusters(entries, new Entry("other", [], new RequestClassStats(store, prefix + "other.")));
    }

    /// <summary>The request's virtual cluster (never null: <c>other</c> when none matches).</summary>
    public Entry Match(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers)
    {
        var request = new RequestView(host, method, scheme, pathAndQuery, headers);
        foreach (var entry in _entries)
        {
            if (entry.Matches(in request))
            {
                return entry;
            }
        }
        return _catchAll;
    }

    /// <summary>One virtual cluster: its name, matchers and stats.</summary>
    internal sealed class Entry(string name, HeaderPredicate[] headers, RequestClassStats stats)
    {
        public string Name { get; } = name;

        public RequestClassStats Stats { get; } = stats;

        public bool Matches(in RequestView request)
        {
            foreach (var header in headers)
            {
                if (!header.Matches(in request))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
