using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// The secrets TLS contexts refer to by name: the bootstrap's <c>static_resources.secrets</c>, and secrets read from a
/// file-based SDS source (<c>sds_config</c> with <c>path_config_source</c>), each file read once per load. Resolves the
/// certificates and validation context a <c>CommonTlsContext</c> ends up with (Envoy's ContextConfigImpl: the inline
/// certificates, then those named). Validation and translation read contexts through it; the configuration model
/// stays as written (and as <c>/config_dump</c> shows it).
/// </summary>
internal sealed class TlsSecrets
{
    public static readonly TlsSecrets Empty = new([], null);

    private readonly Dictionary<string, TlsCertificate> _certificates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CertificateValidationContext> _validationContexts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Path, string Name), (SdsFileContent Content, List<ConfigError> Errors)> _files = [];
    private readonly EnvoyTypeRegistry? _types;

    private TlsSecrets(IReadOnlyList<Secret> secrets, EnvoyTypeRegistry? types)
    {
        _types = types;
        foreach (var secret in secrets)
        {
            // The first of a duplicated name is kept: the duplicate is a validation error.
            if (secret.Name is not { } name)
            {
                continue;
            }
            if (secret.TlsCertificate is { } certificate)
            {
                _certificates.TryAdd(name, certificate);
            }
            else if (secret.ValidationContext is { } validation)
            {
                _validationContexts.TryAdd(name, validation);
            }
        }
    }

    public static TlsSecrets From(StaticResources? resources, EnvoyTypeRegistry types) => new(resources?.Secrets ?? [], types);

    /// <summary>The secret a file-based SDS reference names, read once per load, with the errors of reading it.</summary>
    public (Secret? Secret, IReadOnlyList<ConfigError> Errors) FileSecret(SdsSecretConfig reference)
    {
        var (content, errors) = File(reference);
        return (content.Secret, errors);
    }

    /// <summary>The <c>version_info</c> of the DiscoveryResponse a file-based SDS reference was read from.</summary>
    public string? FileVersion(SdsSecretConfig reference) => File(reference).Content.VersionInfo;

    private (SdsFileContent Content, List<ConfigError> Errors) File(SdsSecretConfig reference)
    {
        var path = DiscoveryFile.PathOf(reference.SdsConfig!) ?? string.Empty;
        var key = (path, reference.Name ?? string.Empty);
        if (!_files.TryGetValue(key, out var entry))
        {
            var errors = new List<ConfigError>();
            entry = (_types is null ? default : SdsFile.Read(path, key.Item2, _types, errors), errors);
            _files.Add(key, entry);
        }
        return entry;
    }

    /// <summary>The certificate a reference names: the file's secret with <c>sds_config</c>, else the static one.</summary>
    public TlsCertificate? Certificate(SdsSecretConfig reference)
        => reference.SdsConfig is not null ? FileSecret(reference).Secret?.TlsCertificate
            : reference.Name is { } name && _certificates.TryGetValue(name, out var certificate) ? certificate : null;

    /// <summary>The validation context a reference names: the file's secret with <c>sds_config</c>, else the static one.</summary>
    public CertificateValidationContext? ValidationContext(SdsSecretConfig reference)
        => reference.SdsConfig is not null ? FileSecret(reference).Secret?.ValidationContext
            : reference.Name is { } name && _validationContexts.TryGetValue(name, out var validation) ? validation : null;

    /// <summary>The reference the context's validation context comes from (alone or combined), or null when it is inline or absent.</summary>
    public static SdsSecretConfig? ValidationReferenceOf(CommonTlsContext? common)
        => common?.ValidationContextSdsSecretConfig ?? common?.CombinedValidationContext?.ValidationContextSdsSecretConfig;

    /// <summary>
    /// Envoy's combined validation context: a copy of <paramref name="defaults"/> with <paramref name="dynamic"/> merged over
    /// it by protobuf's MergeFrom (ContextConfigImpl::getCombinedValidationContextConfig): a singular field the secret sets
    /// replaces the default's, repeated fields are the default's followed by the secret's, booleans are or-ed and an enum
    /// left at its zero value keeps the default's. The result is located at the default.
    /// </summary>
    public static CertificateValidationContext Merge(CertificateValidationContext defaults, CertificateValidationContext dynamic) => new()
    {
        Location = defaults.Location,
        TrustedCa = dynamic.TrustedCa ?? defaults.TrustedCa,
        VerifyCertificateHash = [.. defaults.VerifyCertificateHash, .. dynamic.VerifyCertificateHash],
        VerifyCertificateSpki = [.. defaults.VerifyCertificateSpki, .. dynamic.VerifyCertificateSpki],
        Crl = dynamic.Crl ?? defaults.Crl,
        OnlyVerifyLeafCertCrl = defaults.OnlyVerifyLeafCertCrl || dynamic.OnlyVerifyLeafCertCrl,
        AllowExpiredCertificate = defaults.AllowExpiredCertificate || dynamic.AllowExpiredCertificate,
        TrustChainVerification = dynamic.TrustChainVerification != TrustChainVerification.VerifyTrustChain ? dynamic.TrustChainVerification : defaults.TrustChainVerification,
        MatchTypedSubjectAltNames = [.. defaults.MatchTypedSubjectAltNames, .. dynamic.MatchTypedSubjectAltNames],
    };

    /// <summary>The context's certificates with the reference each came from (null for <c>tls_certificates</c>); unresolved names are skipped (validation reports them).</summary>
    public IReadOnlyList<(TlsCertificate Certificate, SdsSecretConfig? Reference)> CertificateSourcesOf(CommonTlsContext common)
    {
        var certificates = new List<(TlsCertificate, SdsSecretConfig?)>(common.TlsCertificates.Count + common.TlsCertificateSdsSecretConfigs.Count);
        foreach (var certificate in common.TlsCertificates)
        {
            certificates.Add((certificate, null));
        }
        foreach (var reference in common.TlsCertificateSdsSecretConfigs)
        {
            if (Certificate(reference) is { } certificate)
            {
                certificates.Add((certificate, reference));
            }
        }
        return certificates;
    }

    /// <summary>The context's certificates: <c>tls_certificates</c>, then the named secrets.</summary>
    public IReadOnlyList<TlsCertificate> CertificatesOf(CommonTlsContext common)
    {
        if (common.TlsCertificateSdsSecretConfigs.Count == 0)
        {
            return common.TlsCertificates;
        }
        var sources = CertificateSourcesOf(common);
        var certificates = new TlsCertificate[sources.Count];
        for (var i = 0; i < certificates.Length; i++)
        {
            certificates[i] = sources[i].Certificate;
        }
        return certificates;
    }

    /// <summary>
    /// The context's validation context: inline, the named secret, or the combined default with the named secret merged
    /// over it (the default alone while the secret does not resolve: validation reports that).
    /// </summary>
    public CertificateValidationContext? ValidationOf(CommonTlsContext? common)
    {
        if (common?.ValidationContext is { } inline)
        {
            return inline;
        }
        if (common?.ValidationContextSdsSecretConfig is { } reference)
        {
            return ValidationContext(reference);
        }
        if (common?.CombinedValidationContext is not { } combined)
        {
            return null;
        }
        var dynamic = combined.ValidationContextSdsSecretConfig is { } secret ? ValidationContext(secret) : null;
        return combined.DefaultValidationContext is not { } defaults ? dynamic : dynamic is null ? defaults : Merge(defaults, dynamic);
    }
}
