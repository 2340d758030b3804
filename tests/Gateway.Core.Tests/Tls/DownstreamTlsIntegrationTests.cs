using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Xunit.Abstractions;

namespace Gateway.Tests.Tls;

/// <summary>
/// TLS termination on a listener (<c>transport_socket</c> with a <c>DownstreamTlsContext</c>) through real Kestrel, with
/// HttpClient and, as independent clients, <c>curl</c> and <c>openssl s_client</c>.
/// </summary>
public class DownstreamTlsIntegrationTests(ITestOutputHelper output)
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private const string Ssl = "listener.127.0.0.1_0.ssl.";

    internal static readonly System.Text.Json.JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The one-listener bootstrap with <paramref name="tls"/> (a flush-left DownstreamTlsContext body) as its chain's transport socket.</summary>
    internal static string Yaml(int upstreamPort, string tls, string codec = "", string virtualHost = "")
    {
        var yaml = ListenerYaml.Build(upstreamPort, httpFilters: string.Empty, virtualHost: virtualHost);
        var socket = $"""
                - transport_socket:
                    name: envoy.transport_sockets.tls
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
            {ListenerYaml.Indent(ListenerYaml.Dedent(tls), 10)}
                  filters:

            """;
        yaml = yaml.Replace("    - filters:\n", socket.Replace("\r\n", "\n"), StringComparison.Ordinal);
        return codec.Length == 0 ? yaml : yaml.Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          codec_type: " + codec, StringComparison.Ordinal);
    }

    internal static string Context(string alpn = "", string validation = "", string extra = "", string parameters = "") => $"""
        common_tls_context:
          tls_certificates:
          - certificate_chain: {"{"} filename: {Certs.PathOf("server.pem")} {"}"}
            private_key: {"{"} filename: {Certs.PathOf("server-key.pem")} {"}"}
        {(alpn.Length == 0 ? "" : "  alpn_protocols: [" + alpn + "]")}
        {(validation.Length == 0 ? "" : "  validation_context:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(validation), 4))}
        {(parameters.Length == 0 ? "" : "  tls_params:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(parameters), 4))}
        {extra}
        """;

    internal static string TrustedCa(string ca = "ca.pem") => $"trusted_ca: {{ filename: {Certs.PathOf(ca)} }}";

    internal static HttpClient TlsClient(SslProtocols protocols = SslProtocols.None, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = protocols,
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
        };
        return new HttpClient(handler);
    }

    internal static Uri HttpsUri(InProcessGateway gateway, string path = "/")
        => new($"https://localhost:{gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port}{path}");

    [Theory]
    [InlineData(SslProtocols.Tls12, "TLSv1.2")]
    [InlineData(SslProtocols.Tls13, "TLSv1.3")]
    public async Task Listener_TlsVersion_TerminatedWithHttpsSchemeAndStats(SslProtocols version, string statName)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context()));
        using var client = TlsClient(version);

        using var response = await client.GetAsync(HttpsUri(gateway, "/tls"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;
        Assert.Equal("https", echoed.Headers["x-forwarded-proto"]);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
        await gateway.AssertStatAsync(Ssl + "versions." + statName, 1);
        await gateway.AssertStatAsync(Ssl + "no_certificate", 1);
        await gateway.AssertStatAsync(Ssl + "connection_error", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_ssl_total", 1);
        // Envoy's tag extractors for the dynamic SSL stats (envoy.ssl_version, envoy.ssl_cipher).
        var prometheus = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats/prometheus"));
        Assert.Contains($"envoy_listener_ssl_versions{{envoy_ssl_version=\"{statName}\",envoy_listener_address=\"127.0.0.1_0\"}} 1", prometheus, StringComparison.Ordinal);
        Assert.Matches("envoy_listener_ssl_ciphers\\{envoy_ssl_cipher=\"[\\w-]+\",envoy_listener_address=\"127.0.0.1_0\"\\} 1", prometheus);
    }

    [Fact]
    public async Task Listener_TlsParamsMinimum13_RefusesTls12WithConnectionError()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(parameters: "tls_minimum_protocol_version: TLSv1_3")));
        Assert.False(await HandshakeAsync(gateway, null, SslProtocols.Tls12));

        await gateway.AssertStatAsync(Ssl + "connection_error", 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
        // Counted at accept, as Envoy does; no codec was created.
        await gateway.AssertStatAsync("listener.127.0.0.1_0.downstream_cx_total", 1);
        await gateway.AssertStatAsync("listener.127.0.0.1_0.downstream_cx_active", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_ssl_total", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_ssl_active", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_http1_total", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_http1_active", 0);
    }

    [Theory]
    [InlineData("h2, http/1.1", 2)]
    [InlineData("http/1.1", 1)]
    [InlineData("", 1)]
    public async Task Listener_AlpnProtocols_SelectTheCodec(string alpn, int expectedMajor)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(alpn)));
        using var client = TlsClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, HttpsUri(gateway)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expectedMajor, response.Version.Major);
        await gateway.AssertStatAsync($"http.ingress_http.downstream_cx_http{expectedMajor}_total", 1);
    }

    [Fact]
    public async Task Listener_Http1CodecWithH2Offered_OnlyHttp11Negotiated()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context("h2, http/1.1"), codec: "HTTP1"));
        using var client = TlsClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, HttpsUri(gateway)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        using var response = await client.SendAsync(request);

        Assert.Equal(new Version(1, 1), response.Version);
    }

    [Fact]
    public async Task Listener_InlineCertificateAndKeyFromEnvironment_Served()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var variable = "GATEWAY_TLS_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, File.ReadAllText(Certs.PathOf("server-key.pem")));
        try
        {
            var chain = File.ReadAllText(Certs.PathOf("server.pem")).ReplaceLineEndings("\\n");
            var tls = $$"""
                common_tls_context:
                  tls_certificates:
                  - certificate_chain: { inline_string: "{{chain}}" }
                    private_key: { environment_variable: {{variable}} }
                """;
            await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, tls));
            using var client = TlsClient();

            using var response = await client.GetAsync(HttpsUri(gateway));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task ConfigDump_TlsContext_PrivateKeyRedacted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context("h2")));

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Contains("\"@type\": \"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\"", dump, StringComparison.Ordinal);
        Assert.Contains(Certs.PathOf("server.pem"), dump, StringComparison.Ordinal);
        Assert.DoesNotContain(Certs.PathOf("server-key.pem"), dump, StringComparison.Ordinal);
        Assert.Contains("\"private_key\": {\n", dump, StringComparison.Ordinal);
        Assert.Contains("\"[redacted]\"", dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listener_RequireClientCertificateWithoutOne_FailsVerifyNoCert()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(validation: TrustedCa(), extra: "require_client_certificate: true")));
        Assert.False(await HandshakeAsync(gateway, null));

        await gateway.AssertStatAsync(Ssl + "fail_verify_no_cert", 1);
        await gateway.AssertStatAsync(Ssl + "connection_error", 0);
        Assert.Equal(0, upstream.Requests);
    }

    [Theory]
    [InlineData("wrong-ca", "fail_verify_error")]
    [InlineData("expired", "fail_verify_error")]
    [InlineData("other-san", "fail_verify_san")]
    public async Task Listener_ClientCertificateNotAccepted_RefusedAndCounted(string certificate, string stat)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var validation = $"""
            {TrustedCa()}
            match_typed_subject_alt_names:
            - san_type: URI
              matcher: {"{"} prefix: "spiffe://cluster.local/ns/default/" {"}"}
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(validation: validation, extra: "require_client_certificate: true")));
        Assert.False(await HandshakeAsync(gateway, Certs.Client(certificate)));

        await gateway.AssertStatAsync(Ssl + stat, 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
        await gateway.AssertStatAsync(Ssl + "connection_error", 0);
    }

    [Theory]
    [InlineData("expired", "allow_expired_certificate: true")]
    [InlineData("wrong-ca", "trust_chain_verification: ACCEPT_UNTRUSTED")]
    [InlineData("client", "")]
    public async Task Listener_ClientCertificateWithSpiffeSan_Accepted(string certificate, string option)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var validation = $"""
            {TrustedCa()}
            match_typed_subject_alt_names:
            - san_type: URI
              matcher: {"{"} exact: "{TestCertificates.ClientSpiffeId}" {"}"}
            {option}
            """;
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(validation: validation, extra: "require_client_certificate: true")));
        using var client = TlsClient(clientCertificate: Certs.Client(certificate));

        using var response = await client.GetAsync(HttpsUri(gateway));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
        await gateway.AssertStatAsync(Ssl + "no_certificate", 0);
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", certificate == "wrong-ca" ? 1 : 0);
    }

    [Fact]
    public async Task Curl_Http2OverTls_ServedWithTheConfiguredCertificate()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/curl"))
        {
            return;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context("h2, http/1.1")));

        var (exit, text) = await CommandLineTools.RunAsync("/usr/bin/curl", "-sS", "--http2", "--cacert", Certs.PathOf("ca.pem"), "-o", "/dev/null", "-w", "%{http_version} %{response_code}", HttpsUri(gateway, "/curl").ToString());

        Assert.True(exit == 0, text);
        Assert.Equal("2 200", text.Trim());
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
    }

    [Fact]
    public async Task OpensslSClient_Tls13WithAlpnAndClientCertificate_Negotiated()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/openssl"))
        {
            return;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context("h2, http/1.1", validation: TrustedCa(), extra: "require_client_certificate: true")));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        var (_, text) = await CommandLineTools.RunAsync("/usr/bin/openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-tls1_3", "-alpn", "h2",
            "-CAfile", Certs.PathOf("ca.pem"), "-cert", Certs.PathOf("client.pem"), "-key", Certs.PathOf("client-key.pem"), "-verify_return_error");

        Assert.Contains("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256", text, StringComparison.Ordinal);
        Assert.Contains("ALPN protocol: h2", text, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", text, StringComparison.Ordinal);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
        await gateway.AssertStatAsync(Ssl + "ciphers.TLS_AES_128_GCM_SHA256", 1);
    }

    [Fact]
    public async Task OpensslSClient_NoClientCertificate_RefusedWithFailVerifyNoCert()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/openssl"))
        {
            return;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Context(validation: TrustedCa(), extra: "require_client_certificate: true")));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        await CommandLineTools.RunAsync("/usr/bin/openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2", "-CAfile", Certs.PathOf("ca.pem"), "-brief");

        await gateway.AssertStatAsync(Ssl + "fail_verify_no_cert", 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 0);
    }

    /// <summary>One TLS handshake (HttpClient retries a failed one): true when it completed and the server did not close at once.</summary>
    internal static async Task<bool> HandshakeAsync(InProcessGateway gateway, X509Certificate2? clientCertificate, SslProtocols protocols = SslProtocols.None)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = protocols,
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            });
            // TLS 1.3 sends the server's verdict on the client certificate after the client has finished: read for it.
            await tls.WriteAsync("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n"u8.ToArray());
            return await tls.ReadAsync(new byte[1]) > 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return false;
        }
    }
}
