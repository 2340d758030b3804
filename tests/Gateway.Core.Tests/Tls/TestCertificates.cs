using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Tls;

/// <summary>
/// Certificates made for a test and written as PEM to a temporary directory: a CA, a server certificate for
/// <c>localhost</c>/127.0.0.1 (and its successor <c>server-next</c>), server certificates for <c>api.example.com</c> and
/// <c>*.example.com</c>, a client certificate with a SPIFFE URI SAN, an expired client certificate, and a client
/// certificate from another CA.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public const string ClientSpiffeId = "spiffe://cluster.local/ns/default/sa/client";

    /// <summary>The URI SAN of <c>server-spiffe</c> (XFCC's <c>By</c>).</summary>
    public const string GatewaySpiffeId = "spiffe://cluster.local/ns/default/sa/gateway";

    private static readonly Lazy<TestCertificates> SharedInstance = new(() => new TestCertificates());

    private TestCertificates()
    {
        Directory = Path.Combine(Path.GetTempPath(), "gateway-tls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Ca = CreateCa("Test CA", caKey, now);
        using var otherCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherCa = CreateCa("Other CA", otherCaKey, now);
        Write("ca.pem", Ca.ExportCertificatePem());
        Write("other-ca.pem", otherCa.ExportCertificatePem());
        Issue("server", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: true, san => { san.AddDnsName("localhost"); san.AddIpAddress(IPAddress.Loopback); });
        Issue("api", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: true, san => san.AddDnsName("api.example.com"));
        Issue("wildcard", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: true, san => san.AddDnsName("*.example.com"));
        // The same names under a new serial and key: what a rotation replaces "server" with.
        Issue("server-next", Ca, caKey, now.AddDays(-1), now.AddDays(60), serverAuth: true, san => { san.AddDnsName("localhost"); san.AddIpAddress(IPAddress.Loopback); });
        Issue("server-spiffe", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: true, san => { san.AddDnsName("localhost"); san.AddUri(new Uri(GatewaySpiffeId)); });
        Issue("client", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: false, san => san.AddUri(new Uri(ClientSpiffeId)));
        Issue("client-next", Ca, caKey, now.AddDays(-1), now.AddDays(60), serverAuth: false, san => san.AddUri(new Uri(ClientSpiffeId)));
        Issue("expired", Ca, caKey, now.AddDays(-30), now.AddDays(-1), serverAuth: false, san => san.AddUri(new Uri(ClientSpiffeId)));
        Issue("wrong-ca", otherCa, otherCaKey, now.AddDays(-1), now.AddDays(30), serverAuth: false, san => san.AddUri(new Uri(ClientSpiffeId)));
        Issue("revoked", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: false, san => san.AddUri(new Uri(ClientSpiffeId)));
        WriteCrl("ca.crl.pem", Ca, now, "revoked");
        WriteCrl("other-ca.crl.pem", otherCa, now);
        Issue("other-san", Ca, caKey, now.AddDays(-1), now.AddDays(30), serverAuth: false, san => san.AddUri(new Uri("spiffe://cluster.local/ns/other/sa/intruder")));
    }

    /// <summary>One set for the test run (generating keys is slow); files are never changed.</summary>
    public static TestCertificates Shared => SharedInstance.Value;

    public string Directory { get; }

    public X509Certificate2 Ca { get; }

    public string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>A client certificate with its key, usable by SslStream.</summary>
    public X509Certificate2 Client(string name)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(PathOf(name + ".pem"), PathOf(name + "-key.pem"));
        // SslStream on Linux wants a key it can export to OpenSSL: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 CreateCa(string name, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-2), now.AddYears(1));
    }

    private void Issue(string name, X509Certificate2 issuer, ECDsa issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter, bool serverAuth, Action<SubjectAlternativeNameBuilder> sans)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var builder = new SubjectAlternativeNameBuilder();
        sans(builder);
        request.CertificateExtensions.Add(builder.Build());
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        using var certificate = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter, serial);
        Write(name + ".pem", certificate.ExportCertificatePem());
        Write(name + "-key.pem", key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A CRL of <paramref name="issuer"/> revoking the certificates named.</summary>
    private void WriteCrl(string file, X509Certificate2 issuer, DateTimeOffset now, params string[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var name in revoked)
        {
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(PathOf(name + ".pem")));
            builder.AddEntry(certificate.SerialNumberBytes.Span, now.AddHours(-1));
        }
        var crl = builder.Build(issuer, System.Numerics.BigInteger.One, now.AddDays(7), HashAlgorithmName.SHA256);
        Write(file, PemEncoding.WriteString("X509 CRL", crl) + "\n");
    }

    private void Write(string file, string text) => File.WriteAllText(PathOf(file), text);

    public void Dispose()
    {
        Ca.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
