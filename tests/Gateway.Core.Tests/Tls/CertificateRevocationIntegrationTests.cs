using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tls;

/// <summary><c>crl</c> on a listener's client certificate validation, through real Kestrel.</summary>
public class CertificateRevocationIntegrationTests
{
    private const string Ssl = "listener.127.0.0.1_0.ssl.";

    private static TestCertificates Certs => TestCertificates.Shared;

    private static string Yaml(int port, string crl, string extra = "")
        => DownstreamTlsIntegrationTests.Yaml(port, DownstreamTlsIntegrationTests.Context(
            validation: DownstreamTlsIntegrationTests.TrustedCa() + $"\ncrl: {{ filename: {Certs.PathOf(crl)} }}\n" + extra,
            extra: "require_client_certificate: true"));

    [Fact]
    public async Task Crl_RevokedClientCertificate_RefusedWithFailVerifyError()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "ca.crl.pem"));

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, Certs.Client("revoked")));

        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("only_verify_leaf_cert_crl: true")]
    public async Task Crl_ClientCertificateNotListed_Accepted(string extra)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "ca.crl.pem", extra));
        using var client = DownstreamTlsIntegrationTests.TlsClient(clientCertificate: Certs.Client("client"));

        using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 0);
    }

    [Fact]
    public async Task Crl_NoneFromTheIssuer_RefusedAsOpenSslDoes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "other-ca.crl.pem"));

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, Certs.Client("client")));

        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);
    }

    [Theory]
    [InlineData(-10, -1)]
    [InlineData(1, 10)]
    public async Task Crl_OutdatedOrNotYetValid_RefusedAsOpenSslDoes(int thisUpdateDays, int nextUpdateDays)
    {
        var dir = Directory.CreateTempSubdirectory("crl-time-").FullName;
        try
        {
            // A CRL of the right issuer that lists nothing, but is not current: as if there were none.
            var now = DateTimeOffset.UtcNow;
            var der = new System.Security.Cryptography.X509Certificates.CertificateRevocationListBuilder()
                .Build(Certs.Ca, System.Numerics.BigInteger.One, now.AddDays(nextUpdateDays), System.Security.Cryptography.HashAlgorithmName.SHA256, thisUpdate: now.AddDays(thisUpdateDays));
            var path = Path.Combine(dir, "outdated.crl.pem");
            await File.WriteAllTextAsync(path, System.Security.Cryptography.PemEncoding.WriteString("X509 CRL", der) + "\n");
            var yaml = DownstreamTlsIntegrationTests.Yaml(1, DownstreamTlsIntegrationTests.Context(
                validation: DownstreamTlsIntegrationTests.TrustedCa() + $"\ncrl: {{ filename: {path} }}\n", extra: "require_client_certificate: true"));
            await using var gateway = await InProcessGateway.StartAsync(yaml);

            Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, Certs.Client("client")));

            await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Crl_NotACrlOrWithoutTrustedCa_Refused()
    {
        var notCrl = Yaml(1, "ca.pem");
        var withoutCa = DownstreamTlsIntegrationTests.Yaml(1, DownstreamTlsIntegrationTests.Context(validation: $"crl: {{ filename: {Certs.PathOf("ca.crl.pem")} }}"));

        Assert.Contains(Errors(notCrl), e => e == $"Failed to load CRL from {Certs.PathOf("ca.pem")}");
        Assert.Contains(Errors(withoutCa), e => e == "crl needs trusted_ca (CRLs are checked on the verified chain)");
    }

    private static string[] Errors(string yaml)
        => [.. Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors.Select(e => e.Message)];
}
