using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.TcpProxy;

namespace Gateway.Tests.Router;

/// <summary>
/// Terminating CONNECT (<c>connect_matcher</c> routes with <c>upgrade_configs</c> CONNECT <c>connect_config</c>, and
/// <c>allow_post</c>): the gateway opens a TCP connection to the cluster's host and the stream carries its bytes, against
/// a real TCP echo server.
/// </summary>
public sealed class ConnectTerminationTests
{
    private const string Prefix = "http.ingress_http.";

    private static string Yaml(int tcpPort, string match = "connect_matcher: {}", string connectConfig = "{}", string codec = "codec_type: HTTP2")
        => ListenerYaml.Build(
            1,
            string.Empty,
            routes: $$"""
                - name: tunnel
                  match: { {{match}} }
                  route:
                    cluster: tcp
                    upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {{connectConfig}} }]
                """,
            clusters: $$"""
                - name: tcp
                  type: STATIC
                  connect_timeout: 2s
                  load_assignment:
                    cluster_name: tcp
                    endpoints:
                    - lb_endpoints:
                      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{tcpPort}} } } }
                """,
            connectionManager: codec);

    private static HttpClient Http2Client() => new(new SocketsHttpHandler { UseProxy = false })
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(20),
    };

    [Fact]
    public async Task Post_AllowPostOverHttp2_BytesEchoBothWaysWhileStreaming()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(echo.Port, match: "prefix: \"/\"", connectConfig: "{ allow_post: true }"));
        using var client = Http2Client();
        var body = new DuplexContent();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/tunnel")) { Content = body, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var lines = new List<string>();
        foreach (var line in new[] { "one\n", "two\n" })
        {
            // Each line comes back before the next is sent: the tunnel streams both ways.
            await body.WriteAsync(line);
            lines.Add(await ReadAsync(stream, line.Length));
        }
        body.Complete();
        var rest = await new StreamReader(stream).ReadToEndAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["one\n", "two\n"], lines);
        Assert.Equal(string.Empty, rest);
        Assert.Equal(1, echo.Accepted);
        await gateway.AssertStatAsync("cluster.tcp.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.tcp.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.tcp.upstream_cx_tx_bytes_total", 8);
        await gateway.AssertStatAsync("cluster.tcp.upstream_cx_rx_bytes_total", 8);
        await gateway.AssertStatAsync("cluster.tcp.upstream_cx_active", 0);
    }

    [Fact]
    public async Task Post_AllowPostOverHttp1_UpstreamAnswerIsTheResponseBody()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(echo.Port, match: "prefix: \"/\"", connectConfig: "{ allow_post: true }", codec: "codec_type: AUTO"));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/tunnel"), new StringContent("hello over http/1.1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello over http/1.1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_WithoutAllowPost_ProxiedAsHttp()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(echo.Port, match: "prefix: \"/\"", codec: "codec_type: AUTO"));

        // The TCP echo is no HTTP server: the POST went as an HTTP request, answered with a protocol error.
        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/tunnel"), new StringContent("x"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Connect_Http2ToADeadPort_Answers503WithTheConnectFailure()
    {
        var dead = TcpTestServer.DeadPort();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(dead, match: "prefix: \"/\"", connectConfig: "{ allow_post: true }"));
        using var client = Http2Client();

        using var response = await client.PostAsync(gateway.ListenerUri("/tunnel"), new StringContent("x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.StartsWith("upstream connect error or disconnect/reset before headers. reset reason: remote connection failure", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.tcp.upstream_cx_connect_fail", 1);
        await gateway.AssertStatAsync("cluster.tcp.upstream_rq_503", 1);
    }

    [Fact]
    public async Task Connect_Http2Connect_TunnelsToTheClusterHost()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(echo.Port));
        var uri = gateway.ListenerUri("/");

        await using var h2 = await RawHttp2.ConnectAsync(uri.Host, uri.Port);
        await h2.SendHeadersAsync(streamId: 1, [(":method", "CONNECT"), (":authority", "backend.example:7000")], endStream: false);
        var status = await h2.ReadResponseStatusAsync(streamId: 1);
        await h2.SendDataAsync(1, Encoding.ASCII.GetBytes("ping"), endStream: false);
        var echoed = await h2.ReadDataAsync(1, 4);
        await h2.SendDataAsync(1, [], endStream: true);
        var ended = await h2.ReadUntilEndStreamAsync(1);

        Assert.Equal(200, status);
        Assert.Equal("ping", Encoding.ASCII.GetString(echoed));
        Assert.True(ended);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_active", 0);
        await gateway.AssertStatAsync("cluster.tcp.upstream_rq_200", 1);
    }

    [Fact]
    public async Task Connect_Http11Connect_RefusedWith403()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(echo.Port, codec: "codec_type: AUTO"));

        var response = await RawHttpClient.SendRawAsync(gateway.ListenerUri("/").Port, "CONNECT backend.example:7000 HTTP/1.1\r\nHost: backend.example:7000\r\n\r\n");

        Assert.Equal(403, response.Status);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public void Load_ConnectMatcherRouteWithoutConnectConfig_Refused()
    {
        var yaml = Yaml(1).Replace("upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }]", "upgrade_configs: [{ upgrade_type: CONNECT }]", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith("routes[0].route.upgrade_configs", error.Location.Path, StringComparison.Ordinal);
        Assert.Contains("a connect_matcher route must terminate CONNECT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConnectConfigOnWebSocket_EnvoysError()
    {
        var yaml = Yaml(1, match: "prefix: \"/\"").Replace("upgrade_type: CONNECT", "upgrade_type: websocket", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Equal("Non-CONNECT upgrade type websocket has ConnectConfig", error.Message);
    }

    private static async Task<string> ReadAsync(Stream stream, int length)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer);
    }

    /// <summary>A request body written while the response is read (HTTP/2 full duplex).</summary>
    private sealed class DuplexContent : HttpContent
    {
        private readonly System.Threading.Channels.Channel<byte[]> _chunks = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();

        public ValueTask WriteAsync(string text) => _chunks.Writer.WriteAsync(Encoding.ASCII.GetBytes(text));

        public void Complete() => _chunks.Writer.Complete();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // SocketsHttpHandler holds an HTTP/2 request's HEADERS until the body writes or flushes; the response is
            // awaited before the first line is written.
            await stream.FlushAsync();
            await foreach (var chunk in _chunks.Reader.ReadAllAsync())
            {
                await stream.WriteAsync(chunk);
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
