using Gateway.Configuration;
using Gateway.Tls;

namespace Gateway.Translation;

/// <summary>One served (or, upstream, presented) certificate: its PEM chain and private key as read when the configuration was applied.</summary>
internal sealed record TlsCertificatePlan(byte[] CertificateChain, string CertificateChainPath, byte[] PrivateKey, string PrivateKeyPath)
{
    /// <summary>Where a file-based SDS secret is reloaded from when its file is replaced; null for static material.</summary>
    public SdsWatchPlan? Sds { get; init; }

    /// <summary>Translates a validated <c>TlsCertificate</c>.</summary>
    public static TlsCertificatePlan Translate(TlsCertificate certificate)
        => new(Read(certificate.CertificateChain!), TlsMaterial.PathOf(certificate.CertificateChain!),
            Read(certificate.PrivateKey!), TlsMaterial.PathOf(certificate.PrivateKey!));

    /// <summary>Translates a certificate named by <paramref name="reference"/> (null: inline); a file-based SDS one records where it is watched.</summary>
    public static TlsCertificatePlan Translate(TlsCertificate certificate, SdsSecretConfig? reference, Tls.TlsSecrets secrets)
    {
        var plan = Translate(certificate);
        if (reference?.SdsConfig is not { } source)
        {
            return plan;
        }
        return plan with { Sds = SdsWatchPlan.From(reference, source, secrets) };
    }

    internal static byte[] Read(DataSource source) => TlsMaterial.Read(source, out _) ?? [];
}

/// <summary>
/// A file-based SDS secret: the DiscoveryResponse file (full path), the directory whose moves reload it (all moves with
/// <c>watched_directory</c>, else only the file's own), the secret's name, and the response's <c>version_info</c> as read.
/// </summary>
internal sealed record SdsWatchPlan(string Path, string Directory, bool WholeDirectory, string SecretName, string? VersionInfo)
{
    /// <summary>Where a validated file-based reference is read and watched.</summary>
    public static SdsWatchPlan From(SdsSecretConfig reference, EnvoyConfigSource source, Tls.TlsSecrets secrets)
        => new(System.IO.Path.GetFullPath(DiscoveryFile.PathOf(source)!), DiscoveryFile.DirectoryOf(source),
            source.PathConfigSource?.WatchedDirectory is not null, reference.Name!, secrets.FileVersion(reference));
}

/// <summary>
/// A validation context from a file-based SDS secret: where it is watched, the secret's validation context as read (the
/// subscription starts from it), and the <c>combined_validation_context</c> default each update is merged into (or null).
/// </summary>
internal sealed record SdsValidationPlan(SdsWatchPlan Watch, CertificateValidationContext Secret, CertificateValidationContext? Default);

/// <summary>
/// How a peer certificate is verified (<c>CertificateValidationContext</c>), shared by downstream and upstream contexts:
/// the trusted CAs as read when the configuration was applied, the SAN matchers and the relaxations.
/// </summary>
internal sealed record CertificateValidationPlan(
    byte[]? TrustedCa,
    string? TrustedCaPath,
    bool AllowExpiredCertificate,
    bool AcceptUntrusted,
    IReadOnlyList<SubjectAltNameMatcher> SubjectAltNameMatchers)
{
    /// <summary><c>verify_certificate_hash</c>: SHA-256 digests of accepted certificates (DER).</summary>
    public IReadOnlyList<byte[]> CertificateHashes { get; init; } = [];

    /// <summary><c>verify_certificate_spki</c>: SHA-256 digests of accepted SubjectPublicKeyInfos.</summary>
    public IReadOnlyList<byte[]> SpkiHashes { get; init; } = [];

    /// <summary><c>crl</c> as read when the configuration was applied, or null.</summary>
    public byte[]? Crl { get; init; }

    /// <summary>Where <see cref="Crl"/> was read from.</summary>
    public string? CrlPath { get; init; }

    /// <summary><c>only_verify_leaf_cert_crl</c>.</summary>
    public bool OnlyVerifyLeafCertCrl { get; init; }

    /// <summary>Set when the context comes from a file-based SDS secret, which replaces it when the secret is updated.</summary>
    public SdsValidationPlan? Sds { get; init; }

    /// <summary>No validation context: nothing is verified.</summary>
    public static readonly CertificateValidationPlan None = new(null, null, false, false, []);

    /// <summary>Translates a validated <c>CommonTlsContext</c>'s validation context (inline, a secret, or combined); a file-based secret records where it is watched.</summary>
    public static CertificateValidationPlan Translate(CommonTlsContext? common, Tls.TlsSecrets secrets)
    {
        var plan = Translate(secrets.ValidationOf(common));
        if (Tls.TlsSecrets.ValidationReferenceOf(common) is not { SdsConfig: { } source } reference || secrets.ValidationContext(reference) is not { } secret)
        {
            return plan;
        }
        return plan with { Sds = new SdsValidationPlan(SdsWatchPlan.From(reference, source, secrets), secret, common!.CombinedValidationContext?.DefaultValidationContext) };
    }

    /// <summary>Translates a validated context; <see cref="None"/> when there is none.</summary>
    public static CertificateValidationPlan Translate(CertificateValidationContext? validation)
        => validation is null ? None : new(
            validation.TrustedCa is { } ca ? TlsCertificatePlan.Read(ca) : null,
            validation.TrustedCa is { } caPath ? TlsMaterial.PathOf(caPath) : null,
            validation.AllowExpiredCertificate,
            validation.TrustChainVerification == TrustChainVerification.AcceptUntrusted,
            validation.MatchTypedSubjectAltNames)
        {
            CertificateHashes = validation.VerifyCertificateHash.ConvertAll(static h => CertificatePins.ParseHash(h)!),
            SpkiHashes = validation.VerifyCertificateSpki.ConvertAll(static h => CertificatePins.ParseSpki(h)!),
            Crl = validation.Crl is { } crl ? TlsCertificatePlan.Read(crl) : null,
            CrlPath = validation.Crl is { } crlPath ? TlsMaterial.PathOf(crlPath) : null,
            OnlyVerifyLeafCertCrl = validation.OnlyVerifyLeafCertCrl,
        };
}

/// <summary><c>tls_params</c> as both sides use them: the version range (TLS_AUTO: 1.2 to 1.3) and the pinned cipher suites.</summary>
internal static class TlsParametersTranslation
{
    /// <summary>Every version from the configured minimum to maximum.</summary>
    public static System.Security.Authentication.SslProtocols Protocols(TlsParameters? parameters)
        => DownstreamTlsVersions.Range(
            DownstreamTlsVersions.Minimum(parameters?.TlsMinimumProtocolVersion ?? TlsProtocol.TLS_AUTO),
            DownstreamTlsVersions.Maximum(parameters?.TlsMaximumProtocolVersion ?? TlsProtocol.TLS_AUTO));

    /// <summary>The configured TLS 1.0-1.2 suites (else Envoy's default list, the same for servers and clients), then TLS 1.3's.</summary>
    public static List<System.Net.Security.TlsCipherSuite> CipherSuites(TlsParameters? parameters)
    {
        var suites = new List<System.Net.Security.TlsCipherSuite>();
        foreach (var name in parameters is { CipherSuites.Count: > 0 } ? parameters.CipherSuites : (IEnumerable<string>)TlsCipherNames.EnvoyServerDefault)
        {
            suites.Add(TlsCipherNames.Find(name)!.Value);
        }
        suites.AddRange(TlsCipherNames.Tls13);
        return suites;
    }
}
