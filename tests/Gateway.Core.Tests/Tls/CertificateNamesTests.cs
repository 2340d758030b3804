using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tls;

namespace Gateway.Tests.Tls;

/// <summary>SNI certificate choice among a context's tls_certificates.</summary>
public class CertificateNamesTests
{
    private static X509Certificate2 Create(string cn, params string[] dns)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256);
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
    }
}
