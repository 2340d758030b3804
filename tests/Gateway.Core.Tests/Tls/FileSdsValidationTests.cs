using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Xunit;

namespace Gateway.Tests.Tls;

/// <summary>
/// Validation contexts from file-based SDS (<c>validation_context_sds_secret_config</c> with <c>sds_config</c>) and
/// <c>combined_validation_context</c>: CA rotation for new handshakes downstream and upstream, refused updates, the
/// merge of a default with the secret, <c>/certs</c>, <c>/config_dump</c> and config errors.
/// </summary>
public sealed class FileSdsValidationTests : IDisposable
{
    private const string Ssl = "listener.127.0.0.1_0.ssl.";

    private const string Factory = "listener.127.0.0.1_0.server_ssl_socket_factory.";

    private static TestCertificates Certs => TestCertificates.Shared;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-sds-ca-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SdsPath => Path.Combine(_directory, "sds.yaml");

    /// <summary>A DiscoveryResponse holding one validation_context secret (<paramref name="body"/>: its fields, flush left).</summary>
    private static string Response(string body, string name = "client_ca", string version = "1") => $$"""
        version_info: "{{version}}"
        resources:
        - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
          name: {{name}}
          validation_context:
        {{ListenerYaml.Indent(ListenerYaml.Dedent(body), 4)}}
        """;

    /// <summary>A DiscoveryResponse whose secret <c>client_ca</c> is a tls_certificate (the wrong kind for a validation context).</summary>
    private static string CertificateSecret => $$"""
        resources:
        - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
          name: client_ca
          tls_certificate:
            certificate_chain: { filename: {{Certs.PathOf("server.pem")}} }
            private_key: { filename: {{Certs.PathOf("server-key.pem")}} }
        """;

    /// <summary>Copies a test CA into the SDS directory as <paramref name="file"/> and returns the secret body trusting it.</summary>
    private string Ca(string ca, string file = "ca.pem")
    {
        var path = Path.Combine(_directory, file);
        File.Copy(Certs.PathOf(ca), path, overwrite: true);
        return $"trusted_ca: {{ filename: {path} }}";
    }

    private string Reference(string name = "client_ca") => $$"""
        name: {{name}}
        sds_config: { resource_api_version: V3, path_config_source: { path: {{SdsPath}} } }
        """;

    /// <summary>A DownstreamTlsContext serving <c>server</c> whose validation is <paramref name="validation"/> (a CommonTlsContext member, flush left).</summary>
    private static string Downstream(string validation, string extra = "require_client_certificate: true") => $$"""
        common_tls_context:
          tls_certificates:
          - certificate_chain: { filename: {{Certs.PathOf("server.pem")}} }
            private_key: { filename: {{Certs.PathOf("server-key.pem")}} }
        {{ListenerYaml.Indent(ListenerYaml.Dedent(validation), 2)}}
        {{extra}}
        """;

    private string BySds => "validation_context_sds_secret_config:\n" + ListenerYaml.Indent(Reference(), 2);

    private string Combined(string defaults) => "combined_validation_context:\n  default_validation_context:\n"
        + ListenerYaml.Indent(ListenerYaml.Dedent(defaults), 4) + "\n  validation_context_sds_secret_config:\n" + ListenerYaml.Indent(Reference(), 4);

    private const string SpiffeMatcher = $"match_typed_subject_alt_names:\n- san_type: URI\n  matcher: {{ exact: \"{TestCertificates.ClientSpiffeId}\" }}";

    private static ConfigError[] Errors(string yaml)
        => [.. Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors];

    private static async Task<JsonElement> CaCertAsync(InProcessGateway gateway)
    {
        using var certs = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));
        return Assert.Single(Assert.Single(certs.RootElement.GetProperty("certificates").EnumerateArray()).GetProperty("ca_cert").EnumerateArray()).Clone();
    }

    private static string SerialOf(string certificate) => new Gateway.Tls.LoadedCertificate(X509CertificateLoader.LoadCertificateFromFile(Certs.PathOf(certificate)), "").SerialNumber;

    [Fact]
    public async Task Listener_CaFromSdsFileRotated_NewHandshakesTrustTheNewCaAndAnOpenConnectionStays()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem", "a-ca.pem")));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Downstream(BySds)));
        using var clientA = Certs.Client("client");
        using var clientB = Certs.Client("wrong-ca");

        // A keep-alive connection verified with CA A before the rotation.
        var connections = 0;
        using var keepAlive = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            SslOptions =
            {
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientA,
            },
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        var uri = DownstreamTlsIntegrationTests.HttpsUri(gateway, "/get");
        Assert.Equal(HttpStatusCode.OK, (await keepAlive.GetAsync(uri)).StatusCode);
        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientA));
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientB));
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);

        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("other-ca.pem", "b-ca.pem"), version: "2"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync(Factory + "ssl_context_update_by_sds") == 1, "the CA is rotated");

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientA));
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 2);
        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientB));
        Assert.Equal(HttpStatusCode.OK, (await keepAlive.GetAsync(uri)).StatusCode);
        Assert.Equal(1, connections);
        var ca = await CaCertAsync(gateway);
        Assert.Equal(Path.Combine(_directory, "b-ca.pem"), ca.GetProperty("path").GetString());
        Assert.Equal(SerialOf("other-ca.pem"), ca.GetProperty("serial_number").GetString());
        await gateway.AssertStatAsync("sds.client_ca.update_success", 2);

        // Refused: a CA file that is not PEM, then a secret of another kind; CA B stays.
        File.WriteAllText(Path.Combine(_directory, "bad.pem"), "not a certificate\n");
        FileSdsTests.MoveIntoPlace(SdsPath, Response($"trusted_ca: {{ filename: {Path.Combine(_directory, "bad.pem")} }}", version: "3"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("sds.client_ca.update_rejected") == 1, "the bad CA is refused");
        FileSdsTests.MoveIntoPlace(SdsPath, CertificateSecret);
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("sds.client_ca.update_rejected") == 2, "the certificate secret is refused");

        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientB));
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientA));
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 1);
        await gateway.AssertStatAsync("sds.client_ca.update_success", 2);
    }

    [Fact]
    public async Task Listener_SecretGainsCrlAndSanMatcher_AppliedTogetherToNewHandshakes()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem")));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Downstream(BySds)));
        using var client = Certs.Client("client");
        using var revoked = Certs.Client("revoked");
        using var otherSan = Certs.Client("other-san");
        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, revoked));
        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherSan));

        File.Copy(Certs.PathOf("ca.crl.pem"), Path.Combine(_directory, "ca.crl.pem"));
        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("ca.pem") + $"\ncrl: {{ filename: {Path.Combine(_directory, "ca.crl.pem")} }}\n" + SpiffeMatcher, version: "2"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync(Factory + "ssl_context_update_by_sds") == 1, "the secret is updated");

        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, revoked));
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherSan));
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, client));
    }

    [Fact]
    public async Task Listener_TrustedCaFileMovedIntoPlace_ReloadedWithoutTouchingTheSdsFile()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem")));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Downstream(BySds)));
        using var clientB = Certs.Client("wrong-ca");
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientB));

        FileSdsTests.MoveIntoPlace(Path.Combine(_directory, "ca.pem"), File.ReadAllText(Certs.PathOf("other-ca.pem")));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync(Factory + "ssl_context_update_by_sds") == 1, "the CA file is reloaded");

        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, clientB));
        await gateway.AssertStatAsync("sds.client_ca.update_attempt", 1);
    }

    [Fact]
    public async Task Listener_CombinedValidationContext_SanMatcherFromTheDefaultCaFromSds()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem")));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Downstream(Combined(SpiffeMatcher), extra: "")));
        using var client = Certs.Client("client");
        using var otherSan = Certs.Client("other-san");
        using var otherCa = Certs.Client("wrong-ca");

        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, client));
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherSan));
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherCa));
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 1);
        // The SAN matcher makes a client certificate required.
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, null));
        await gateway.AssertStatAsync(Ssl + "fail_verify_no_cert", 1);

        // Re-merged on update: the default's SAN matcher stays, with the new CA.
        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("other-ca.pem", "b-ca.pem"), version: "2"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync(Factory + "ssl_context_update_by_sds") == 1, "the CA is rotated");

        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherCa));
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, client));
        await gateway.AssertStatAsync(Ssl + "fail_verify_error", 2);
    }

    [Fact]
    public async Task Listener_CombinedWithStaticSecret_MergedAtLoad()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var tls = Downstream($"""
            combined_validation_context:
              default_validation_context:
            {ListenerYaml.Indent(SpiffeMatcher, 4)}
              validation_context_sds_secret_config: {"{"} name: static_ca {"}"}
            """, extra: "");
        var yaml = DownstreamTlsIntegrationTests.Yaml(upstream.Port, tls).Replace("static_resources:\n", $$"""
            static_resources:
              secrets:
              - name: static_ca
                validation_context: { trusted_ca: { filename: {{Certs.PathOf("ca.pem")}} } }

            """, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var client = Certs.Client("client");
        using var otherSan = Certs.Client("other-san");

        Assert.True(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, client));
        Assert.False(await DownstreamTlsIntegrationTests.HandshakeAsync(gateway, otherSan));
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
    }

    [Fact]
    public async Task ConfigDump_ValidationContextSecret_ListedAsDynamicActiveSecret()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem"), version: "v3"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, Downstream(BySds)));

        using var dump = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_active_secrets")));

        var secret = Assert.Single(dump.RootElement.GetProperty("configs").EnumerateArray());
        Assert.Equal("client_ca", secret.GetProperty("name").GetString());
        Assert.Equal("v3", secret.GetProperty("version_info").GetString());
        Assert.Equal("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", secret.GetProperty("secret").GetProperty("@type").GetString());
        Assert.Equal(Path.Combine(_directory, "ca.pem"), secret.GetProperty("secret").GetProperty("validation_context").GetProperty("trusted_ca").GetProperty("filename").GetString());
    }

    [Fact]
    public async Task Cluster_CaFromSdsFileRotated_NewUpstreamConnectionsVerifyWithTheNewCa()
    {
        File.WriteAllText(SdsPath, Response(Ca("other-ca.pem"), name: "upstream_ca"));
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var context = "common_tls_context:\n  validation_context_sds_secret_config:\n" + ListenerYaml.Indent(Reference("upstream_ca"), 4);
        var yaml = UpstreamTlsIntegrationTests.Yaml(UpstreamTlsIntegrationTests.Endpoint(upstream.Port), UpstreamTlsIntegrationTests.TlsCluster(context));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        // The upstream's certificate is from CA A: refused while the secret trusts CA B.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Client.GetAsync(gateway.ListenerUri("/close"))).StatusCode);
        await gateway.AssertStatAsync("cluster.backend.ssl.fail_verify_error", 1);

        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("ca.pem", "a-ca.pem"), name: "upstream_ca", version: "2"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.client_ssl_socket_factory.ssl_context_update_by_sds") == 1, "the CA is rotated");

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync(gateway.ListenerUri("/close"))).StatusCode);
        var ca = await CaCertAsync(gateway);
        Assert.Equal(Path.Combine(_directory, "a-ca.pem"), ca.GetProperty("path").GetString());
        Assert.Equal(SerialOf("ca.pem"), ca.GetProperty("serial_number").GetString());

        // Rotated back: the next new connection is refused again.
        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("other-ca.pem", "b-ca.pem"), name: "upstream_ca", version: "3"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.client_ssl_socket_factory.ssl_context_update_by_sds") == 2, "the CA is rotated back");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Client.GetAsync(gateway.ListenerUri("/close"))).StatusCode);
        await gateway.AssertStatAsync("cluster.backend.ssl.fail_verify_error", 2);
    }

    [Fact]
    public void Load_ValidationContextTypeErrors_ReportedWithEnvoysMessages()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem")));
        string Yaml(string validation) => DownstreamTlsIntegrationTests.Yaml(1, Downstream(validation, extra: ""));

        var twice = Errors(Yaml("validation_context: { " + DownstreamTlsIntegrationTests.TrustedCa() + " }\n" + Combined(SpiffeMatcher)));
        Assert.Contains(twice, e => e.Message == "oneof field 'validation_context_type' is already set. Cannot set 'combined_validation_context'"
            && e.Location.Path.EndsWith("combined_validation_context", StringComparison.Ordinal));

        var noDefault = Errors(Yaml("combined_validation_context:\n  validation_context_sds_secret_config:\n" + ListenerYaml.Indent(Reference(), 4)));
        Assert.Contains(noDefault, e => e.Message == "Proto constraint validation failed (CommonTlsContext_CombinedCertificateValidationContextValidationError.DefaultValidationContext: value is required)");

        var noSecret = Errors(Yaml("combined_validation_context:\n  default_validation_context: { " + DownstreamTlsIntegrationTests.TrustedCa() + " }"));
        Assert.Contains(noSecret, e => e.Message == "Proto constraint validation failed (CommonTlsContext_CombinedCertificateValidationContextValidationError.ValidationContextSdsSecretConfig: value is required)");

        var unknown = Errors(Yaml("combined_validation_context:\n  default_validation_context: {}\n  validation_context_sds_secret_config: { name: nowhere }"));
        Assert.Contains(unknown, e => e.Message == "Unknown static certificate validation context: nowhere");

        // Neither part alone, nor merged, has a CA for the SAN matcher.
        File.WriteAllText(SdsPath, Response("allow_expired_certificate: true"));
        var noCa = Errors(Yaml(Combined(SpiffeMatcher)));
        Assert.Contains(noCa, e => e.Message == "SAN-based verification of peer certificates without trusted CA is insecure and not allowed");

        FileSdsTests.MoveIntoPlace(SdsPath, Response(Ca("ca.pem"), name: "other"));
        Assert.Contains(Errors(Yaml(BySds)), e => e.Message == "Unexpected SDS secret (expecting client_ca): other" && e.Location.Source == SdsPath);

        FileSdsTests.MoveIntoPlace(SdsPath, CertificateSecret);
        Assert.Contains(Errors(Yaml(BySds)), e => e.Message == "SDS secret client_ca is not a validation_context" && e.Location.Source == SdsPath);

        FileSdsTests.MoveIntoPlace(SdsPath, Response($"trusted_ca: {{ filename: {Path.Combine(_directory, "none.pem")} }}"));
        Assert.Contains(Errors(Yaml(BySds)), e => e.Location.Source == SdsPath && e.Message.Contains("none.pem", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CombinedWithCaFromSds_LoadsThoughTheDefaultAloneHasNoCa()
    {
        File.WriteAllText(SdsPath, Response(Ca("ca.pem")));

        var config = EnvoyConfigLoader.LoadYaml(DownstreamTlsIntegrationTests.Yaml(1, Downstream(Combined(SpiffeMatcher), extra: "")), "envoy.yaml");

        Assert.NotNull(config);
    }
}
