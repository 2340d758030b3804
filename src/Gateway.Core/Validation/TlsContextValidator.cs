using Gateway.Configuration;
using Gateway.Tls;

namespace Gateway.Validation;

/// <summary>
/// Checks a filter chain's <c>transport_socket</c>: a <c>DownstreamTlsContext</c> whose certificates, key and CAs are
/// read and parsed now (as Envoy does when the listener is created), with Envoy's messages naming the source.
/// </summary>
internal sealed partial class TlsContextValidator(ValidationContext context)
{
    /// <summary>Envoy's name of the TLS transport socket.</summary>
    public const string TlsTransportSocketName = "envoy.transport_sockets.tls";

    public void Validate(TransportSocket socket)
    {
        if (string.IsNullOrEmpty(socket.Name) && !socket.HasBindingError("name"))
        {
            context.Error(socket, "name", "Proto constraint validation failed (TransportSocketValidationError.Name: value length must be at least 1 characters)");
        }
        switch (socket.TypedConfig)
        {
            case DownstreamTlsContext tls:
                ValidateDownstream(tls);
                break;
            case null when socket.HasBindingError("typed_config"):
                break;
            case null when string.Equals(socket.Name, TlsTransportSocketName, StringComparison.Ordinal):
                context.Error(socket, "name", $"'{TlsTransportSocketName}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
                break;
            case null when string.IsNullOrEmpty(socket.Name):
                break;
            case null:
                context.Error(socket, "name", $"transport socket '{socket.Name}' is not supported by this gateway; only {TlsTransportSocketName} (DownstreamTlsContext) is");
                break;
            default:
                context.Error(socket, "typed_config", $"{BootstrapValidator.MessageSchemaName(socket.TypedConfig)} is not a downstream transport socket");
                break;
        }
    }

    private void ValidateDownstream(DownstreamTlsContext tls)
    {
        var common = tls.CommonTlsContext;
        if (common is not null)
        {
            ValidateSecretReferences(common);
        }
        var certificates = common is null ? [] : context.Secrets.CertificatesOf(common);
        if (common is null || certificates.Count == 0)
        {
            if (!tls.HasBindingError("common_tls_context") && common?.HasBindingError("tls_certificates") != true)
            {
                context.Error(common ?? (EnvoyMessage)tls, common is null ? "common_tls_context" : "tls_certificates", "No TLS certificates found for server context");
            }
            return;
        }
        foreach (var certificate in common.TlsCertificates)
        {
            ValidateCertificate(certificate);
        }
        if (common.TlsParams is { } parameters)
        {
            ValidateParameters(parameters);
        }
        // A validation context from a secret was validated with the secrets.
        var validation = context.Secrets.ValidationOf(common);
        var hasCa = validation?.TrustedCa is not null;
        if (common.ValidationContext is { } inline)
        {
            ValidateValidationContext(inline);
        }
        if (tls.RequireClientCertificate == true && !hasCa)
        {
            // Envoy only asks for a client certificate when it has CAs to verify it against: requiring one without
            // them would accept any certificate, so it is refused rather than silently weaker.
            context.Error(tls, "require_client_certificate", "require_client_certificate needs common_tls_context.validation_context.trusted_ca to verify the client certificate against");
        }
        ValidateSessionFields(tls);
        foreach (var protocol in common.AlpnProtocols)
        {
            if (protocol.Length is 0 or > 255)
            {
                context.Error(common, "alpn_protocols", $"Invalid ALPN protocol string '{protocol}'");
            }
        }
    }

    /// <summary>
    /// <c>static_resources.secrets</c>: a name each, unique per kind (Envoy's SecretManagerImpl::addStaticSecret), one
    /// kind each, and their material as a context's own.
    /// </summary>
    public void ValidateSecrets(IReadOnlyList<Secret> secrets)
    {
        var certificates = new HashSet<string>(StringComparer.Ordinal);
        var validationContexts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret.Name))
            {
                context.Error(secret, "name", "a static secret needs a name");
                continue;
            }
            if (secret.TlsCertificate is { } certificate)
            {
                if (secret.ValidationContext is not null)
                {
                    context.Error(secret, "validation_context", "a secret is one of tls_certificate, validation_context (both are set)");
                }
                if (!certificates.Add(secret.Name))
                {
                    context.Error(secret, "name", $"Duplicate static TlsCertificate secret name {secret.Name}");
                }
                ValidateCertificate(certificate);
            }
            else if (secret.ValidationContext is { } validation)
            {
                if (!validationContexts.Add(secret.Name))
                {
                    context.Error(secret, "name", $"Duplicate static CertificateValidationContext secret name {secret.Name}");
                }
                ValidateValidationContext(validation);
            }
            else if (!secret.HasBindingError("session_ticket_keys") && !secret.HasBindingError("generic_secret"))
            {
                context.Error(secret, "name", $"static secret '{secret.Name}' needs tls_certificate or validation_context");
            }
        }
    }

    /// <summary>
    /// A context's references to secrets resolve (Envoy's messages), and the validation context is set once. A file-based
    /// SDS reference is read now: its file must exist and hold the named secret with usable material (errors at their
    /// place in that file); <paramref name="fileSds"/> is false where file SDS is not supported yet.
    /// </summary>
    internal void ValidateSecretReferences(CommonTlsContext common, bool fileSds = true)
    {
        foreach (var reference in common.TlsCertificateSdsSecretConfigs)
        {
            if (string.IsNullOrEmpty(reference.Name))
            {
                context.Error(reference, "name", "Proto constraint validation failed (SdsSecretConfigValidationError.Name: value length must be at least 1 characters)");
            }
            else if (reference.SdsConfig is { } source)
            {
                if (!fileSds)
                {
                    context.Error(reference, "sds_config", "SDS (sds_config) is not supported on a cluster's UpstreamTlsContext yet: refer to a static secret by name");
                }
                else if (ValidateFileSource(reference, source))
                {
                    ValidateFileCertificate(reference);
                }
            }
            else if (!reference.HasBindingError("sds_config") && context.Secrets.Certificate(reference) is null)
            {
                context.Error(reference, "name", $"Unknown static secret: {reference.Name}");
            }
        }
        ValidateValidationContextType(common);
    }

    /// <summary>
    /// The one-of <c>validation_context_type</c> (protobuf's JSON parser refuses a second member), and the secret a
    /// validation context is read from: a static one by name, or a file-based SDS one (read now: it must hold a
    /// <c>validation_context</c> that loads). A combined context is checked as Envoy checks it: merged.
    /// </summary>
    private void ValidateValidationContextType(CommonTlsContext common)
    {
        var set = common.ValidationContext is not null ? "validation_context" : null;
        foreach (var (member, present) in (ReadOnlySpan<(string, bool)>)[
            ("validation_context_sds_secret_config", common.ValidationContextSdsSecretConfig is not null),
            ("combined_validation_context", common.CombinedValidationContext is not null)])
        {
            if (!present)
            {
                continue;
            }
            if (set is not null)
            {
                context.Error(common, member, $"oneof field 'validation_context_type' is already set. Cannot set '{member}'");
                return;
            }
            set = member;
        }
        if (common.ValidationContextSdsSecretConfig is { } reference)
        {
            // A static secret was validated with the secrets.
            if (ValidationSecret(reference) is { } secret && reference.SdsConfig is not null)
            {
                ValidateValidationContext(secret);
            }
            return;
        }
        if (common.CombinedValidationContext is not { } combined)
        {
            return;
        }
        const string Required = "Proto constraint validation failed (CommonTlsContext_CombinedCertificateValidationContextValidationError.{0}: value is required)";
        if (combined.DefaultValidationContext is null)
        {
            context.Error(combined, "default_validation_context", string.Format(System.Globalization.CultureInfo.InvariantCulture, Required, "DefaultValidationContext"));
        }
        if (combined.ValidationContextSdsSecretConfig is not { } combinedReference)
        {
            context.Error(combined, "validation_context_sds_secret_config", string.Format(System.Globalization.CultureInfo.InvariantCulture, Required, "ValidationContextSdsSecretConfig"));
            return;
        }
        var dynamic = ValidationSecret(combinedReference);
        if (combined.DefaultValidationContext is { } defaults)
        {
            ValidateValidationContext(defaults, whole: false);
        }
        if (dynamic is null || combined.DefaultValidationContext is null)
        {
            return;
        }
        if (combinedReference.SdsConfig is not null)
        {
            ValidateValidationContext(dynamic, whole: false);
        }
        // Each part alone may be partial (SAN matchers in the default, the CAs from SDS): the merged context must pass.
        ValidateCombination(Tls.TlsSecrets.Merge(combined.DefaultValidationContext, dynamic), combined, "default_validation_context", "default_validation_context");
    }

    /// <summary>The validation context a reference names, or null with the error (unknown static secret, unreadable file, not a validation context).</summary>
    private CertificateValidationContext? ValidationSecret(SdsSecretConfig reference)
    {
        if (string.IsNullOrEmpty(reference.Name))
        {
            context.Error(reference, "name", "Proto constraint validation failed (SdsSecretConfigValidationError.Name: value length must be at least 1 characters)");
            return null;
        }
        if (reference.SdsConfig is not { } source)
        {
            var validation = reference.HasBindingError("sds_config") ? null : context.Secrets.ValidationContext(reference);
            if (validation is null && !reference.HasBindingError("sds_config"))
            {
                context.Error(reference, "name", $"Unknown static certificate validation context: {reference.Name}");
            }
            return validation;
        }
        if (!ValidateFileSource(reference, source) || FileSecret(reference) is not { } secret)
        {
            return null;
        }
        if (secret.ValidationContext is not { } fromFile)
        {
            context.Error(secret, "name", $"SDS secret {reference.Name} is not a validation_context");
            return null;
        }
        return fromFile;
    }

    /// <summary>A file source: a path, the v3 API, and a watched directory that exists.</summary>
    private bool ValidateFileSource(SdsSecretConfig reference, EnvoyConfigSource source)
    {
        if (reference.HasBindingError("sds_config"))
        {
            return false;
        }
        return ConfigSourceValidator.ValidateFileOnly(context, source, "sds_config", mustExist: false);
    }

    /// <summary>The secret a file-based reference reads, or null after reporting why it cannot be read (at its place in that file).</summary>
    private Secret? FileSecret(SdsSecretConfig reference)
    {
        var (secret, errors) = context.Secrets.FileSecret(reference);
        if (secret is null)
        {
            foreach (var error in errors)
            {
                // A file that cannot be read is reported where the configuration names it.
                context.Errors.Add(error.Location == SourceLocation.None ? new ConfigError(reference.SdsConfig!.Location, error.Message) : error);
            }
        }
        return secret;
    }

    private void ValidateFileCertificate(SdsSecretConfig reference)
    {
        if (FileSecret(reference) is not { } secret)
        {
            return;
        }
        if (secret.TlsCertificate is not { } certificate)
        {
            context.Error(secret, "name", $"SDS secret {reference.Name} is not a tls_certificate");
            return;
        }
        ValidateCertificate(certificate);
    }

    internal void ValidateCertificate(TlsCertificate certificate)
    {
        if (certificate.CertificateChain is not { } chainSource)
        {
            context.Error(certificate, "certificate_chain", "a TLS certificate needs certificate_chain");
            return;
        }
        if (certificate.PrivateKey is not { } keySource)
        {
            context.Error(certificate, "private_key", "a TLS certificate needs private_key");
            return;
        }
        var chain = TlsMaterial.Read(chainSource, out var chainError);
        if (chainError is not null)
        {
            context.Error(certificate, "certificate_chain", chainError);
        }
        var key = TlsMaterial.Read(keySource, out var keyError);
        if (keyError is not null)
        {
            context.Error(certificate, "private_key", keyError);
        }
        if (chain is null || key is null)
        {
            return;
        }
        if (TlsMaterial.ParseCertificates(chain).Count == 0)
        {
            context.Error(certificate, "certificate_chain", $"Failed to load certificate chain from {TlsMaterial.PathOf(chainSource)}");
            return;
        }
        // A trial load: the runtime loads its own from the plan.
        TlsMaterial.LoadServerCertificate(chain, TlsMaterial.PathOf(chainSource), key, TlsMaterial.PathOf(keySource), out var error)?.TargetCertificate.Dispose();
        if (error is not null)
        {
            context.Error(certificate, "private_key", error);
        }
    }

    internal void ValidateParameters(TlsParameters parameters)
    {
        var min = DownstreamTlsVersions.Minimum(parameters.TlsMinimumProtocolVersion);
        var max = DownstreamTlsVersions.Maximum(parameters.TlsMaximumProtocolVersion);
        if (min > max)
        {
            context.Error(parameters, "tls_minimum_protocol_version",
                $"tls_minimum_protocol_version {DownstreamTlsVersions.Name(min)} is greater than tls_maximum_protocol_version {DownstreamTlsVersions.Name(max)}");
        }
        var rejected = new List<string>();
        foreach (var cipher in parameters.CipherSuites)
        {
            if (cipher.StartsWith('[') || cipher.Contains('|', StringComparison.Ordinal))
            {
                context.Error(parameters, "cipher_suites", $"cipher suite '{cipher}': equal-preference groups are a BoringSSL feature that .NET's TLS cannot honour; list the suites in order instead");
            }
            else if (TlsCipherNames.Find(cipher) is null)
            {
                rejected.Add(cipher);
            }
        }
        if (rejected.Count > 0)
        {
            context.Error(parameters, "cipher_suites",
                $"Failed to initialize cipher suites {string.Join(':', parameters.CipherSuites)}. The following ciphers were rejected when tried individually: {string.Join(", ", rejected)}");
        }
        if (parameters.EcdhCurves.Count > 0)
        {
            context.Error(parameters, "ecdh_curves", "ecdh_curves cannot be honoured: .NET's SslStream has no way to restrict the key exchange groups (the system's OpenSSL defaults apply)");
        }
    }

    /// <summary>Session resumption, OCSP and cipher preference: honoured where SslStream can, else refused with why.</summary>
    private void ValidateSessionFields(DownstreamTlsContext tls)
    {
        if (tls.SessionTicketKeys is not null)
        {
            context.Error(tls, "session_ticket_keys", "session_ticket_keys cannot be honoured: .NET's SslStream makes its own session ticket keys and cannot be given them");
        }
        if (tls.SessionTimeout is not null)
        {
            context.Error(tls, "session_timeout", "session_timeout cannot be honoured: .NET's SslStream does not let the TLS session lifetime be set");
        }
        if (tls.DisableStatelessSessionResumption != tls.DisableStatefulSessionResumption)
        {
            context.Error(tls, tls.DisableStatelessSessionResumption ? "disable_stateless_session_resumption" : "disable_stateful_session_resumption",
                ".NET's SslStream allows or disallows TLS resumption as a whole: set both disable_stateless_session_resumption and disable_stateful_session_resumption, or neither");
        }
        if (tls.OcspStaplePolicy != OcspStaplePolicy.LenientStapling)
        {
            context.Error(tls, "ocsp_staple_policy", "ocsp_staple_policy STRICT_STAPLING and MUST_STAPLE cannot be honoured: OCSP staples (TlsCertificate.ocsp_staple) are not supported");
        }
        if (tls.PreferClientCiphers)
        {
            context.Error(tls, "prefer_client_ciphers", "prefer_client_ciphers cannot be honoured: .NET's SslStream does not let the server follow the client's cipher order");
        }
    }

    /// <summary>
    /// A validation context's fields (their material loads, pins decode, matchers are whole), and with
    /// <paramref name="whole"/> how they combine; a part of a combined context is checked without (its merge is).
    /// </summary>
    internal void ValidateValidationContext(CertificateValidationContext validation, bool whole = true)
    {
        if (validation.TrustedCa is { } caSource)
        {
            if (TlsMaterial.Read(caSource, out var error) is { } pem)
            {
                TlsMaterial.LoadTrustedCa(pem, TlsMaterial.PathOf(caSource), out error);
            }
            if (error is not null)
            {
                context.Error(validation, "trusted_ca", error);
            }
        }
        if (validation.Crl is { } crlSource)
        {
            if (TlsMaterial.Read(crlSource, out var crlError) is { } crlPem)
            {
                RevocationLists.Load(crlPem, TlsMaterial.PathOf(crlSource), leafOnly: false, out crlError);
            }
            if (crlError is not null)
            {
                context.Error(validation, "crl", crlError);
            }
        }
        if (whole)
        {
            ValidateCombination(validation, validation, "match_typed_subject_alt_names", "crl");
        }
        // Envoy's DefaultCertValidator: each pin must decode to a SHA-256 digest.
        foreach (var hash in validation.VerifyCertificateHash)
        {
            if (CertificatePins.ParseHash(hash) is null)
            {
                context.Error(validation, "verify_certificate_hash", $"Invalid hex-encoded SHA-256 {hash}");
            }
        }
        foreach (var spki in validation.VerifyCertificateSpki)
        {
            if (CertificatePins.ParseSpki(spki) is null)
            {
                context.Error(validation, "verify_certificate_spki", $"Invalid base64-encoded SHA-256 {spki}");
            }
        }
        var matchers = new MatcherValidator(context);
        foreach (var san in validation.MatchTypedSubjectAltNames)
        {
            if (san.SanType is SanType.SAN_TYPE_UNSPECIFIED or SanType.OTHER_NAME && !san.HasBindingError("san_type"))
            {
                context.Error(san, "san_type", san.SanType == SanType.OTHER_NAME
                    ? "san_type OTHER_NAME needs oid, which is not supported"
                    : "san_type must be one of EMAIL, DNS, URI, IP_ADDRESS");
            }
            if (san.Matcher is { } matcher)
            {
                matchers.ValidateStringMatcher(matcher);
            }
            else if (!san.HasBindingError("matcher"))
            {
                context.Error(san, "matcher", "a subject alt name matcher needs matcher");
            }
        }
    }

    /// <summary>What the fields of a validation context need of each other, reported at <paramref name="owner"/>'s fields.</summary>
    private void ValidateCombination(CertificateValidationContext validation, EnvoyMessage owner, string sanField, string crlField)
    {
        if (validation.TrustedCa is not null)
        {
            return;
        }
        if (validation.MatchTypedSubjectAltNames.Count > 0)
        {
            context.Error(owner, sanField, "SAN-based verification of peer certificates without trusted CA is insecure and not allowed");
        }
        if (validation.Crl is not null)
        {
            // Envoy checks CRLs while verifying the chain: without trusted_ca they would be silently unused.
            context.Error(owner, crlField, "crl needs trusted_ca (CRLs are checked on the verified chain)");
        }
    }
}
