using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// The file-based SDS subscriptions of the applied configuration, one per (file, secret name) however many contexts
/// name it (Envoy's SecretManagerImpl shares a provider the same way). Applying a configuration keeps the subscriptions
/// still named (their certificate objects, so connections and <c>/certs</c> see one certificate), starts new ones and
/// stops the rest. Validation contexts from SDS get one <see cref="PeerValidation"/> per TLS context (each merges the
/// secret into its own default), which the subscription swaps on each update.
/// </summary>
internal sealed class SdsSubscriptions(StatsStore stats, TimeProvider time, ILogger logger) : IDisposable
{
    /// <summary>The logging category of secret updates (Envoy's <c>secret</c> logger).</summary>
    public const string LoggerCategory = "Gateway.Tls.Secrets";

    private readonly Dictionary<(string Path, string Name), SdsSecretWatcher> _watchers = [];
    private Dictionary<CertificateValidationPlan, PeerValidation> _validations = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    /// <summary>Subscribes to every file-based secret the listeners (served certificates) and clusters (client certificates) of <paramref name="plan"/> name.</summary>
    public void Apply(GatewayPlan plan)
    {
        lock (_lock)
        {
            var contexts = new Dictionary<(string, string), List<Counter>>();
            var validations = new Dictionary<CertificateValidationPlan, PeerValidation>(ReferenceEqualityComparer.Instance);
            var served = new Dictionary<(string, string), (SdsValidationPlan Plan, List<PeerValidation> Validations)>();
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
                    SubscribeValidation(tls.Validation, CertificateValidator.ClientAuthentication, updated, contexts, validations, served);
                }
            }
            foreach (var cluster in plan.ClusterPlans)
            {
                foreach (var socket in cluster.Transport?.Sockets ?? [])
                {
                    if (socket is null || (socket.ClientCertificate is not { Sds: not null } && socket.Validation.Sds is null))
                    {
                        continue;
                    }
                    var updated = stats.Counter("cluster." + cluster.Name + ".client_ssl_socket_factory.ssl_context_update_by_sds");
                    stats.Counter("cluster." + cluster.Name + ".client_ssl_socket_factory.upstream_context_secrets_not_ready");
                    if (socket.ClientCertificate is { } certificate)
                    {
                        Subscribe(certificate, updated, contexts);
                    }
                    SubscribeValidation(socket.Validation, CertificateValidator.ServerAuthentication, updated, contexts, validations, served);
                }
            }
            foreach (var (key, (sds, peers)) in served)
            {
                ((SdsValidationContextWatcher)_watchers[key]).Serve([.. peers], sds.Secret, sds.Watch.VersionInfo);
            }
            _validations = validations;
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
        if (_watchers.TryGetValue(key, out var running) && running is SdsCertificateWatcher watcher)
        {
            if (!contexts.ContainsKey(key))
            {
                watcher.Adopt(certificate, sds.VersionInfo);
            }
        }
        else
        {
            // A file whose secret changed kind since the last configuration gets a subscription of the new kind.
            running?.Dispose();
            _watchers.Remove(key);
            _watchers.Add(key, new SdsCertificateWatcher(sds, certificate, stats, time, logger));
        }
        Count(key, updated, contexts);
    }

    // Keeps or starts the subscription a validation context names, and gives the context a validation the subscription swaps.
    private void SubscribeValidation(CertificateValidationPlan validation, System.Security.Cryptography.Oid purpose, Counter updated,
        Dictionary<(string, string), List<Counter>> contexts, Dictionary<CertificateValidationPlan, PeerValidation> validations,
        Dictionary<(string, string), (SdsValidationPlan, List<PeerValidation>)> served)
    {
        if (validation.Sds is not { } sds)
        {
            return;
        }
        var key = (sds.Watch.Path, sds.Watch.SecretName);
        if (!_watchers.TryGetValue(key, out var running) || running is not SdsValidationContextWatcher)
        {
            running?.Dispose();
            _watchers[key] = new SdsValidationContextWatcher(sds.Watch, sds.Secret, stats, time, logger);
        }
        var peer = new PeerValidation(new CertificateValidator(validation, purpose), sds.Default, purpose);
        validations[validation] = peer;
        if (!served.TryGetValue(key, out var entry))
        {
            served.Add(key, entry = (sds, []));
        }
        entry.Item2.Add(peer);
        Count(key, updated, contexts);
    }

    private static void Count((string, string) key, Counter updated, Dictionary<(string, string), List<Counter>> contexts)
    {
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
            return ((SdsCertificateWatcher)_watchers[(sds.Path, sds.SecretName)]).Certificate;
        }
    }

    /// <summary>The swappable validation of a context whose validation context is a file-based secret of the applied configuration; else a fixed one.</summary>
    public PeerValidation ValidationFor(CertificateValidationPlan plan, System.Security.Cryptography.Oid purpose)
    {
        lock (_lock)
        {
            return plan.Sds is not null && _validations.TryGetValue(plan, out var validation) ? validation : PeerValidation.Fixed(plan, purpose);
        }
    }

    /// <summary>The running subscriptions, by secret name (for <c>/config_dump</c>'s dynamic secrets).</summary>
    public IReadOnlyList<SdsSecretWatcher> Active()
    {
        lock (_lock)
        {
            var active = new List<SdsSecretWatcher>(_watchers.Values);
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
