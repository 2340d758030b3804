using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Authentication;

namespace Gateway.Stats;

/// <summary>
/// Envoy's SSL context stats (ALL_SSL_STATS) under <c>&lt;scope&gt;.ssl.</c>; <c>ciphers.&lt;name&gt;</c> and
/// <c>versions.&lt;name&gt;</c> appear on first use, as Envoy's dynamic ones do. <c>curves.*</c> and <c>sigalgs.*</c> are
/// not charged: .NET does not expose the negotiated group or signature algorithm.
/// </summary>
internal sealed class TlsStats
{
    private readonly StatsStore _store;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<TlsCipherSuite, Counter> _ciphers = new();
    private readonly ConcurrentDictionary<SslProtocols, Counter> _versions = new();

    public TlsStats(StatsStore store, string scope)
    {
        _store = store;
        _prefix = scope + ".ssl.";
        ConnectionError = store.Counter(_prefix + "connection_error");
        Handshake = store.Counter(_prefix + "handshake");
        SessionReused = store.Counter(_prefix + "session_reused");
        NoCertificate = store.Counter(_prefix + "no_certificate");
        FailVerifyNoCert = store.Counter(_prefix + "fail_verify_no_cert");
        FailVerifyError = store.Counter(_prefix + "fail_verify_error");
        FailVerifySan = store.Counter(_prefix + "fail_verify_san");
        FailVerifyCertHash = store.Counter(_prefix + "fail_verify_cert_hash");
        foreach (var name in Uncharged)
        {
            store.Counter(_prefix + name);
        }
    }

    // Envoy's other SSL counters: OCSP stapling and key usage are not implemented (always 0).
    private static readonly string[] Uncharged =
    [
        "ocsp_staple_failed", "ocsp_staple_omitted", "ocsp_staple_responses", "ocsp_staple_requests",
        "was_key_usage_invalid",
    ];

    public Counter ConnectionError { get; }

    public Counter Handshake { get; }

    /// <summary>Registered for Envoy's name; .NET does not say whether a server session was resumed, so it stays 0.</summary>
    public Counter SessionReused { get; }

    public Counter NoCertificate { get; }

    public Counter FailVerifyNoCert { get; }

    public Counter FailVerifyError { get; }

    public Counter FailVerifySan { get; }

    /// <summary>Neither <c>verify_certificate_hash</c> nor <c>verify_certificate_spki</c> matched.</summary>
    public Counter FailVerifyCertHash { get; }

    /// <summary><c>ciphers.&lt;OpenSSL name&gt;</c>.</summary>
    public Counter Cipher(TlsCipherSuite suite)
        => _ciphers.TryGetValue(suite, out var counter) ? counter
            : _ciphers.GetOrAdd(suite, static (s, self) => self._store.Counter(self._prefix + "ciphers." + Gateway.Tls.TlsCipherNames.NameOf(s)), this);

    /// <summary><c>versions.&lt;TLSv1.3&gt;</c>.</summary>
    public Counter Version(SslProtocols protocol)
        => _versions.TryGetValue(protocol, out var counter) ? counter
            : _versions.GetOrAdd(protocol, static (p, self) => self._store.Counter(self._prefix + "versions." + Gateway.Tls.DownstreamTlsVersions.StatName(p)), this);
}
