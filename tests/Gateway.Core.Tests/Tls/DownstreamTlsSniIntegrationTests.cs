using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Hosting;
using Xunit.Abstractions;

namespace Gateway.Tests.Tls;

/// <summary>
/// Several <c>tls_certificates</c> in one DownstreamTlsContext, chosen per handshake by SNI through real Kestrel, with
/// <c>require_sni</c> and <c>full_scan_certs_on_sni_mismatch</c>; SslStream and <c>openssl s_client</c> as clients.
/// </summary>
public class DownstreamTlsSniIntegrationTests(ITestOutputHelper output)
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private static string Certificate(string name) => $"""
          - certificate_chain: {"{"} filename: {Certs.PathOf(name + ".pem")} {"}"}
            private_key: {"{"} filename: {Certs.PathOf(name + "-key.pem")} {"}"}
        """;

    private static string Context(string extra = "") => $"""
        common_tls_context:
          tls_certificates:
        {Certificate("server")}
        {Certificate("api")}
        {Certificate("wildcard")}
        {extra}
        """;

    [Theory]
    [InlineData("api.example.com", "api", "")]
    [InlineData("www.example.com", "wildcard", "")]
    [InlineData("localhost", "server", "")]
    [InlineData("other.test", "server", "")]
    [InlineData("a.b.example.com", "server", "")]
    // Every certificate is ECDSA: the full scan's choice is the first, as without the scan.
    [InlineData("other.test", "server", "full_scan_certs_on_sni_mismatch: true")]
    public async Task Listener_SeveralCertificates_ServedBySni(string serverName, string expected, string extra)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Context(extra)));

        using var served = await HandshakeAsync(gateway, serverName);

        AssertServed(expected, served);
    }

    [Fact]
    public async Task Listener_RequireSni_RefusesAbsentOrUnmatchedSni()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Context("require_sni: true")));

        using var matched = await HandshakeAsync(gateway, "www.example.com");
        AssertServed("wildcard", matched);
        // SslStream sends no SNI for an IP literal.
        Assert.Null(await HandshakeAsync(gateway, "127.0.0.1"));
        Assert.Null(await HandshakeAsync(gateway, "other.test"));
        await gateway.AssertStatAsync("listener.127.0.0.1_0.ssl.connection_error", 2);
        await gateway.AssertStatAsync("listener.127.0.0.1_0.ssl.handshake", 1);
    }

    [Fact]
    public async Task OpensslSClient_Servername_ServedTheNamedCertificate()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/openssl"))
        {
            return;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Context()));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        var (_, text) = await CommandLineTools.RunAsync("/usr/bin/openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-servername", "api.example.com",
            "-CAfile", Certs.PathOf("ca.pem"), "-verify_return_error", "-verify_hostname", "api.example.com");

        Assert.Contains("CN=api", text.Replace(" = ", "=", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", text, StringComparison.Ordinal);
    }

    private static void AssertServed(string expected, X509Certificate2? served)
    {
        Assert.NotNull(served);
        using var file = X509Certificate2.CreateFromPem(File.ReadAllText(Certs.PathOf(expected + ".pem")));
        Assert.Equal("CN=" + expected, served.Subject);
        Assert.Equal(file.SerialNumber, served.SerialNumber);
    }

    /// <summary>One handshake with <paramref name="serverName"/> as SNI: the certificate served, or null when refused.</summary>
    private static async Task<X509Certificate2?> HandshakeAsync(InProcessGateway gateway, string serverName)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
            });
            return tls.RemoteCertificate is { } certificate ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return null;
        }
    }
}
