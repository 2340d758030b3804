using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tls;

/// <summary>
/// <c>forward_client_cert_details</c> and <c>set_current_client_cert_details</c>: the <c>x-forwarded-client-cert</c> the
/// upstream receives, as Envoy's mutateXfccRequestHeader writes it, through real Kestrel.
/// </summary>
public class ForwardClientCertIntegrationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Incoming = "By=spiffe://previous;Hash=abc";

    private static TestCertificates Certs => TestCertificates.Shared;

    /// <summary>The gateway serving <c>server-spiffe</c> (URI SAN: <c>By=</c>), asking for a client certificate.</summary>
    private static string Yaml(int upstreamPort, string mode, string details)
    {
        var tls = $"""
            common_tls_context:
              tls_certificates:
              - certificate_chain: {"{"} filename: {Certs.PathOf("server-spiffe.pem")} {"}"}
                private_key: {"{"} filename: {Certs.PathOf("server-spiffe-key.pem")} {"}"}
              validation_context:
                {DownstreamTlsIntegrationTests.TrustedCa()}
            """;
        var hcm = "stat_prefix: ingress_http"
            + (mode.Length == 0 ? "" : "\n          forward_client_cert_details: " + mode)
            + (details.Length == 0 ? "" : "\n          set_current_client_cert_details: { " + details + " }");
        return DownstreamTlsIntegrationTests.Yaml(upstreamPort, tls).Replace("stat_prefix: ingress_http", hcm, StringComparison.Ordinal);
    }

    private static async Task<string?> ForwardedAsync(InProcessGateway gateway, string? clientCertificate, string? incoming = Incoming)
    {
        using var client = DownstreamTlsIntegrationTests.TlsClient(clientCertificate: clientCertificate is null ? null : Certs.Client(clientCertificate));
        using var request = new HttpRequestMessage(HttpMethod.Get, DownstreamTlsIntegrationTests.HttpsUri(gateway, "/xfcc"));
        if (incoming is not null)
        {
            request.Headers.TryAddWithoutValidation("x-forwarded-client-cert", incoming);
        }
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), DownstreamTlsIntegrationTests.EchoJson)!;
        return echoed.Headers.TryGetValue("x-forwarded-client-cert", out var value) ? value : null;
    }

    private static X509Certificate2 ClientLeaf() => X509Certificate2.CreateFromPem(File.ReadAllText(Certs.PathOf("client.pem")));

    private static string Hash(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    private static string UrlEncodedPem(X509Certificate2 certificate)
        => (certificate.ExportCertificatePem() + "\n").Replace("\n", "%0A", StringComparison.Ordinal).Replace("+", "%2B", StringComparison.Ordinal)
            .Replace("/", "%2F", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal).Replace(" ", "%20", StringComparison.Ordinal);

    [Theory]
    [InlineData("", "client")]
    [InlineData("SANITIZE", "client")]
    [InlineData("FORWARD_ONLY", null)]
    [InlineData("APPEND_FORWARD", null)]
    [InlineData("SANITIZE_SET", null)]
    public async Task Xfcc_SanitizedModesOrNoClientCertificate_Removed(string mode, string? clientCertificate)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, mode, "subject: true"));

        Assert.Null(await ForwardedAsync(gateway, clientCertificate));
    }

    [Theory]
    [InlineData("FORWARD_ONLY", "client")]
    [InlineData("ALWAYS_FORWARD_ONLY", "client")]
    [InlineData("ALWAYS_FORWARD_ONLY", null)]
    public async Task Xfcc_ForwardModes_KeptAsItCame(string mode, string? clientCertificate)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, mode, "uri: true"));

        Assert.Equal(Incoming, await ForwardedAsync(gateway, clientCertificate));
    }

    [Fact]
    public async Task Xfcc_PlainTextAlwaysForwardOnly_KeptElseRemoved()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        foreach (var (mode, expected) in new[] { ("ALWAYS_FORWARD_ONLY", Incoming), ("FORWARD_ONLY", null) })
        {
            var yaml = ListenerYaml.Build(upstream.Port, httpFilters: string.Empty).Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          forward_client_cert_details: " + mode, StringComparison.Ordinal);
            await using var gateway = await InProcessGateway.StartAsync(yaml);
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/xfcc"));
            request.Headers.TryAddWithoutValidation("x-forwarded-client-cert", Incoming);
            using var response = await gateway.Client.SendAsync(request);
            var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), DownstreamTlsIntegrationTests.EchoJson)!;
            Assert.Equal(expected, echoed.Headers.GetValueOrDefault("x-forwarded-client-cert"));
        }
    }

    [Fact]
    public async Task Xfcc_AppendForwardSubjectUriDns_AppendsThisHopsElement()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "APPEND_FORWARD", "subject: true, uri: true, dns: true"));

        // Envoy's order (By, Hash, then Subject, URI, DNS); the client certificate has no DNS SAN: no DNS= part.
        var expected = $"{Incoming},By={TestCertificates.GatewaySpiffeId};Hash={Hash(ClientLeaf())};Subject=\"CN=client\";URI={TestCertificates.ClientSpiffeId}";
        Assert.Equal(expected, await ForwardedAsync(gateway, "client"));
        // A second request on another connection gets the same element; without an incoming header it is the only one.
        Assert.Equal(expected[(Incoming.Length + 1)..], await ForwardedAsync(gateway, "client", incoming: null));
    }

    [Fact]
    public async Task Xfcc_SanitizeSetCertAndChain_ReplacesWithUrlEncodedPem()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "SANITIZE_SET", "cert: true, chain: true"));
        using var leaf = ClientLeaf();

        var pem = UrlEncodedPem(leaf);
        Assert.Equal($"By={TestCertificates.GatewaySpiffeId};Hash={Hash(leaf)};Cert=\"{pem}\";Chain=\"{pem}\"", await ForwardedAsync(gateway, "client"));
    }

    [Fact]
    public async Task Xfcc_SanitizeSetWithoutDetails_ByAndHashOnly()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "SANITIZE_SET", ""));
        using var leaf = ClientLeaf();

        Assert.Equal($"By={TestCertificates.GatewaySpiffeId};Hash={Hash(leaf)}", await ForwardedAsync(gateway, "client"));
    }

    [Fact]
    public async Task Curl_ClientCertificate_SanitizeSetSubjectAndUri()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/curl"))
        {
            return;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "SANITIZE_SET", "subject: true, uri: true"));

        var (exit, text) = await CommandLineTools.RunAsync("/usr/bin/curl", "-sS", "--cacert", Certs.PathOf("ca.pem"),
            "--cert", Certs.PathOf("client.pem"), "--key", Certs.PathOf("client-key.pem"), "-H", "x-forwarded-client-cert: " + Incoming,
            DownstreamTlsIntegrationTests.HttpsUri(gateway, "/curl").ToString());

        Assert.True(exit == 0, text);
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(text, DownstreamTlsIntegrationTests.EchoJson)!;
        using var leaf = ClientLeaf();
        Assert.Equal($"By={TestCertificates.GatewaySpiffeId};Hash={Hash(leaf)};Subject=\"CN=client\";URI={TestCertificates.ClientSpiffeId}", echoed.Headers["x-forwarded-client-cert"]);
    }
}
