using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Tls;

/// <summary>
/// A listener's TLS termination as it runs: the served certificate, the peer validation of Envoy's DefaultCertValidator
/// (trust chain against <c>trusted_ca</c>, then SANs) and the <c>ssl.*</c> stats. Kestrel's HTTPS middleware asks it
/// for each connection's <see cref="SslServerAuthenticationOptions"/>.
/// </summary>
internal sealed class DownstreamTls
{
    private readonly ServerCertificate[] _certificates;
    private readonly CertificateNames _names;
    private readonly bool _requireSni;
    private readonly bool _fullScan;
    private readonly PeerValidation _validation;
    private readonly CipherSuitesPolicy? _cipherSuites;
    private readonly List<SslApplicationProtocol>? _alpn;
    private readonly System.Security.Authentication.SslProtocols _protocols;
    private readonly bool _requireClientCertificate;
    private readonly bool _allowTlsResume;

    private DownstreamTls(DownstreamTlsPlan plan, TlsStats stats, SdsSubscriptions? secrets)
    {
        Stats = stats;
        _certificates = new ServerCertificate[plan.Certificates.Count];
        for (var i = 0; i < _certificates.Length; i++)
        {
            var certificate = plan.Certificates[i];
            // A file-based secret's certificate is its subscription's, which rotation replaces in place.
            _certificates[i] = certificate.Sds is { } sds && secrets is not null ? secrets.CertificateFor(sds) : ServerCertificate.Load(certificate);
        }
        var leaves = new X509Certificate2[_certificates.Length];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = _certificates[i].Leaf;
        }
        _names = new CertificateNames(leaves);
        _requireSni = plan.RequireSni;
        _fullScan = plan.FullScanCertsOnSniMismatch;
        // A validation context from file-based SDS is swapped by its subscription: each handshake reads the current one.
        _validation = secrets?.ValidationFor(plan.Validation, CertificateValidator.ClientAuthentication)
            ?? PeerValidation.Fixed(plan.Validation, CertificateValidator.ClientAuthentication);
        // Pinned where .NET can (Linux, macOS); Windows' SChannel keeps the system's list.
        _cipherSuites = OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy(plan.CipherSuites);
        _alpn = plan.AlpnProtocols.Count == 0 ? null : [.. plan.AlpnProtocols];
        _protocols = plan.Protocols;
        _allowTlsResume = plan.AllowTlsResume;
        _requireClientCertificate = plan.RequireClientCertificate;
    }

    public TlsStats Stats { get; }

    /// <summary>The certificates served, in configuration order.</summary>
    public IReadOnlyList<ServerCertificate> Certificates => _certificates;

    /// <summary>What <c>/certs</c> shows of this context: the first trusted CA and the served certificates.</summary>
    public TlsContextCertificates LoadedCertificates()
    {
        var validator = _validation.Current;
        return TlsContextCertificates.From(validator.TrustedCa, validator.TrustedCaPath, _certificates);
    }

    /// <summary>
    /// Loads the certificate material of a plan (validated when the configuration was applied); file-based secrets are
    /// served from <paramref name="secrets"/>' subscriptions (without them, as loaded, never rotated).
    /// </summary>
    public static DownstreamTls Build(DownstreamTlsPlan plan, TlsStats stats, SdsSubscriptions? secrets = null) => new(plan, stats, secrets);

    /// <summary>
    /// The options of one connection's handshake; its peer verification reports to <paramref name="state"/>. The
    /// certificate is Envoy's DefaultTlsCertificateSelector's choice by <paramref name="serverName"/> (the ClientHello's
    /// SNI): an exact DNS name, then a wildcard, else the first certificate. Its context is read here, at handshake time,
    /// so a rotated certificate is served by the next handshake.
    /// </summary>
    /// <exception cref="AuthenticationException">require_sni and the SNI is absent or names no certificate: the handshake is refused.</exception>
    public SslServerAuthenticationOptions OptionsFor(TlsHandshakeState state, string? serverName)
    {
        var index = 0;
        if (_certificates.Length > 1 || _requireSni)
        {
            // A file-based secret may have rotated to a certificate with other names since the last handshake.
            for (var i = 0; i < _certificates.Length; i++)
            {
                _names.Refresh(i, _certificates[i].Leaf);
            }
            index = _names.Select(serverName);
        }
        if (index < 0)
        {
            if (_requireSni)
            {
                throw new AuthenticationException(string.IsNullOrEmpty(serverName) ? "require_sni: the ClientHello has no SNI" : "require_sni: no certificate matches the SNI");
            }
            // Envoy scans for a certificate the client supports when there is no SNI, or when one matched nothing and
            // full_scan_certs_on_sni_mismatch is set; otherwise it serves the first certificate.
            index = string.IsNullOrEmpty(serverName) || _fullScan ? _names.ScanChoice : 0;
        }
        // Envoy asks for a client certificate when it can verify one (trusted_ca) or must see one; SAN matchers make one
        // required (CertificateValidationContext.trusted_ca's documentation). Read once: the handshake verifies with it.
        var validator = state.Validator = _validation.Current;
        var required = state.CertificateRequired = _requireClientCertificate || validator.RequiresPeerCertificate;
        var requested = validator.HasTrustedCa || required;
        return new()
        {
            ServerCertificateContext = _certificates[index].Context,
            EnabledSslProtocols = _protocols,
            CipherSuitesPolicy = _cipherSuites,
            ApplicationProtocols = _alpn,
            ClientCertificateRequired = requested,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = requested ? state.Validate : null,
            AllowTlsResume = _allowTlsResume,
        };
    }

    /// <summary>Envoy's DefaultCertValidator::doVerifyCertChain for a client certificate; a failure is counted once.</summary>
    internal bool Verify(TlsHandshakeState state, X509Certificate? certificate, X509Chain? presented)
    {
        if (certificate is null)
        {
            if (!state.CertificateRequired)
            {
                return true;
            }
            Stats.FailVerifyNoCert.Increment();
            state.FailureCounted = true;
            return false;
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (!(state.Validator ?? _validation.Current).Verify(leaf, presented, Stats))
        {
            state.FailureCounted = true;
            return false;
        }
        state.PeerChain = PeerChain(leaf, presented);
        return true;
    }

    /// <summary>
    /// The chain as the peer sent it, leaf first (Envoy's peer certificate chain), copied: SslStream disposes the
    /// validation chain's certificates after the callback.
    /// </summary>
    private static X509Certificate2[] PeerChain(X509Certificate2 leaf, X509Chain? presented)
    {
        var chain = new List<X509Certificate2> { X509CertificateLoader.LoadCertificate(leaf.RawDataMemory.Span) };
        if (presented is not null)
        {
            foreach (var sent in presented.ChainPolicy.ExtraStore)
            {
                if (!sent.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
                {
                    chain.Add(X509CertificateLoader.LoadCertificate(sent.RawDataMemory.Span));
                }
            }
        }
        return [.. chain];
    }

    /// <summary>The connection's TLS facts once its handshake completed (the served certificate's are shared by its connections).</summary>
    internal DownstreamTlsInfo Describe(TlsHandshakeState state, SslStream? stream, SslProtocols protocol, TlsCipherSuite? cipher, X509Certificate2? clientCertificate)
    {
        // The certificate this connection was served (a swapped context may serve another than the configured one):
        // the configured certificate's facts are reused when it is that one, else the served one's are made.
        CertificateFacts? local = null;
        if (stream?.LocalCertificate is { } served)
        {
            var leaf = served as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(served.GetRawCertData());
            foreach (var certificate in _certificates)
            {
                if (ReferenceEquals(certificate.Leaf, leaf) || certificate.Leaf.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
                {
                    local = certificate.Facts;
                    break;
                }
            }
            local ??= new CertificateFacts(leaf);
        }
        CertificateFacts? peer = null;
        if (state.PeerChain is { Length: > 0 } chain)
        {
            peer = new CertificateFacts(chain[0], chain);
        }
        else if (clientCertificate is not null)
        {
            peer = new CertificateFacts(clientCertificate);
        }
        return new DownstreamTlsInfo(protocol, cipher, peer, local);
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

    /// <summary>The validation this handshake verifies with (read once when its options were made).</summary>
    public CertificateValidator? Validator { get; set; }

    /// <summary>The handshake fails without a client certificate.</summary>
    public bool CertificateRequired { get; set; }

    /// <summary>The verified client certificate chain, leaf first (null when none was presented or verified).</summary>
    public X509Certificate2[]? PeerChain { get; set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => Tls.Verify(this, certificate, chain);
}
