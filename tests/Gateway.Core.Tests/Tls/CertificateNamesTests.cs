using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tls;

namespace Gateway.Tests.Tls;

/// <summary>SNI certificate choice among a context's tls_certificates (Envoy's ServerContextImpl::selectTlsContext).</summary>
public class CertificateNamesTests
{
    private static X509Certificate2 Create(string cn, bool rsa, params string[] dns)
    {
        using var ecdsa = rsa ? null : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsaKey = rsa ? RSA.Create(2048) : null;
        var request = rsa
            ? new CertificateRequest("CN=" + cn, rsaKey!, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=" + cn, ecdsa!, HashAlgorithmName.SHA256);
        if (dns.Length > 0)
        {
            var sans = new SubjectAlternativeNameBuilder();
            foreach (var name in dns)
            {
                sans.AddDnsName(name);
            }

            request.CertificateExtensions.Add(sans.Build());
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Create(string cn, params string[] dns) => Create(cn, rsa: false, dns);

    [Fact]
    public void Select_ExactBeforeWildcard_CnWithoutSans()
    {
        var names = new CertificateNames([Create("first", "*.example.com"), Create("second", "api.example.com"), Create("legacy.test")]);

        Assert.Equal(1, names.Select("API.example.com"));
        Assert.Equal(0, names.Select("www.example.com"));
        Assert.Equal(2, names.Select("legacy.test"));
        Assert.Equal(-1, names.Select("a.b.example.com"));
        Assert.Equal(-1, names.Select("example.com"));
        Assert.Equal(-1, names.Select(null));
        Assert.Equal(-1, names.Select("other.org"));
        Assert.Equal(-1, names.Select("www."));
    }

    [Fact]
    public void Select_CnOfCertificateWithOnlyOtherSans_NotAName()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ip.test", key, HashAlgorithmName.SHA256);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(sans.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.Equal(-1, new CertificateNames([certificate]).Select("ip.test"));
    }

    [Fact]
    public void Select_SameNameRsaAndEcdsa_EcdsaPreferredThenFirstRsa()
    {
        var names = new CertificateNames([Create("rsa", rsa: true, "a.test", "b.test"), Create("rsa2", rsa: true, "b.test"), Create("ec", "a.test")]);

        Assert.Equal(2, names.Select("a.test"));
        Assert.Equal(0, names.Select("b.test"));
        Assert.Equal(2, names.ScanChoice);
    }

    [Fact]
    public void ScanChoice_OnlyRsa_First()
    {
        Assert.Equal(0, new CertificateNames([Create("one", rsa: true, "one.test"), Create("two", rsa: true, "two.test")]).ScanChoice);
    }

    [Fact]
    public void Refresh_RotatedCertificate_ItsNamesServe()
    {
        var first = Create("first", "old.test");
        var names = new CertificateNames([first, Create("second", "other.test")]);
        Assert.Equal(0, names.Select("old.test"));

        names.Refresh(0, first);
        Assert.Equal(0, names.Select("old.test"));
        names.Refresh(0, Create("rotated", rsa: true, "new.test"));

        Assert.Equal(-1, names.Select("old.test"));
        Assert.Equal(0, names.Select("new.test"));
        Assert.Equal(1, names.ScanChoice);
    }
}
