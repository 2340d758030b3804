using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace Gateway.Tests.Tls;

/// <summary>
/// Envoy's file-based SDS for listener certificates (<c>sds_config: { path_config_source: { path, watched_directory } }</c>):
/// the secret read at load, rotation by moving files into place while requests run, refused updates, config errors.
/// </summary>
public sealed class FileSdsTests(ITestOutputHelper output) : IDisposable
{
    private const string Factory = "listener.127.0.0.1_0.server_ssl_socket_factory.";

    private static TestCertificates Certs => TestCertificates.Shared;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-sds-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SdsPath => Path.Combine(_directory, "sds.yaml");

    private static string SerialOf(string certificate) => X509CertificateLoader.LoadCertificateFromFile(Certs.PathOf(certificate)).SerialNumber;

    /// <summary>A DiscoveryResponse holding one tls_certificate secret whose files are <paramref name="chain"/> and <paramref name="key"/>.</summary>
    private static string Response(string chain, string key, string name = "server_cert", string version = "1") => $$"""
        version_info: "{{version}}"
        resources:
        - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
          name: {{name}}
          tls_certificate:
            certificate_chain: { filename: {{chain}} }
            private_key: { filename: {{key}} }
        """;

    private string Yaml(int upstreamPort, string? watchedDirectory = null) => DownstreamTlsIntegrationTests.Yaml(upstreamPort, $$"""
        common_tls_context:
          tls_certificate_sds_secret_configs:
          - name: server_cert
            sds_config:
              resource_api_version: V3
              path_config_source:
                path: {{SdsPath}}
        {{(watchedDirectory is null ? "" : "        watched_directory: { path: " + watchedDirectory + " }")}}
        """);

    /// <summary>Writes <paramref name="text"/> next to <paramref name="path"/> and moves it into place (one rename, as rotation tools do).</summary>
    internal static void MoveIntoPlace(string path, string text)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Copies a test certificate and key into the SDS directory under <paramref name="prefix"/>.</summary>
    private string Material(string certificate, string prefix)
    {
        File.Copy(Certs.PathOf(certificate + ".pem"), Path.Combine(_directory, prefix + "cert.pem"), overwrite: true);
        File.Copy(Certs.PathOf(certificate + "-key.pem"), Path.Combine(_directory, prefix + "key.pem"), overwrite: true);
        return _directory + Path.DirectorySeparatorChar + prefix;
    }

    /// <summary>The serial of the certificate a new TLS connection is served (no resumption, so the server sends it).</summary>
    private static async Task<string> ServedSerialAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            AllowTlsResume = false,
            RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
        });
        return ((X509Certificate2)ssl.RemoteCertificate!).SerialNumber;
    }

    /// <summary>Waits, bounded, until new connections are served <paramref name="certificate"/>.</summary>
    private static Task WaitUntilServedAsync(int port, string certificate, string what)
        => HealthCheckTestConfig.WaitUntilAsync(async () => await ServedSerialAsync(port) == SerialOf(certificate), what);

    private static ConfigError[] Errors(string yaml)
        => [.. Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors];

    [Fact]
    public async Task Listener_FileSdsSecret_ServesItsCertificateAndListsItInCerts()
    {
        var prefix = Material("server", "a-");
        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", prefix + "key.pem"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        Assert.Equal(SerialOf("server.pem"), await ServedSerialAsync(port));
        using var certs = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));
        var chain = Assert.Single(Assert.Single(certs.RootElement.GetProperty("certificates").EnumerateArray()).GetProperty("cert_chain").EnumerateArray());
        Assert.Equal(prefix + "cert.pem", chain.GetProperty("path").GetString());
        Assert.Equal(SerialOf("server.pem").ToLowerInvariant(), chain.GetProperty("serial_number").GetString());
        await gateway.AssertStatAsync("sds.server_cert.update_attempt", 1);
        await gateway.AssertStatAsync("sds.server_cert.update_success", 1);
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 0);
    }

    [Fact]
    public async Task ConfigDump_FileSdsSecret_ListedAsDynamicActiveSecretWithTheKeyRedacted()
    {
        var prefix = Material("server", "a-");
        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", prefix + "key.pem", version: "v7"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));

        using var dump = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_active_secrets")));

        var secret = Assert.Single(dump.RootElement.GetProperty("configs").EnumerateArray());
        Assert.Equal("type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret", secret.GetProperty("@type").GetString());
        Assert.Equal("server_cert", secret.GetProperty("name").GetString());
        Assert.Equal("v7", secret.GetProperty("version_info").GetString());
        var certificate = secret.GetProperty("secret").GetProperty("tls_certificate");
        Assert.Equal(prefix + "cert.pem", certificate.GetProperty("certificate_chain").GetProperty("filename").GetString());
        Assert.Equal("[redacted]", certificate.GetProperty("private_key").GetProperty("filename").GetString());
    }

    [Fact]
    public async Task Rotation_SdsFileMovedIntoPlaceUnderLoad_NewConnectionsSeeTheNewCertificateAndNoRequestFails()
    {
        var first = Material("server", "a-");
        File.WriteAllText(SdsPath, Response(first + "cert.pem", first + "key.pem"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;
        var uri = new Uri($"https://localhost:{port}/get");

        // A keep-alive connection opened before the rotation must keep serving after it.
        var keepAliveConnections = 0;
        using var keepAlive = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            SslOptions = { RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null },
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref keepAliveConnections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        Assert.Equal(HttpStatusCode.OK, (await keepAlive.GetAsync(uri)).StatusCode);

        // The load: workers that open a new TLS connection for every request, until told to stop (bounded by time).
        using var load = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null, AllowTlsResume = false } });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var failures = 0;
        var completed = 0;
        async Task Worker()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.ConnectionClose = true;
                    using var response = await load.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
                Interlocked.Increment(ref completed);
            }
        }
        var workers = new[] { Worker(), Worker(), Worker(), Worker() };
        await HealthCheckTestConfig.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref completed) >= 40), "the load runs");

        var next = Material("server-next", "b-");
        MoveIntoPlace(SdsPath, Response(next + "cert.pem", next + "key.pem", version: "2"));
        await WaitUntilServedAsync(port, "server-next.pem", "the new certificate is served");
        var rotatedAt = Volatile.Read(ref completed);
        await HealthCheckTestConfig.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref completed) >= rotatedAt + 40), "the load runs after the rotation");
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Equal(0, failures);
        Assert.Equal(HttpStatusCode.OK, (await keepAlive.GetAsync(uri)).StatusCode);
        Assert.Equal(1, keepAliveConnections);
        await gateway.AssertStatAsync("sds.server_cert.update_success", 2);
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 1);
        using var certs = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));
        var chain = Assert.Single(Assert.Single(certs.RootElement.GetProperty("certificates").EnumerateArray()).GetProperty("cert_chain").EnumerateArray());
        Assert.Equal(SerialOf("server-next.pem").ToLowerInvariant(), chain.GetProperty("serial_number").GetString());
        Assert.Equal(next + "cert.pem", chain.GetProperty("path").GetString());
    }

    [Fact]
    public async Task Rotation_DataSymlinkSwappedInWatchedDirectory_NewCertificateServed()
    {
        // The layout Kubernetes' atomic writer keeps: files behind ..data, a symlink to a timestamped directory swapped by one rename.
        void Generation(string name, string certificate)
        {
            var directory = Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;
            File.Copy(Certs.PathOf(certificate + ".pem"), Path.Combine(directory, "cert.pem"));
            File.Copy(Certs.PathOf(certificate + "-key.pem"), Path.Combine(directory, "key.pem"));
            File.WriteAllText(Path.Combine(directory, "sds.yaml"), Response(Path.Combine(_directory, "cert.pem"), Path.Combine(_directory, "key.pem")));
        }
        Generation("..2026_12_03_01", "server");
        File.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..2026_12_03_01");
        foreach (var file in (string[])["sds.yaml", "cert.pem", "key.pem"])
        {
            File.CreateSymbolicLink(Path.Combine(_directory, file), Path.Combine("..data", file));
        }
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, watchedDirectory: _directory));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;
        Assert.Equal(SerialOf("server.pem"), await ServedSerialAsync(port));

        Generation("..2026_12_03_02", "server-next");
        File.CreateSymbolicLink(Path.Combine(_directory, "..data_tmp"), "..2026_12_03_02");
        // rename(2) of the new link over ..data (mv -T: File.Move would follow the link to the directory).
        var mv = Process.Start("/bin/mv", ["-T", Path.Combine(_directory, "..data_tmp"), Path.Combine(_directory, "..data")]);
        await mv.WaitForExitAsync();
        Assert.Equal(0, mv.ExitCode);

        await WaitUntilServedAsync(port, "server-next.pem", "the new certificate is served");
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 1);
        await gateway.AssertStatAsync("sds.server_cert.update_rejected", 0);
    }

    [Fact]
    public async Task Rotation_CertificateFilesMovedIntoPlace_ReloadedWithoutTouchingTheSdsFile()
    {
        var prefix = Material("server", "");
        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", prefix + "key.pem"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

        // Key first: until the certificate follows, the pair does not match and the served one stays.
        MoveIntoPlace(prefix + "key.pem", File.ReadAllText(Certs.PathOf("server-next-key.pem")));
        MoveIntoPlace(prefix + "cert.pem", File.ReadAllText(Certs.PathOf("server-next.pem")));

        await WaitUntilServedAsync(port, "server-next.pem", "the new certificate is served");
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 1);
        // The subscription itself was not read again.
        await gateway.AssertStatAsync("sds.server_cert.update_attempt", 1);
    }

    [Fact]
    public async Task Update_RefusedSecrets_KeepTheLastGoodCertificateAndAreCounted()
    {
        var good = Material("server", "a-");
        File.WriteAllText(SdsPath, Response(good + "cert.pem", good + "key.pem"));
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        var port = gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;
        var next = Material("server-next", "b-");

        // Another secret's name, a certificate with a key that is not its own, then a file that is not YAML.
        MoveIntoPlace(SdsPath, Response(next + "cert.pem", next + "key.pem", name: "other_cert"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("sds.server_cert.update_rejected") == 1, "the wrong secret is refused");
        MoveIntoPlace(SdsPath, Response(next + "cert.pem", good + "key.pem"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("sds.server_cert.update_rejected") == 2, "the mismatched key is refused");
        MoveIntoPlace(SdsPath, "resources: [ {");
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("sds.server_cert.update_failure") == 1, "the unreadable file fails");

        Assert.Equal(SerialOf("server.pem"), await ServedSerialAsync(port));
        await gateway.AssertStatAsync("sds.server_cert.update_success", 1);
        await gateway.AssertStatAsync(Factory + "ssl_context_update_by_sds", 0);
        using var client = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null } });
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri($"https://localhost:{port}/get"))).StatusCode);

        // A good update after refused ones is taken.
        MoveIntoPlace(SdsPath, Response(next + "cert.pem", next + "key.pem"));
        await WaitUntilServedAsync(port, "server-next.pem", "the good update is served");
        output.WriteLine($"update_attempt={await gateway.StatAsync("sds.server_cert.update_attempt")}");
    }

    [Fact]
    public async Task Cluster_ClientCertificateFromFileSds_RotatedForNewUpstreamConnections()
    {
        var first = Material("client", "a-");
        File.WriteAllText(SdsPath, Response(first + "cert.pem", first + "key.pem", name: "client_cert"));
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: true);
        var context = $$"""
            common_tls_context:
              tls_certificate_sds_secret_configs:
              - name: client_cert
                sds_config: { path_config_source: { path: {{SdsPath}} }, resource_api_version: V3 }
              validation_context: { {{UpstreamTlsIntegrationTests.TrustedCa()}} }
            """;
        var yaml = UpstreamTlsIntegrationTests.Yaml(UpstreamTlsIntegrationTests.Endpoint(upstream.Port), UpstreamTlsIntegrationTests.TlsCluster(context));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        // "/close": the upstream closes the connection after answering, so each request is a new handshake.
        Assert.Equal("client=CN=client;sni=", await gateway.Client.GetStringAsync(gateway.ListenerUri("/close")));
        var next = Material("client-next", "b-");
        MoveIntoPlace(SdsPath, Response(next + "cert.pem", next + "key.pem", name: "client_cert", version: "2"));
        await HealthCheckTestConfig.WaitUntilAsync(async () => await gateway.StatAsync("cluster.backend.client_ssl_socket_factory.ssl_context_update_by_sds") == 1, "the secret is updated");

        Assert.Equal("client=CN=client-next;sni=", await gateway.Client.GetStringAsync(gateway.ListenerUri("/close")));
        using var certs = JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/certs")));
        var chain = Assert.Single(Assert.Single(certs.RootElement.GetProperty("certificates").EnumerateArray()).GetProperty("cert_chain").EnumerateArray());
        Assert.Equal(next + "cert.pem", chain.GetProperty("path").GetString());
    }

    [Fact]
    public void Load_SdsFileErrors_ReportedWithEnvoysMessages()
    {
        var prefix = Material("server", "");
        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", prefix + "key.pem", name: "other_cert"));
        var wrongName = Errors(Yaml(1));
        Assert.Contains(wrongName, e => e.Message == "Unexpected SDS secret (expecting server_cert): other_cert" && e.Location.Source == SdsPath);

        File.WriteAllText(SdsPath, "version_info: \"1\"\nresources: []\n");
        Assert.Contains(Errors(Yaml(1)), e => e.Message == "Unexpected SDS secrets length: 0");

        File.Delete(SdsPath);
        Assert.Contains(Errors(Yaml(1)), e => e.Message == $"Invalid path: {SdsPath}" && e.Location.Source == "envoy.yaml");

        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", prefix + "key.pem"));
        var missing = Path.Combine(_directory, "missing");
        Assert.Contains(Errors(Yaml(1, watchedDirectory: missing)), e => e.Message == $"Invalid path: {missing}");

        File.WriteAllText(SdsPath, Response(prefix + "cert.pem", Path.Combine(_directory, "none.pem")));
        Assert.Contains(Errors(Yaml(1)), e => e.Location.Source == SdsPath && e.Message.Contains("none.pem", StringComparison.Ordinal));
    }
}
