using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Tls;

namespace Gateway.Tests.Tls;

/// <summary>match_typed_subject_alt_names against a certificate's SANs (Envoy's SanMatcher per type, "any" semantics).</summary>
public class SubjectAltNamesTests
{
    private static readonly X509Certificate2 Certificate = Create();

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=san", key, HashAlgorithmName.SHA256);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName("*.example.com");
        sans.AddDnsName("exact.test");
        sans.AddIpAddress(IPAddress.Parse("10.1.2.3"));
        sans.AddIpAddress(IPAddress.Parse("2001:db8::1"));
        sans.AddEmailAddress("svc@example.com");
        sans.AddUri(new Uri("spiffe://cluster.local/ns/default/sa/web"));
        request.CertificateExtensions.Add(sans.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static SanPredicate Matcher(SanType type, StringMatcher matcher) => SanPredicate.FromConfig(new SubjectAltNameMatcher { SanType = type, Matcher = matcher });

    [Theory]
    [InlineData(SanType.DNS, "api.example.com", true)]
    [InlineData(SanType.DNS, "a.b.example.com", false)]
    [InlineData(SanType.DNS, "example.com", false)]
    [InlineData(SanType.DNS, "EXACT.test", true)]
    [InlineData(SanType.IP_ADDRESS, "10.1.2.3", true)]
    [InlineData(SanType.IP_ADDRESS, "2001:db8::1", true)]
    [InlineData(SanType.IP_ADDRESS, "10.1.2.4", false)]
    [InlineData(SanType.EMAIL, "svc@example.com", true)]
    [InlineData(SanType.URI, "spiffe://cluster.local/ns/default/sa/web", true)]
    [InlineData(SanType.URI, "svc@example.com", false)]
    [InlineData(SanType.EMAIL, "spiffe://cluster.local/ns/default/sa/web", false)]
    public void MatchAny_ExactMatcher_ComparesSansOfItsTypeOnly(SanType type, string exact, bool expected)
        => Assert.Equal(expected, SubjectAltNames.MatchAny(Certificate, [Matcher(type, new StringMatcher { Exact = exact })]));

    [Fact]
    public void MatchAny_SeveralMatchers_AnyOneAccepts()
        => Assert.True(SubjectAltNames.MatchAny(Certificate,
            [Matcher(SanType.DNS, new StringMatcher { Exact = "nope.test" }), Matcher(SanType.URI, new StringMatcher { Prefix = "spiffe://cluster.local/" })]));

    [Fact]
    public void MatchAny_CertificateWithoutSans_NoMatch()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var plain = new CertificateRequest("CN=exact.test", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        Assert.False(SubjectAltNames.MatchAny(plain, [Matcher(SanType.DNS, new StringMatcher { Exact = "exact.test" })]));
    }
}
