using System.Net;
using System.Net.Security;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Hosting;
using Xunit;

namespace Gateway.Tests.Tls;

/// <summary><c>static_resources.secrets</c> referenced by name from TLS contexts (<c>SdsSecretConfig</c> without <c>sds_config</c>).</summary>
public sealed class StaticSecretsTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private static readonly string Secrets = $"""
          secrets:
          - name: server_cert
            tls_certificate:
              certificate_chain: {"{"} filename: {Certs.PathOf("server.pem")} {"}"}
              private_key: {"{"} filename: {Certs.PathOf("server-key.pem")} {"}"}
          - name: client_ca
            validation_context:
              trusted_ca: {"{"} filename: {Certs.PathOf("ca.pem")} {"}"}

        """;

    private const string ByName = """
        common_tls_context:
          tls_certificate_sds_secret_configs:
          - name: server_cert
          validation_context_sds_secret_config:
            name: client_ca
        require_client_certificate: true
        """;

    private static string Yaml(int upstreamPort, string tls = ByName, string secrets = "")
        => DownstreamTlsIntegrationTests.Yaml(upstreamPort, tls).Replace("static_resources:\n", "static_resources:\n" + (secrets.Length == 0 ? Secrets : secrets), StringComparison.Ordinal);

    private static ConfigError[] Errors(string yaml)
        => [.. Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors];

    [Fact]
    public async Task Listener_CertificateAndCaFromStaticSecrets_ServesAndVerifiesTheClient()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;
        var server = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Certs.PathOf("server.pem"));

        using var client = Certs.Client("client");
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == server.GetCertHashString(),
                LocalCertificateSelectionCallback = (_, _, _, _, _) => client,
            },
        };
        using var http = new HttpClient(handler);
        using var response = await http.GetAsync(new Uri($"https://localhost:{port}/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var certs = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));
        var context = Assert.Single(certs.RootElement.GetProperty("certificates").EnumerateArray());
        Assert.Equal(Certs.PathOf("ca.pem"), Assert.Single(context.GetProperty("ca_cert").EnumerateArray()).GetProperty("path").GetString());
        Assert.Equal(Certs.PathOf("server.pem"), Assert.Single(context.GetProperty("cert_chain").EnumerateArray()).GetProperty("path").GetString());
    }

    [Fact]
    public async Task ConfigDump_StaticSecrets_ListedWithThePrivateKeyRedacted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));

        using var dump = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=static_secrets")));

        var secrets = dump.RootElement.GetProperty("configs").EnumerateArray().ToArray();
        Assert.Equal(["server_cert", "client_ca"], secrets.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("type.googleapis.com/envoy.admin.v3.SecretsConfigDump.StaticSecret", secrets[0].GetProperty("@type").GetString());
        var certificate = secrets[0].GetProperty("secret").GetProperty("tls_certificate");
        Assert.Equal(Certs.PathOf("server.pem"), certificate.GetProperty("certificate_chain").GetProperty("filename").GetString());
        Assert.DoesNotContain(Certs.PathOf("server-key.pem"), secrets[0].GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownSecretNames_ErrorsWithEnvoysMessages()
    {
        const string tls = """
            common_tls_context:
              tls_certificate_sds_secret_configs:
              - name: missing_cert
              validation_context_sds_secret_config:
                name: missing_ca
            """;

        var errors = Errors(Yaml(1, tls));

        Assert.Contains(errors, e => e.Message == "Unknown static secret: missing_cert");
        Assert.Contains(errors, e => e.Message == "Unknown static certificate validation context: missing_ca");
    }

    [Fact]
    public void Load_DuplicateSecretNames_ErrorPerKind()
    {
        var duplicated = Secrets + Secrets["  secrets:\n".Length..];

        var duplicates = Errors(Yaml(1, secrets: duplicated)).Where(e => e.Message.StartsWith("Duplicate", StringComparison.Ordinal)).Select(e => e.Message);

        Assert.Equal(["Duplicate static TlsCertificate secret name server_cert", "Duplicate static CertificateValidationContext secret name client_ca"], duplicates);
    }

    [Fact]
    public void Load_SdsConfigOnValidationContextWithoutItsFile_InvalidPathAtTheSource()
    {
        const string tls = """
            common_tls_context:
              tls_certificate_sds_secret_configs:
              - name: server_cert
              validation_context_sds_secret_config:
                name: client_ca
                sds_config: { path_config_source: { path: /nonexistent/sds.yaml }, resource_api_version: V3 }
            """;

        var errors = Errors(Yaml(1, tls));

        var error = Assert.Single(errors);
        Assert.EndsWith("validation_context_sds_secret_config.sds_config", error.Location.Path, StringComparison.Ordinal);
        Assert.Equal("Invalid path: /nonexistent/sds.yaml", error.Message);
    }
}
