using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners.Upgrades;

/// <summary>
/// WebSocket through the gateway end to end: a ClientWebSocket, the gateway's listener, YARP's upgrade forwarding and a
/// Kestrel WebSocket echo upstream; <c>upgrade_configs</c> of the connection manager and of the route as Envoy decides them.
/// </summary>
public sealed class WebSocketIntegrationTests
{
    private const string Prefix = "http.ingress_http.";
    private const string WebSocketUpgrades = "upgrade_configs: [{ upgrade_type: websocket }]";

    private static string Config(WebSocketEchoUpstream upstream, IEnumerable<string>? hcm = null, string? routes = null)
        => TestConfigs.Backends("backend", [upstream.Port], hcmFields: hcm ?? [WebSocketUpgrades], routes: routes);

    [Fact]
    public async Task WebSocket_UpgradeConfigured_EchoesAndCounts()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var log = Path.Combine(Path.GetTempPath(), $"ws-{Guid.NewGuid():N}.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, WithFileLog(log, "%RESPONSE_CODE% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_CLUSTER% %RESPONSE_CODE_DETAILS%")));
        try
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), CancellationToken.None);
            await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 1);
            await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_active", 1);

            Assert.Equal("hello", await EchoAsync(socket, "hello"));
            Assert.Equal("second message", await EchoAsync(socket, "second message"));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

            Assert.Equal(WebSocketState.Closed, socket.State);
            Assert.Equal(1, upstream.Upgrades);
            await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_active", 0);
            await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 1);
            await gateway.AssertStatAsync(Prefix + "downstream_rq_1xx", 1);
            await gateway.AssertStatAsync(Prefix + "downstream_rq_ws_on_non_ws_route", 0);
            await gateway.AssertStatAsync("cluster.backend.upstream_rq_101", 1);
            await gateway.AssertStatAsync("cluster.backend.upstream_rq_total", 1);
            await gateway.AssertStatAsync("cluster.backend.upstream_cx_total", 1);
            await gateway.AssertStatAsync("cluster.backend.upstream_cx_active", 0);

            // Client frames are masked (2 + 4 + payload), the upstream's are not (2 + payload); both closes carry a 2-byte code.
            var received = (6 + 5) + (6 + 14) + (6 + 2);
            var sent = (2 + 5) + (2 + 14) + (2 + 2);
            var lines = await AccessLogLines.ReadAsync(gateway, log);
            Assert.Equal($"101 {received} {sent} backend via_upstream", Assert.Single(lines));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task WebSocket_NoUpgradeConfigs_Answers403WithoutReachingTheUpstream()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, hcm: []));

        Assert.Equal(HttpStatusCode.Forbidden, await RefusedStatusAsync(gateway));

        Assert.Equal(0, upstream.Upgrades);
        await gateway.AssertStatAsync(Prefix + "downstream_rq_ws_on_non_ws_route", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 0);
        await gateway.AssertStatAsync(Prefix + "downstream_rq_4xx", 1);
    }

    [Fact]
    public async Task WebSocket_ConnectionManagerDisablesIt_Answers403()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, ["upgrade_configs: [{ upgrade_type: WebSocket, enabled: false }]"]));

        Assert.Equal(HttpStatusCode.Forbidden, await RefusedStatusAsync(gateway));
        await gateway.AssertStatAsync(Prefix + "downstream_rq_ws_on_non_ws_route", 1);
    }

    [Fact]
    public async Task WebSocket_RouteDisablesIt_Answers403OnThatRouteOnly()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var routes = "- match: { prefix: \"/off\" }\n  route: { cluster: backend, upgrade_configs: [{ upgrade_type: websocket, enabled: false }] }\n"
            + "- match: { prefix: \"/\" }\n  route: { cluster: backend }";
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, routes: routes));

        Assert.Equal(HttpStatusCode.Forbidden, await RefusedStatusAsync(gateway, "/off"));
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri(gateway, "/on"), CancellationToken.None);
        Assert.Equal("on", await EchoAsync(socket, "on"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await gateway.AssertStatAsync(Prefix + "downstream_rq_ws_on_non_ws_route", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 1);
    }

    [Fact]
    public async Task WebSocket_RouteEnablesWhatTheConnectionManagerDoesNotList_Echoes()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var routes = "- match: { prefix: \"/ws\" }\n  route: { cluster: backend, upgrade_configs: [{ upgrade_type: websocket }] }\n"
            + "- match: { prefix: \"/\" }\n  route: { cluster: backend }";
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, hcm: [], routes: routes));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), CancellationToken.None);
        Assert.Equal("route", await EchoAsync(socket, "route"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedStatusAsync(gateway, "/other"));
    }

    [Fact]
    public async Task WebSocket_NoRouteButUpgradeAllowed_Answers404()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, routes: "- match: { prefix: \"/only\" }\n  route: { cluster: backend }"));

        Assert.Equal(HttpStatusCode.NotFound, await RefusedStatusAsync(gateway, "/ws"));
        await gateway.AssertStatAsync(Prefix + "no_route", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_rq_ws_on_non_ws_route", 0);
    }

    [Fact]
    public async Task WebSocket_OpenPastTheRouteTimeout_StillEchoes()
    {
        // Envoy starts the route timeout at the end of the downstream request, which an open tunnel never reaches.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var routes = "- match: { prefix: \"/\" }\n  route: { cluster: backend, timeout: 1s, retry_policy: { retry_on: 5xx, num_retries: 2, per_try_timeout: 0.5s } }";
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, routes: routes), services => services.AddSingleton<TimeProvider>(time));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("later", await EchoAsync(socket, "later"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_timeout", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_per_try_timeout", 0);
    }

    [Fact]
    public async Task WebSocket_RouteIdleTimeout_ClosesTheIdleTunnelAndCounts()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var routes = "- match: { prefix: \"/\" }\n  route: { cluster: backend, idle_timeout: 10s }";
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, routes: routes), services => services.AddSingleton<TimeProvider>(time));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), CancellationToken.None);
        // Activity on the tunnel restarts the timer.
        time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal("busy", await EchoAsync(socket, "busy"));
        time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal("still", await EchoAsync(socket, "still"));
        await gateway.AssertStatAsync(Prefix + "downstream_rq_idle_timeout", 0);

        time.Advance(TimeSpan.FromSeconds(10));
        await gateway.AssertStatAsync(Prefix + "downstream_rq_idle_timeout", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_active", 0);
        using var receive = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(async () => await socket.ReceiveAsync(new byte[16], receive.Token));
    }

    [Fact]
    public async Task WebSocket_FlushLogOnTunnelSuccessfullyEstablished_WritesAnEntryWhenThe101GoesOut()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        var log = Path.Combine(Path.GetTempPath(), $"ws-idle-{Guid.NewGuid():N}.log");
        var hcm = WithFileLog(log, "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%", "access_log_options: { flush_log_on_tunnel_successfully_established: true }");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, hcm));
        try
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), CancellationToken.None);
            Assert.Equal("x", await EchoAsync(socket, "x"));
            var established = await AccessLogLines.ReadAsync(gateway, log);
            Assert.Equal("DownstreamTunnelSuccessfullyEstablished 101 - via_upstream", Assert.Single(established));

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

            var lines = await AccessLogLines.ReadAsync(gateway, log, 2);
            Assert.Equal(["DownstreamTunnelSuccessfullyEstablished 101 - via_upstream", "DownstreamEnd 101 - via_upstream"], lines);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task WebSocket_Http2ExtendedConnect_EchoesToAnHttp11Upstream()
    {
        // RFC 8441 downstream (h2c, prior knowledge): Kestrel hands the extended CONNECT over, YARP speaks HTTP/1.1 upgrade upstream.
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, ["codec_type: HTTP2", "http2_protocol_options: { allow_connect: true }", WebSocketUpgrades]));

        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        await socket.ConnectAsync(WebSocketUri(gateway, "/ws"), invoker, CancellationToken.None);
        Assert.Equal("h2", await EchoAsync(socket, "h2"));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        Assert.Equal(1, upstream.Upgrades);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 1);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_active", 0);
        await gateway.AssertStatAsync(Prefix + "downstream_rq_http2_total", 1);
    }

    [Fact]
    public async Task WebSocket_Http2ExtendedConnectWithoutAllowConnect_StreamResetAndNoUpstream()
    {
        await using var upstream = await WebSocketEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, ["codec_type: HTTP2", WebSocketUpgrades]));

        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());

        // Envoy's codec without allow_connect refuses RFC 8441's :protocol with a stream reset.
        await Assert.ThrowsAnyAsync<Exception>(() => socket.ConnectAsync(WebSocketUri(gateway, "/ws"), invoker, CancellationToken.None));
        Assert.Equal(0, upstream.Upgrades);
        await gateway.AssertStatAsync(Prefix + "downstream_cx_upgrades_total", 0);
    }

    /// <summary>The connection manager's fields: WebSocket upgrades, <paramref name="extra"/>, and a file access log with <paramref name="format"/>.</summary>
    private static string[] WithFileLog(string path, string format, params string[] extra) =>
    [
        WebSocketUpgrades,
        .. extra,
        "access_log:",
        "- name: envoy.access_loggers.file",
        "  typed_config:",
        "    \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        $"    path: {path}",
        $"    log_format: {{ text_format_source: {{ inline_string: \"{format}\\n\" }} }}",
    ];

    private static Uri WebSocketUri(InProcessGateway gateway, string path)
        => new UriBuilder(gateway.ListenerUri(path)) { Scheme = "ws" }.Uri;

    private static async Task<string> EchoAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.True(received.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    /// <summary>The status of a refused WebSocket handshake.</summary>
    private static async Task<HttpStatusCode> RefusedStatusAsync(InProcessGateway gateway, string path = "/ws")
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri(gateway, path), CancellationToken.None));
        return socket.HttpStatusCode;
    }
}
