using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tls;

/// <summary><c>verify_certificate_hash</c> and <c>verify_certificate_spki</c> on a listener's client certificate, through real Kestrel.</summary>
public class CertificatePinningIntegrationTests
{
    private const string Ssl = "listener.127.0.0.1_0.ssl.";

    private static TestCertificates Certs => TestCertificates.Shared;

    private static X509Certificate2 Leaf(string name) => X509Certificate2.CreateFromPem(File.ReadAllText(Certs.PathOf(name + ".pem")));

    private static string HexHash(string name, bool colons)
    {
        using var leaf = Leaf(name);
        var hex = Convert.ToHexString(SHA256.HashData(leaf.RawData));
        return colons ? string.Join(':', Enumerable.Range(0, 32).Select(i => hex.Substring(i * 2, 2))) : hex.ToLowerInvariant();
    }

    private static string Spki(string name)
    {
        using var leaf = Leaf(name);
        return Convert.ToBase64String(SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    private static string Yaml(int port, string pins)
        => DownstreamTlsIntegrationTests.Yaml(port, DownstreamTlsIntegrationTests.Context(validation: DownstreamTlsIntegrationTests.TrustedCa() + "\n" + pins));

    [Theory]
    [InlineData("hash", false)]
    [InlineData("hash", true)]
    [InlineData("spki", false)]
    [InlineData("both-one-wrong", false)]
    public async Task Pins_ClientCertificateMatches_Accepted(string kind, bool colons)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var pins = kind switch
        {
            "hash" => $"verify_certificate_hash: [\"{HexHash("client", colons)}\"]",
            "spki" => $"verify_certificate_spki: [\"{Spki("client")}\"]",
            _ => $"verify_certificate_hash: [\"{HexHash("other-san", false)}\"]\nverify_certificate_spki: [\"{Spki("client")}\"]",
        };
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, pins));
        using var client = DownstreamTlsIntegrationTests.TlsClient(clientCertificate: Certs.Client("client"));

        using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync(Ssl + "fail_verify_cert_hash", 0);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
    }

    [Theory]
    [InlineData("hash")]
    [InlineData("spki")]
    public async Task Pins_OtherClientCertificate_RefusedWithFailVerifyCertHash(string kind)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var pins = kind == "hash" ? $"verify_certificate_hash: [\"{HexHash("other-san", false)}\"]" : $"verify_certificate_spki: [\"{Spki("other-san")}\"]";
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, pins));

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, Certs.Client("client")));

        await gateway.AssertStatAsync(Ssl + "fail_verify_cert_hash", 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Pins_NoClientCertificate_RefusedWithFailVerifyNoCert()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, $"verify_certificate_spki: [\"{Spki("client")}\"]"));

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, null));

        await gateway.AssertStatAsync(Ssl + "fail_verify_no_cert", 1);
    }

    [Fact]
    public void Pins_NotSha256_RefusedWithEnvoysErrors()
    {
        var yaml = Yaml(1, "verify_certificate_hash: [\"AB:CD\"]\nverify_certificate_spki: [\"bm90IGEgZGlnZXN0\"]");

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors.Select(e => e.Message).ToArray();

        Assert.Contains("Invalid hex-encoded SHA-256 AB:CD", errors);
        Assert.Contains("Invalid base64-encoded SHA-256 bm90IGEgZGlnZXN0", errors);
    }
}
