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
        var path = SdsFile.PathOf(reference.SdsConfig!) ?? string.Empty;
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

    /// <summary>The validation context a reference names (static secrets only: file SDS validation contexts are refused).</summary>
    public CertificateValidationContext? ValidationContext(SdsSecretConfig reference)
        => reference.SdsConfig is null && reference.Name is { } name && _validationContexts.TryGetValue(name, out var validation) ? validation : null;

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

    /// <summary>The context's validation context: inline, or the named secret.</summary>
    public CertificateValidationContext? ValidationOf(CommonTlsContext? common)
        => common?.ValidationContext ?? (common?.ValidationContextSdsSecretConfig is { } reference ? ValidationContext(reference) : null);
}
