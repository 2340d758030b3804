using System.Security.Cryptography;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// A file-based SDS subscription to a <c>validation_context</c> secret (Envoy's CertificateValidationContextSdsApi). Its
/// data files are <c>trusted_ca</c> and <c>crl</c>. Each update is read once (the files' content taken in, as Envoy's
/// resolveSecret inlines it), merged into each using context's default (<c>combined_validation_context</c>), checked as
/// the configuration would be and compiled; only when every context accepts it are they all swapped
/// (<see cref="PeerValidation.Replace"/>), else the update is refused and the last good one kept.
/// </summary>
internal sealed class SdsValidationContextWatcher : SdsSecretWatcher
{
    private CertificateValidationContext _secret;
    private byte[] _hash;
    private PeerValidation[] _validations = [];

    public SdsValidationContextWatcher(SdsWatchPlan plan, CertificateValidationContext initial, StatsStore store, TimeProvider time, ILogger logger)
        : base(plan, store, time, logger)
    {
        _secret = initial;
        _hash = Resolve(initial, out _, out _)?.Hash ?? [];
        SetDataFiles(initial.TrustedCa?.Filename, initial.Crl?.Filename);
    }

    /// <summary>The secret as last accepted, as its file gave it (for <c>/config_dump</c>).</summary>
    public override Configuration.Secret Secret()
    {
        lock (Gate)
        {
            return new Configuration.Secret { Name = Plan.SecretName, ValidationContext = _secret };
        }
    }

    /// <summary>The validations of the contexts using the secret (set when a configuration is applied, compiled by it from what it read).</summary>
    public void Serve(PeerValidation[] validations, CertificateValidationContext secret, string? versionInfo)
    {
        lock (Gate)
        {
            _validations = validations;
            if (Resolve(secret, out _, out _) is { } resolved && !resolved.Hash.AsSpan().SequenceEqual(_hash))
            {
                _secret = secret;
                _hash = resolved.Hash;
                SetDataFiles(secret.TrustedCa?.Filename, secret.Crl?.Filename);
            }
            VersionInfo = versionInfo;
        }
    }

    protected override bool TryAccept(Configuration.Secret secret, out string error)
    {
        if (secret.ValidationContext is not { } validation)
        {
            error = $"SDS secret {Plan.SecretName} is not a validation_context";
            return false;
        }
        return TryUse(validation, out error);
    }

    protected override bool TryReloadFiles(out string path, out string error)
    {
        path = _secret.TrustedCa is { } ca ? TlsMaterial.PathOf(ca) : Plan.Path;
        return TryUse(_secret, out error);
    }

    /// <summary>Compiles <paramref name="secret"/> for every context; swaps them all only when each accepts it (an unchanged secret changes nothing).</summary>
    private bool TryUse(CertificateValidationContext secret, out string error)
    {
        if (Resolve(secret, out var caPath, out error) is not { } resolved)
        {
            return false;
        }
        if (resolved.Hash.AsSpan().SequenceEqual(_hash))
        {
            return true;
        }
        var compiled = new CertificateValidator[_validations.Length];
        for (var i = 0; i < compiled.Length; i++)
        {
            var validation = _validations[i];
            var merged = validation.Default is { } defaults ? TlsSecrets.Merge(defaults, resolved.Context) : resolved.Context;
            // Envoy's validation callbacks: the merged context must pass what the configuration's would.
            var check = new Validation.ValidationContext(Types);
            new Validation.TlsContextValidator(check).ValidateValidationContext(merged);
            if (check.Errors.Count > 0)
            {
                error = check.Errors[0].Message;
                return false;
            }
            var plan = CertificateValidationPlan.Translate(merged);
            // The material was read from the secret's files: /certs names them, not <inline>.
            compiled[i] = new CertificateValidator(plan with
            {
                TrustedCaPath = ReferenceEquals(merged.TrustedCa, resolved.Context.TrustedCa) ? caPath : plan.TrustedCaPath,
                CrlPath = ReferenceEquals(merged.Crl, resolved.Context.Crl) && secret.Crl is { } crl ? TlsMaterial.PathOf(crl) : plan.CrlPath,
            }, validation.Purpose);
        }
        for (var i = 0; i < compiled.Length; i++)
        {
            _validations[i].Replace(compiled[i]);
        }
        _secret = secret;
        _hash = resolved.Hash;
        SetDataFiles(secret.TrustedCa?.Filename, secret.Crl?.Filename);
        Updated(Plan.Path, compiled.Length > 0 && compiled[0].TrustedCa is [var first, ..] ? "trusting CA serial " + first.SerialNumber : "validation context replaced");
        return true;
    }

    /// <summary>
    /// The secret with its <c>trusted_ca</c> and <c>crl</c> files read into inline material (one read per update, so every
    /// context compiles the same bytes), and the hash an update is compared by; null, with the error, when a file does not read.
    /// </summary>
    private static Resolved? Resolve(CertificateValidationContext secret, out string? caPath, out string error)
    {
        caPath = secret.TrustedCa is { } caSource ? TlsMaterial.PathOf(caSource) : null;
        error = string.Empty;
        byte[]? ca = null;
        byte[]? crl = null;
        if (secret.TrustedCa is { } trusted && (ca = TlsMaterial.Read(trusted, out var caError)) is null)
        {
            error = caError ?? $"Failed to load trusted CA certificates from {caPath}";
            return null;
        }
        if (secret.Crl is { } revoked && (crl = TlsMaterial.Read(revoked, out var crlError)) is null)
        {
            error = crlError ?? $"Failed to load CRL from {TlsMaterial.PathOf(revoked)}";
            return null;
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Admin.ConfigJson.Message(secret).ToPrettyString()));
        sha.AppendData(ca ?? []);
        sha.AppendData([0]);
        sha.AppendData(crl ?? []);
        var context = TlsSecrets.Merge(new CertificateValidationContext(), secret);
        context.Location = secret.Location;
        context.TrustedCa = ca is null ? null : Inline(ca);
        context.Crl = crl is null ? null : Inline(crl);
        return new Resolved(context, sha.GetHashAndReset());
    }

    private sealed record Resolved(CertificateValidationContext Context, byte[] Hash);
}
