using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Listeners.Tls;

/// <summary>
/// A listener's TLS termination as it runs: the served certificate, the peer validation of Envoy's DefaultCertValidator
/// (trust chain against <c>trusted_ca</c>, then SANs) and the <c>ssl.*</c> stats. Kestrel's HTTPS middleware asks it
/// for each connection's <see cref="SslServerAuthenticationOptions"/>.
/// </summary>
internal sealed class DownstreamTls
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly SslStreamCertificateContext _certificate;
    private readonly X509Certificate2Collection? _trustedCa;
    private readonly CipherSuitesPolicy? _cipherSuites;
    private readonly List<SslApplicationProtocol>? _alpn;
    private readonly System.Security.Authentication.SslProtocols _protocols;
    private readonly bool _requestCertificate;
    private readonly bool _requireCertificate;
    private readonly bool _allowExpired;
    private readonly bool _acceptUntrusted;
    private readonly SanPredicate[] _subjectAltNames;

    private DownstreamTls(DownstreamTlsPlan plan, TlsStats stats)
    {
        Stats = stats;
        _certificate = TlsMaterial.LoadServerCertificate(plan.CertificateChain, plan.CertificateChainPath, plan.PrivateKey, plan.PrivateKeyPath, out var error)
            ?? throw new InvalidOperationException(error);
        _trustedCa = plan.TrustedCa is { } ca ? TlsMaterial.LoadTrustedCa(ca, plan.TrustedCaPath!, out _) : null;
        // Pinned where .NET can (Linux, macOS); Windows' SChannel keeps the system's list.
        _cipherSuites = OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(plan.CipherSuites);
        _alpn = plan.AlpnProtocols.Count == 0 ? null : [.. plan.AlpnProtocols];
        _protocols = plan.Protocols;
        _subjectAltNames = new SanPredicate[plan.SubjectAltNameMatchers.Count];
        for (var i = 0; i < _subjectAltNames.Length; i++)
        {
            _subjectAltNames[i] = SanPredicate.FromConfig(plan.SubjectAltNameMatchers[i]);
        }
        _allowExpired = plan.AllowExpiredCertificate;
        _acceptUntrusted = plan.AcceptUntrusted;
        // Envoy asks for a client certificate when it can verify one (trusted_ca) or must see one; SAN matchers make one
        // required (CertificateValidationContext.trusted_ca's documentation).
        _requireCertificate = plan.RequireClientCertificate || _subjectAltNames.Length > 0;
        _requestCertificate = _trustedCa is not null || _requireCertificate;
    }

    public TlsStats Stats { get; }

    /// <summary>Loads the certificate material of a plan (validated when the configuration was applied).</summary>
    public static DownstreamTls Build(DownstreamTlsPlan plan, TlsStats stats) => new(plan, stats);

    /// <summary>The options of one connection's handshake; its peer verification reports to <paramref name="state"/>.</summary>
    public SslServerAuthenticationOptions OptionsFor(TlsHandshakeState state) => new()
    {
        ServerCertificateContext = _certificate,
        EnabledSslProtocols = _protocols,
        CipherSuitesPolicy = _cipherSuites,
        ApplicationProtocols = _alpn,
        ClientCertificateRequired = _requestCertificate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = _requestCertificate ? state.Validate : null,
    };

    /// <summary>Envoy's DefaultCertValidator::doVerifyCertChain for a client certificate; a failure is counted once.</summary>
    internal bool Verify(TlsHandshakeState state, X509Certificate? certificate, X509Chain? presented)
    {
        if (certificate is null)
        {
            if (!_requireCertificate)
            {
                return true;
            }
            Stats.FailVerifyNoCert.Increment();
            state.FailureCounted = true;
            return false;
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (_trustedCa is not null && !ChainVerifies(leaf, presented))
        {
            Stats.FailVerifyError.Increment();
            if (!_acceptUntrusted)
            {
                state.FailureCounted = true;
                return false;
            }
        }
        if (_subjectAltNames.Length > 0 && !SubjectAltNames.MatchAny(leaf, _subjectAltNames))
        {
            Stats.FailVerifySan.Increment();
            if (!_acceptUntrusted)
            {
                state.FailureCounted = true;
                return false;
            }
        }
        return true;
    }

    private bool ChainVerifies(X509Certificate2 leaf, X509Chain? presented)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_trustedCa!);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        // OpenSSL verifies a client certificate for the SSL client purpose: an extended key usage must allow it.
        policy.ApplicationPolicy.Add(ClientAuthentication);
        if (_allowExpired)
        {
            policy.VerificationFlags |= X509VerificationFlags.IgnoreNotTimeValid;
        }
        if (presented is not null)
        {
            // The intermediates the client sent with its certificate.
            policy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }
        return chain.Build(leaf);
    }
}

/// <summary>One downstream connection's TLS handshake: whether it completed, and whether peer verification already counted its failure.</summary>
internal sealed class TlsHandshakeState(DownstreamTls tls, ConnectionManagerStats connectionManager)
{
    public DownstreamTls Tls { get; } = tls;

    /// <summary>The connection manager whose codec counters the handshake's outcome charges.</summary>
    public ConnectionManagerStats ConnectionManager { get; } = connectionManager;

    /// <summary>The codec ALPN chose (null until the handshake completed).</summary>
    public bool? Http2 { get; set; }

    /// <summary>The handshake completed (the stats of a completed one are charged).</summary>
    public bool Completed { get; set; }

    /// <summary>Peer verification failed and charged its <c>fail_verify_*</c> stat (so not <c>connection_error</c>).</summary>
    public bool FailureCounted { get; set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => Tls.Verify(this, certificate, chain);
}
