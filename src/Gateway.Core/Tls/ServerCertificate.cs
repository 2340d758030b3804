using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gateway.Translation;

namespace Gateway.Tls;

/// <summary>
/// One certificate a TLS context presents (a <c>tls_certificates</c> entry or a secret): the
/// <see cref="SslStreamCertificateContext"/> handed to each handshake, and its leaf for selection and reporting. Loaded
/// from material validated when the configuration was applied; a file-based SDS secret replaces it when its file is
/// replaced (<see cref="Replace"/>): new handshakes read the current one, established connections keep theirs.
/// </summary>
internal sealed class ServerCertificate
{
    private volatile Loaded _current;

    private ServerCertificate(SslStreamCertificateContext context, string path) => _current = new Loaded(context, path);

    /// <summary>What a handshake presents: the leaf with its key and the intermediates.</summary>
    public SslStreamCertificateContext Context => _current.Context;

    /// <summary>The leaf certificate.</summary>
    public X509Certificate2 Leaf => _current.Context.TargetCertificate;

    /// <summary>Where the chain was read from: a path, or <c>&lt;inline&gt;</c> (as <c>/certs</c> shows it).</summary>
    public string Path => _current.Path;

    /// <summary>The leaf's facts as a connection's local certificate (<c>%DOWNSTREAM_LOCAL_*%</c>, XFCC's <c>By</c>), made on first use.</summary>
    public CertificateFacts Facts => field ??= new CertificateFacts(Leaf);

    /// <summary>Loads a plan's certificate (its material passed validation, so a failure here is a bug).</summary>
    public static ServerCertificate Load(TlsCertificatePlan plan)
        => new(TlsMaterial.LoadServerCertificate(plan.CertificateChain, plan.CertificateChainPath, plan.PrivateKey, plan.PrivateKeyPath, out var error)
            ?? throw new InvalidOperationException(error), plan.CertificateChainPath);

    /// <summary>Serves <paramref name="context"/> (read from <paramref name="path"/>) from the next handshake on.</summary>
    public void Replace(SslStreamCertificateContext context, string path) => _current = new Loaded(context, path);

    // The context and its path change together.
    private sealed record Loaded(SslStreamCertificateContext Context, string Path);
}
