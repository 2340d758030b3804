using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Tls;

/// <summary>
/// Envoy's DefaultCertValidator for a peer certificate that was presented: the trust chain against <c>trusted_ca</c>, then
/// the SAN matchers, each failure charging its <c>ssl.fail_verify_*</c> stat. Downstream contexts verify client
/// certificates and upstream contexts server certificates (the chain's purpose differs, as OpenSSL's does).
/// </summary>
internal sealed class CertificateValidator
{
    /// <summary>OpenSSL's SSL client purpose: the extended key usage must allow client authentication.</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>OpenSSL's SSL server purpose.</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Certificate2Collection? _trustedCa;
    private readonly Oid _purpose;
    private readonly bool _allowExpired;
    private readonly bool _acceptUntrusted;
    private readonly SanPredicate[] _subjectAltNames;
    private readonly IReadOnlyList<byte[]> _certificateHashes;
    private readonly IReadOnlyList<byte[]> _spkiHashes;
    private readonly RevocationLists? _crls;

    public CertificateValidator(CertificateValidationPlan plan, Oid purpose)
    {
        _trustedCa = plan.TrustedCa is { } ca ? TlsMaterial.LoadTrustedCa(ca, plan.TrustedCaPath!, out _) : null;
        TrustedCaPath = plan.TrustedCaPath;
        _purpose = purpose;
        _allowExpired = plan.AllowExpiredCertificate;
        _acceptUntrusted = plan.AcceptUntrusted;
        _certificateHashes = plan.CertificateHashes;
        _spkiHashes = plan.SpkiHashes;
        _crls = plan.Crl is { } crl ? RevocationLists.Load(crl, plan.CrlPath!, plan.OnlyVerifyLeafCertCrl, out _) : null;
        _subjectAltNames = new SanPredicate[plan.SubjectAltNameMatchers.Count];
        for (var i = 0; i < _subjectAltNames.Length; i++)
        {
            _subjectAltNames[i] = SanPredicate.FromConfig(plan.SubjectAltNameMatchers[i]);
        }
    }

    // The same validation without SAN matchers (auto_san_validation matches the request host instead).
    private CertificateValidator(CertificateValidator source)
    {
        _trustedCa = source._trustedCa;
        TrustedCaPath = source.TrustedCaPath;
        _purpose = source._purpose;
        _allowExpired = source._allowExpired;
        _acceptUntrusted = source._acceptUntrusted;
        _certificateHashes = source._certificateHashes;
        _spkiHashes = source._spkiHashes;
        _crls = source._crls;
        _subjectAltNames = [];
    }

    /// <summary>This validation with the SAN matchers left out (made on first use; shares the loaded CAs and CRLs).</summary>
    public CertificateValidator WithoutSubjectAltNames => field ??= _subjectAltNames.Length == 0 ? this : new CertificateValidator(this);

    /// <summary>The CAs a peer certificate must chain to, or null (for <c>/certs</c>).</summary>
    public X509Certificate2Collection? TrustedCa => _trustedCa;

    /// <summary>Where <see cref="TrustedCa"/> was read from (a path or <c>&lt;inline&gt;</c>).</summary>
    public string? TrustedCaPath { get; }

    /// <summary>A trust chain is verified.</summary>
    public bool HasTrustedCa => _trustedCa is not null;

    /// <summary>SANs are matched (which, downstream, makes a client certificate required).</summary>
    public bool HasSubjectAltNameMatchers => _subjectAltNames.Length > 0;

    /// <summary>
    /// SAN matchers or certificate pins are set: Envoy then fails a handshake without a peer certificate
    /// (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
    /// </summary>
    public bool RequiresPeerCertificate => _subjectAltNames.Length > 0 || _certificateHashes.Count > 0 || _spkiHashes.Count > 0;

    /// <summary>Verifies <paramref name="leaf"/>; false when the handshake must fail (the failure is charged to <paramref name="stats"/>).</summary>
    public bool Verify(X509Certificate2 leaf, X509Chain? presented, TlsStats stats)
    {
        if (_trustedCa is not null && !ChainVerifies(leaf, presented))
        {
            stats.FailVerifyError.Increment();
            if (!_acceptUntrusted)
            {
                return false;
            }
        }
        if (_subjectAltNames.Length > 0 && !SubjectAltNames.MatchAny(leaf, _subjectAltNames))
        {
            stats.FailVerifySan.Increment();
            if (!_acceptUntrusted)
            {
                return false;
            }
        }
        if ((_certificateHashes.Count > 0 || _spkiHashes.Count > 0) && !CertificatePins.Match(leaf, _certificateHashes, _spkiHashes))
        {
            stats.FailVerifyCertHash.Increment();
            if (!_acceptUntrusted)
            {
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
        policy.ApplicationPolicy.Add(_purpose);
        if (_allowExpired)
        {
            policy.VerificationFlags |= X509VerificationFlags.IgnoreNotTimeValid;
        }
        if (presented is not null)
        {
            // The intermediates the peer sent with its certificate.
            policy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }
        return chain.Build(leaf) && (_crls is null || _crls.Accepts(chain));
    }
}
