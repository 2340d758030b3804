using System.Security.Cryptography;

namespace Gateway.Tls;

/// <summary>
/// The peer validation one TLS context runs, swappable as <see cref="ServerCertificate"/>'s context is: each handshake
/// reads <see cref="Current"/> once and verifies with that compiled validator, so an update from file-based SDS is used
/// by the next handshake whole (CAs, CRLs, SAN matchers and pins together), never half-applied, and established
/// connections are not touched. A context with <c>combined_validation_context</c> keeps its default, which each update
/// of the secret is merged into.
/// </summary>
internal sealed class PeerValidation
{
    private volatile CertificateValidator _current;

    public PeerValidation(CertificateValidator initial, Configuration.CertificateValidationContext? defaults, Oid purpose)
    {
        _current = initial;
        Default = defaults;
        Purpose = purpose;
    }

    /// <summary>The validator new handshakes use.</summary>
    public CertificateValidator Current => _current;

    /// <summary><c>combined_validation_context.default_validation_context</c>, or null when the secret is used as it is.</summary>
    public Configuration.CertificateValidationContext? Default { get; }

    /// <summary>The chain's purpose (client certificates downstream, server certificates upstream).</summary>
    public Oid Purpose { get; }

    /// <summary>A context whose validation never changes (inline or static).</summary>
    public static PeerValidation Fixed(Translation.CertificateValidationPlan plan, Oid purpose) => new(new CertificateValidator(plan, purpose), null, purpose);

    /// <summary>Verifies new handshakes with <paramref name="validator"/>.</summary>
    internal void Replace(CertificateValidator validator) => _current = validator;
}
