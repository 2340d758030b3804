using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// The file-based SDS subscriptions of the applied configuration, one per (file, secret name) however many contexts
/// name it (Envoy's SecretManagerImpl shares a provider the same way). Applying a configuration keeps the subscriptions
/// still named (their certificate objects, so connections and <c>/certs</c> see one certificate), starts new ones and
/// stops the rest.
/// </summary>
internal sealed class SdsSubscriptions(StatsStore stats, TimeProvider time, ILogger logger) : IDisposable
{
    /// <summary>The logging category of secret updates (Envoy's <c>secret</c> logger).</summary>
    public const string LoggerCategory = "Gateway.Tls.Secrets";

    private readonly Dictionary<(string Path, string Name), SdsCertificateWatcher> _watchers = [];
    private readonly Lock _lock = new();

    /// <summary>Subscribes to every file-based secret the listeners (served certificates) and clusters (client certificates) of <paramref name="plan"/> name.</summary>
    public void Apply(GatewayPlan plan)
    {
        lock (_lock)
        {
            var contexts = new Dictionary<(string, string), List<Counter>>();
            foreach (var listener in plan.Listeners)
            {
                foreach (var chain in listener.AllChains())
                {
                    if (chain.Tls is not { } tls)
                    {
                        continue;
                    }
                    // The listener's chains share its scope's socket factory stats, as in Envoy.
                    var updated = stats.Counter(listener.StatScope + ".server_ssl_socket_factory.ssl_context_update_by_sds");
                    // Registered for Envoy's name: a secret is read before its listener serves, so none is ever not ready.
                    stats.Counter(listener.StatScope + ".server_ssl_socket_factory.downstream_context_secrets_not_ready");
                    foreach (var certificate in tls.Certificates)
                    {
                        Subscribe(certificate, updated, contexts);
                    }
                }
            }
            foreach (var cluster in plan.ClusterPlans)
            {
                foreach (var socket in cluster.Transport?.Sockets ?? [])
                {
                    if (socket?.ClientCertificate is { Sds: not null } certificate)
                    {
                        var updated = stats.Counter("cluster." + cluster.Name + ".client_ssl_socket_factory.ssl_context_update_by_sds");
                        stats.Counter("cluster." + cluster.Name + ".client_ssl_socket_factory.upstream_context_secrets_not_ready");
                        Subscribe(certificate, updated, contexts);
                    }
                }
            }
            foreach (var (key, watcher) in _watchers)
            {
                if (contexts.TryGetValue(key, out var counters))
                {
                    watcher.ServeContexts([.. counters]);
                }
                else
                {
                    watcher.Dispose();
                    _watchers.Remove(key);
                }
            }
        }
    }

    // Keeps or starts the subscription a certificate names, and adds the context's update counter to it.
    private void Subscribe(TlsCertificatePlan certificate, Counter updated, Dictionary<(string, string), List<Counter>> contexts)
    {
        if (certificate.Sds is not { } sds)
        {
            return;
        }
        var key = (sds.Path, sds.SecretName);
        if (_watchers.TryGetValue(key, out var running))
        {
            if (!contexts.ContainsKey(key))
            {
                running.Adopt(certificate, sds.VersionInfo);
            }
        }
        else
        {
            _watchers.Add(key, new SdsCertificateWatcher(sds, certificate, sds.VersionInfo, stats, time, logger));
        }
        if (!contexts.TryGetValue(key, out var counters))
        {
            contexts.Add(key, counters = []);
        }
        if (!counters.Contains(updated))
        {
            counters.Add(updated);
        }
    }

    /// <summary>The certificate served for a file-based secret of the applied configuration.</summary>
    public ServerCertificate CertificateFor(SdsWatchPlan sds)
    {
        lock (_lock)
        {
            return _watchers[(sds.Path, sds.SecretName)].Certificate;
        }
    }

    /// <summary>The running subscriptions, by secret name (for <c>/config_dump</c>'s dynamic secrets).</summary>
    public IReadOnlyList<SdsCertificateWatcher> Active()
    {
        lock (_lock)
        {
            var active = new List<SdsCertificateWatcher>(_watchers.Values);
            active.Sort(static (a, b) => string.CompareOrdinal(a.Plan.SecretName, b.Plan.SecretName));
            return active;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
            _watchers.Clear();
        }
    }
}
