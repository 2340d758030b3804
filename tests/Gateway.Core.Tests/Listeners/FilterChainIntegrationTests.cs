using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gateway.Tests.Listeners;

/// <summary>
/// Several filter chains on one listener through real Kestrel: the TLS inspector (TLS and plain text on one port, SNI,
/// ALPN), Envoy's matching order, the default chain, connections no chain takes, listener_filters_timeout. Each chain
/// answers with its own name (a direct response), so the body says which chain a connection got.
/// </summary>
public class FilterChainIntegrationTests(ITestOutputHelper output)
{
    private const string Listener = "listener.127.0.0.1_0.";

    private static TestCertificates Certs => TestCertificates.Shared;

    private const string TlsInspector = """
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
              typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
        """;

    /// <summary>A listener (127.0.0.1, <paramref name="port"/>) with <paramref name="chains"/> and the listener-level <paramref name="extra"/> fields.</summary>
    internal static string Yaml(string chains, string extra = "", int port = 0) => $"""
        admin:
          address: {"{"} socket_address: {"{"} address: 127.0.0.1, port_value: 0 {"}"} {"}"}
        static_resources:
          listeners:
          - name: httpbin-demo
            address: {"{"} socket_address: {"{"} address: 127.0.0.1, port_value: {port} {"}"} {"}"}
        {extra}
            filter_chains:
        {chains}
        """;

    /// <summary>One chain named <paramref name="name"/> answering its name, with a match, a transport socket and an HCM codec.</summary>
    internal static string Chain(string name, string match = "", string tls = "", string codec = "AUTO", string key = "-") => $"""
            {key} name: {name}
        {(match.Length == 0 ? "" : "      filter_chain_match: " + match)}
        {(tls.Length == 0 ? "" : TransportSocket(tls))}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: {name}
                  codec_type: {codec}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"{"} "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router {"}"}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {"{"} prefix: "/" {"}"}
                        direct_response: {"{"} status: 200, body: {"{"} inline_string: "{name}" {"}"} {"}"}
        """;

    private static string TransportSocket(string context) => $"""
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
        {ListenerYaml.Indent(ListenerYaml.Dedent(context), 10)}
        """;

    /// <summary>A DownstreamTlsContext serving <paramref name="certificate"/> (a TestCertificates name) with <paramref name="alpn"/>.</summary>
    private static string Serving(string certificate, string alpn = "") => $"""
        common_tls_context:
          tls_certificates:
          - certificate_chain: {"{"} filename: {Certs.PathOf(certificate + ".pem")} {"}"}
            private_key: {"{"} filename: {Certs.PathOf(certificate + "-key.pem")} {"}"}
        {(alpn.Length == 0 ? "" : "  alpn_protocols: [" + alpn + "]")}
        """;

    private static int Port(InProcessGateway gateway) => gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

    /// <summary>An HTTPS client that connects to the listener whatever the URL's host (the host is the SNI).</summary>
    private static HttpClient SniClient(InProcessGateway gateway, string alpn = "")
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
                ApplicationProtocols = alpn.Length == 0 ? null : [new SslApplicationProtocol(alpn)],
            },
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, Port(gateway), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler);
    }

    [Fact]
    public async Task TlsInspector_TlsAndPlainTextOnOnePort_EachGetsItsChain()
    {
        var chains = Chain("secure", "{ transport_protocol: tls }", Serving("server")) + "\n" + Chain("plain");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));
        using var https = SniClient(gateway);

        Assert.Equal("plain", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        Assert.Equal("secure", await https.GetStringAsync($"https://localhost:{Port(gateway)}/"));

        await gateway.AssertStatAsync("tls_inspector.tls_found", 1);
        await gateway.AssertStatAsync("tls_inspector.tls_not_found", 1);
        await gateway.AssertStatAsync("tls_inspector.sni_found", 1);
        await gateway.AssertStatAsync(Listener + "ssl.handshake", 1);
        await gateway.AssertStatAsync(Listener + "downstream_cx_total", 2);
        await gateway.AssertStatAsync("http.secure.downstream_rq_total", 1);
        await gateway.AssertStatAsync("http.plain.downstream_rq_total", 1);
    }

    [Fact]
    public async Task Curl_TlsAndPlainTextOnOnePort_EachGetsItsChain()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/curl"))
        {
            return;
        }
        var chains = Chain("secure", "{ transport_protocol: tls }", Serving("server")) + "\n" + Chain("plain");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));
        var port = Port(gateway);

        var (plainExit, plain) = await CommandLineTools.RunAsync("/usr/bin/curl", "-s", $"http://127.0.0.1:{port}/");
        var (secureExit, secure) = await CommandLineTools.RunAsync("/usr/bin/curl", "-s", "--cacert", Certs.PathOf("ca.pem"),
            "--resolve", $"localhost:{port}:127.0.0.1", $"https://localhost:{port}/");

        Assert.Equal((0, "plain"), (plainExit, plain.Trim()));
        Assert.Equal((0, "secure"), (secureExit, secure.Trim()));
    }

    [Theory]
    [InlineData("api.example.com", "api")]
    [InlineData("www.example.com", "wild")]
    [InlineData("a.b.example.com", "wild")]
    [InlineData("other.test", "fallback")]
    public async Task ServerNames_Sni_ChoosesChainAndItsCertificate(string serverName, string expected)
    {
        var chains = string.Join('\n',
            Chain("api", "{ server_names: [api.example.com] }", Serving("api")),
            Chain("wild", "{ server_names: [\"*.example.com\"] }", Serving("wildcard")),
            Chain("fallback", "{ transport_protocol: tls }", Serving("server")));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));
        using var client = SniClient(gateway);

        Assert.Equal(expected, await client.GetStringAsync($"https://{serverName}:{Port(gateway)}/"));
    }

    [Fact]
    public async Task OpensslSClient_Servername_ServedTheChainsCertificate()
    {
        if (!CommandLineTools.Installed(output, "/usr/bin/openssl"))
        {
            return;
        }
        var chains = string.Join('\n',
            Chain("api", "{ server_names: [api.example.com] }", Serving("api")),
            Chain("fallback", "{ transport_protocol: tls }", Serving("server")));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));
        var port = Port(gateway);

        var (_, api) = await CommandLineTools.RunAsync("/usr/bin/openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-servername", "api.example.com",
            "-CAfile", Certs.PathOf("ca.pem"), "-verify_return_error", "-verify_hostname", "api.example.com");
        var (_, other) = await CommandLineTools.RunAsync("/usr/bin/openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-servername", "other.test",
            "-CAfile", Certs.PathOf("ca.pem"));

        Assert.Contains("subject=CN=api", api.Replace(" = ", "=", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", api, StringComparison.Ordinal);
        Assert.Contains("subject=CN=server", other.Replace(" = ", "=", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplicationProtocols_ClientAlpn_ChoosesChainAndCodec()
    {
        var chains = string.Join('\n',
            Chain("h2", "{ transport_protocol: tls, application_protocols: [h2] }", Serving("server", "h2")),
            Chain("h1", "{ transport_protocol: tls }", Serving("server", "http/1.1")));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));
        using var h2 = SniClient(gateway, "h2");
        using var h1 = SniClient(gateway, "http/1.1");

        using var http2 = await h2.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{Port(gateway)}/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
        using var http1 = await h1.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{Port(gateway)}/") { Version = HttpVersion.Version11 });

        Assert.Equal(("h2", HttpVersion.Version20), (await http2.Content.ReadAsStringAsync(), http2.Version));
        Assert.Equal(("h1", HttpVersion.Version11), (await http1.Content.ReadAsStringAsync(), http1.Version));
        await gateway.AssertStatAsync("http.h2.downstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("http.h1.downstream_cx_http1_total", 1);
        // SocketsHttpHandler offers ALPN for HTTP/2 only: the HTTP/1.1 client's hello has none (the chain without application_protocols).
        await gateway.AssertStatAsync("tls_inspector.alpn_found", 1);
        await gateway.AssertStatAsync("tls_inspector.alpn_not_found", 1);
    }

    [Fact]
    public async Task DestinationPort_BeforeSourceRanges_MostSpecificAtEachLevelWins()
    {
        var port = FreePort();
        var chains = string.Join('\n',
            Chain("narrow-source", "{ source_prefix_ranges: [{ address_prefix: 127.0.0.1, prefix_len: 32 }] }"),
            Chain("by-port", $"{{ destination_port: {port}, source_prefix_ranges: [{{ address_prefix: 127.0.0.0, prefix_len: 8 }}] }}"),
            Chain("other-port", "{ destination_port: 1 }"));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, port: port));

        // The destination port is the first level: the chain naming the port wins over a narrower source range.
        Assert.Equal("by-port", await gateway.Client.GetStringAsync($"http://127.0.0.1:{port}/"));
    }

    [Fact]
    public async Task SourcePrefixRanges_LongestPrefixWins()
    {
        var chains = string.Join('\n',
            Chain("wide", "{ source_prefix_ranges: [{ address_prefix: 127.0.0.0, prefix_len: 8 }] }"),
            Chain("narrow", "{ source_prefix_ranges: [{ address_prefix: 127.0.0.1, prefix_len: 32 }] }"),
            Chain("elsewhere", "{ source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }"));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains));

        Assert.Equal("narrow", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
    }

    [Fact]
    public async Task NoChainMatches_WithoutDefault_ConnectionClosedAndCounted()
    {
        var chains = Chain("elsewhere", "{ source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains));

        await Assert.ThrowsAsync<HttpRequestException>(() => gateway.Client.GetStringAsync(gateway.ListenerUri("/")));

        await gateway.AssertStatAsync(Listener + "no_filter_chain_match", 1);
        await gateway.AssertStatAsync(Listener + "downstream_cx_total", 0);
    }

    [Fact]
    public async Task NoChainMatches_ListenerAccessLog_WritesNrAndFilterChainNotFound()
    {
        var dir = Directory.CreateTempSubdirectory("chain-log-").FullName;
        try
        {
            var path = Path.Combine(dir, "listener.log");
            var log = ListenerYaml.Indent(AccessLogLines.FileLogger(path, "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %FILTER_CHAIN_NAME%"), 4);
            await using (var gateway = await InProcessGateway.StartAsync(Yaml(Chain("elsewhere", "{ source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }"), log)))
            {
                await Assert.ThrowsAsync<HttpRequestException>(() => gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
                await gateway.AssertStatAsync(Listener + "no_filter_chain_match", 1);
            }

            // Written at shutdown at the latest.
            Assert.Equal("NR filter_chain_not_found -\n", await File.ReadAllTextAsync(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task NoChainMatches_DefaultFilterChain_TakesTheConnection()
    {
        var chains = Chain("elsewhere", "{ source_prefix_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }");
        // key " ": the chain as a mapping at the list item's indentation.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, "    default_filter_chain:\n" + Chain("default", key: " ")));

        Assert.Equal("default", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        await gateway.AssertStatAsync(Listener + "no_filter_chain_match", 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ListenerFiltersTimeout_SilentClient_ClosedOrContinued(bool continueOnTimeout)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var chains = Chain("secure", "{ transport_protocol: tls }", Serving("server")) + "\n" + Chain("plain", "{ transport_protocol: raw_buffer }");
        var extra = TlsInspector + "\n    listener_filters_timeout: 2s" + (continueOnTimeout ? "\n    continue_on_listener_filters_timeout: true" : "");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, extra), services => services.AddSingleton<TimeProvider>(time));

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Port(gateway));
        var stream = tcp.GetStream();
        await gateway.AssertStatAsync(Listener + "downstream_pre_cx_active", 1);
        time.Advance(TimeSpan.FromSeconds(2));
        await gateway.AssertStatAsync(Listener + "downstream_pre_cx_timeout", 1);
        await gateway.AssertStatAsync(Listener + "downstream_pre_cx_active", 0);

        if (continueOnTimeout)
        {
            // Nothing was detected: raw_buffer, the plain-text chain.
            await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
            // Read to the body's end, not the connection's: on the fake clock the delayed close never ends.
            var response = await ReadUntilAsync(stream, "plain");
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.EndsWith("plain", response, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(0, await ReadOrClosedAsync(stream));
            await gateway.AssertStatAsync(Listener + "downstream_cx_total", 0);
        }
    }

    [Fact]
    public async Task TlsInspector_ClientHelloOver64KiB_ClosedAndCounted()
    {
        var chains = Chain("secure", "{ transport_protocol: tls }", Serving("server"));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains, TlsInspector));

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Port(gateway));
        var stream = tcp.GetStream();
        // A handshake record holding only a ClientHello header that declares 70,000 bytes.
        await stream.WriteAsync(new byte[] { 22, 3, 1, 0, 4, 1, 0x01, 0x11, 0x70 });

        Assert.Equal(0, await ReadOrClosedAsync(stream));
        await gateway.AssertStatAsync("tls_inspector.client_hello_too_large", 1);
        await gateway.AssertStatAsync(Listener + "downstream_listener_filter_error", 1);
    }

    [Fact]
    public async Task ReloadedChains_ExistingConnectionKeepsItsChain()
    {
        var chains = Chain("first");
        // The old listener drains gradually: this random source puts the connection's close near the end of the 600 s.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(chains), services => services.AddSingleton<Random>(new LateRandom()));
        Assert.Equal("first", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));

        var runtime = (Gateway.Hosting.GatewayRuntime)gateway.Gateway;
        runtime.Apply(Gateway.Translation.EnvoyTranslator.Translate(Gateway.Configuration.EnvoyConfigLoader.LoadYaml(Yaml(Chain("second")))));

        // The pooled keep-alive connection was given "first" at accept; a new connection gets "second".
        Assert.Equal("first", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        using var fresh = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        Assert.Equal("second", await fresh.GetStringAsync(gateway.ListenerUri("/")));
    }

    private sealed class LateRandom : Random
    {
        public override double NextDouble() => 0.999;
    }

    /// <summary>Reads once: 0 when the gateway closed the connection (a reset counts as closed), else the bytes read.</summary>
    /// <summary>Reads until the text received ends with <paramref name="end"/> (bounded by 10 s).</summary>
    private static async Task<string> ReadUntilAsync(NetworkStream stream, string end)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }
            text.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, read));
        }
        return text.ToString();
    }

    private static async Task<int> ReadOrClosedAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await stream.ReadAsync(new byte[64], timeout.Token);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
