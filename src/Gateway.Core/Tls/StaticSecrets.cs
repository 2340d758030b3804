using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// The bootstrap's <c>static_resources.secrets</c> by name, and the certificates and validation context a
/// <c>CommonTlsContext</c> ends up with once its <c>*_sds_secret_config*</c> references are resolved (Envoy's
/// ContextConfigImpl with static secrets: the inline certificates, then those named). Validation and translation
/// read contexts through it; the configuration model stays as written (and as <c>/config_dump</c> shows it).
/// </summary>
internal sealed class StaticSecrets
{
    public static readonly StaticSecrets Empty = new([]);

    private readonly Dictionary<string, TlsCertificate> _certificates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CertificateValidationContext> _validationContexts = new(StringComparer.Ordinal);

    private StaticSecrets(IReadOnlyList<Secret> secrets)
    {
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

    public static StaticSecrets From(StaticResources? resources) => resources is { Secrets.Count: > 0 } ? new StaticSecrets(resources.Secrets) : Empty;

    public TlsCertificate? Certificate(string? name) => name is not null && _certificates.TryGetValue(name, out var certificate) ? certificate : null;

    public CertificateValidationContext? ValidationContext(string? name) => name is not null && _validationContexts.TryGetValue(name, out var validation) ? validation : null;

    /// <summary>The context's certificates: <c>tls_certificates</c>, then the named secrets (unknown names skipped: validation reports them).</summary>
    public IReadOnlyList<TlsCertificate> CertificatesOf(CommonTlsContext common)
    {
        if (common.TlsCertificateSdsSecretConfigs.Count == 0)
        {
            return common.TlsCertificates;
        }
        var certificates = new List<TlsCertificate>(common.TlsCertificates);
        foreach (var reference in common.TlsCertificateSdsSecretConfigs)
        {
            if (Certificate(reference.Name) is { } certificate)
            {
                certificates.Add(certificate);
            }
        }
        return certificates;
    }

    /// <summary>The context's validation context: inline, or the named secret.</summary>
    public CertificateValidationContext? ValidationOf(CommonTlsContext? common)
        => common?.ValidationContext ?? ValidationContext(common?.ValidationContextSdsSecretConfig?.Name);
}
