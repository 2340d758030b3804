using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gateway.Translation;

namespace Gateway.Tls;

/// <summary>
/// One certificate a TLS context presents (a <c>tls_certificates</c> entry): the <see cref="SslStreamCertificateContext"/>
/// handed to each handshake, and its leaf for selection and reporting. Loaded from material validated when the
/// configuration was applied.
/// </summary>
internal sealed class ServerCertificate
{
    private ServerCertificate(SslStreamCertificateContext context, string path)
    {
        Context = context;
        Path = path;
    }

    /// <summary>Where the chain was read from: a path, or <c>&lt;inline&gt;</c> (as <c>/certs</c> shows it).</summary>
    public string Path { get; }

    /// <summary>What a handshake presents: the leaf with its key and the intermediates.</summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>The leaf certificate.</summary>
    public X509Certificate2 Leaf => Context.TargetCertificate;

    /// <summary>The leaf's facts as a connection's local certificate (<c>%DOWNSTREAM_LOCAL_*%</c>, XFCC's <c>By</c>), made on first use.</summary>
    public CertificateFacts Facts => field ??= new CertificateFacts(Leaf);

    /// <summary>Loads a plan's certificate (its material passed validation, so a failure here is a bug).</summary>
    public static ServerCertificate Load(TlsCertificatePlan plan)
        => new(TlsMaterial.LoadServerCertificate(plan.CertificateChain, plan.CertificateChainPath, plan.PrivateKey, plan.PrivateKeyPath, out var error)
            ?? throw new InvalidOperationException(error), plan.CertificateChainPath);
}
