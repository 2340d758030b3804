using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tls;

/// <summary>
/// A TLS connection's facts (Tls/DownstreamTlsInfo) as the <c>%DOWNSTREAM_PEER_*%</c>, <c>%DOWNSTREAM_LOCAL_*%</c> and
/// <c>%DOWNSTREAM_TLS_*%</c> operators print them, through real Kestrel.
/// </summary>
public class DownstreamTlsInfoIntegrationTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private static readonly string[] Operators =
    [
        "DOWNSTREAM_PEER_URI_SAN", "DOWNSTREAM_PEER_DNS_SAN", "DOWNSTREAM_LOCAL_DNS_SAN", "DOWNSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_LOCAL_URI_SAN",
        "DOWNSTREAM_PEER_SUBJECT", "DOWNSTREAM_LOCAL_SUBJECT", "DOWNSTREAM_PEER_ISSUER", "DOWNSTREAM_TLS_VERSION", "DOWNSTREAM_TLS_CIPHER",
        "DOWNSTREAM_PEER_FINGERPRINT_256", "DOWNSTREAM_PEER_FINGERPRINT_1", "DOWNSTREAM_PEER_SERIAL", "DOWNSTREAM_PEER_CERT",
        "DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END(%Y-%m-%d)", "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256",
    ];

    /// <summary>Each operator as a request header <c>x-op-N</c> (added only when it has a value, as Envoy).</summary>
    private static string HeadersToAdd()
    {
        var yaml = new System.Text.StringBuilder("request_headers_to_add:\n");
        for (var i = 0; i < Operators.Length; i++)
        {
            yaml.Append("- header: { key: x-op-").Append(i).Append(", value: \"%").Append(Operators[i]).Append("%\" }\n");
        }
        return yaml.ToString();
    }

    private static string Header(EchoedRequest echoed, string op)
        => echoed.Headers.TryGetValue("x-op-" + Array.IndexOf(Operators, op), out var value) ? value : "(absent)";

    [Fact]
    public async Task Operators_MutualTls_PrintTheConnectionsCertificates()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var tls = DownstreamTlsIntegrationTests.Context(validation: DownstreamTlsIntegrationTests.TrustedCa(), extra: "require_client_certificate: true");
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, tls, virtualHost: HeadersToAdd()));
        using var client = DownstreamTlsIntegrationTests.TlsClient(System.Security.Authentication.SslProtocols.Tls13, Certs.Client("client"));

        using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway, "/facts"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), DownstreamTlsIntegrationTests.EchoJson)!;
        using var peer = X509Certificate2.CreateFromPem(File.ReadAllText(Certs.PathOf("client.pem")));
        Assert.Equal(TestCertificates.ClientSpiffeId, Header(echoed, "DOWNSTREAM_PEER_URI_SAN"));
        Assert.Equal("(absent)", Header(echoed, "DOWNSTREAM_PEER_DNS_SAN"));
        Assert.Equal("localhost", Header(echoed, "DOWNSTREAM_LOCAL_DNS_SAN"));
        Assert.Equal("127.0.0.1", Header(echoed, "DOWNSTREAM_LOCAL_IP_SAN"));
        Assert.Equal("(absent)", Header(echoed, "DOWNSTREAM_LOCAL_URI_SAN"));
        Assert.Equal("CN=client", Header(echoed, "DOWNSTREAM_PEER_SUBJECT"));
        Assert.Equal("CN=server", Header(echoed, "DOWNSTREAM_LOCAL_SUBJECT"));
        Assert.Equal("CN=Test CA", Header(echoed, "DOWNSTREAM_PEER_ISSUER"));
        Assert.Equal("TLSv1.3", Header(echoed, "DOWNSTREAM_TLS_VERSION"));
        Assert.Matches("^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$", Header(echoed, "DOWNSTREAM_TLS_CIPHER"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(peer.RawData)), Header(echoed, "DOWNSTREAM_PEER_FINGERPRINT_256"));
#pragma warning disable CA5350 // the fingerprint Envoy prints
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(peer.RawData)), Header(echoed, "DOWNSTREAM_PEER_FINGERPRINT_1"));
#pragma warning restore CA5350
        // BN_bn2hex: whole bytes (a leading zero nibble stays), lower-cased by Envoy.
        var serial = peer.SerialNumber.ToLowerInvariant();
        while (serial.Length > 2 && serial.StartsWith("00", StringComparison.Ordinal))
        {
            serial = serial[2..];
        }
        Assert.Equal(serial, Header(echoed, "DOWNSTREAM_PEER_SERIAL"));
        Assert.Equal(Uri.EscapeDataString(peer.ExportCertificatePem() + "\n"), Header(echoed, "DOWNSTREAM_PEER_CERT"));
        Assert.Equal(peer.NotBefore.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture), Header(echoed, "DOWNSTREAM_PEER_CERT_V_START"));
        Assert.Equal(peer.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Header(echoed, "DOWNSTREAM_PEER_CERT_V_END(%Y-%m-%d)"));
        Assert.Equal(Header(echoed, "DOWNSTREAM_PEER_FINGERPRINT_256"), Header(echoed, "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256"));
    }

    [Fact]
    public async Task Operators_TlsWithoutClientCertificate_OnlyConnectionAndLocalFacts()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, DownstreamTlsIntegrationTests.Context(), virtualHost: HeadersToAdd()));
        using var client = DownstreamTlsIntegrationTests.TlsClient(System.Security.Authentication.SslProtocols.Tls12);

        using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway, "/facts"));

        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), DownstreamTlsIntegrationTests.EchoJson)!;
        Assert.Equal("TLSv1.2", Header(echoed, "DOWNSTREAM_TLS_VERSION"));
        Assert.Equal("CN=server", Header(echoed, "DOWNSTREAM_LOCAL_SUBJECT"));
        Assert.Equal("(absent)", Header(echoed, "DOWNSTREAM_PEER_SUBJECT"));
        Assert.Equal("(absent)", Header(echoed, "DOWNSTREAM_PEER_CERT_V_START"));
        Assert.Equal("(absent)", Header(echoed, "DOWNSTREAM_PEER_FINGERPRINT_256"));
    }

    [Fact]
    public async Task Operators_PlainText_NoValue()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, httpFilters: string.Empty, virtualHost: HeadersToAdd()));

        var body = await gateway.Client.GetStringAsync(gateway.ListenerUri("/facts"));
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(body, DownstreamTlsIntegrationTests.EchoJson)!;

        for (var i = 0; i < Operators.Length; i++)
        {
            Assert.False(echoed.Headers.ContainsKey("x-op-" + i), Operators[i]);
        }
    }

    [Fact]
    public async Task AccessLog_MutualTls_OperatorsPrinted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var log = Path.Combine(Path.GetTempPath(), "gateway-tls-log-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tls = DownstreamTlsIntegrationTests.Context(validation: DownstreamTlsIntegrationTests.TrustedCa(), extra: "require_client_certificate: true");
            var accessLog = "stat_prefix: ingress_http\n          access_log:\n          - name: envoy.access_loggers.file\n            typed_config:\n"
                + "              \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
                + $"              path: {log}\n"
                + "              log_format: { text_format: \"%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_PEER_SUBJECT% %DOWNSTREAM_LOCAL_DNS_SAN% %DOWNSTREAM_PEER_EMAIL_SAN%\\n\" }";
            var yaml = DownstreamTlsIntegrationTests.Yaml(upstream.Port, tls).Replace("stat_prefix: ingress_http", accessLog, StringComparison.Ordinal);
            await using var gateway = await InProcessGateway.StartAsync(yaml);
            using var client = DownstreamTlsIntegrationTests.TlsClient(System.Security.Authentication.SslProtocols.Tls13, Certs.Client("client"));

            using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway, "/logged"));

            var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, log));
            Assert.Equal($"TLSv1.3 {TestCertificates.ClientSpiffeId} CN=client localhost -", line);
        }
        finally
        {
            File.Delete(log);
        }
    }
}
