using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Stats;

/// <summary>Every downstream request and connection is counted once, whoever answered or closed it (real sockets).</summary>
public class DownstreamAccountingTests
{
    private const string Http = "http.ingress_http.";

    private static int ListenerPort(InProcessGateway gateway) => gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

    /// <summary>Asserts several <c>http.ingress_http.*</c> stats.</summary>
    private static async Task AssertStatsAsync(InProcessGateway gateway, params (string Name, long Value)[] expected)
    {
        foreach (var (name, value) in expected)
        {
            await gateway.AssertStatAsync(Http + name, value);
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1 junk\r\nhost: x\r\n\r\n", 400)]
    [InlineData("GET / HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n", 400)]
    [InlineData("GET / HTTP/1.1\r\nhost: x\r\nx-null: a\u0000b\r\n\r\n", 400)]
    public async Task KestrelRefusal_IsCountedAsA4xxAndAProtocolError(string request, int status)
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), request);

        Assert.Equal(status, response.Status);
        Assert.Empty(upstream.Requests);
        await AssertStatsAsync(gateway, ("downstream_rq_4xx", 1), ("downstream_rq_completed", 1), ("downstream_rq_total", 1), ("downstream_rq_http1_total", 1), ("downstream_cx_protocol_error", 1), ("downstream_rq_active", 0));
        await gateway.AssertStatAsync("listener.127.0.0.1_0.http.ingress_http.downstream_rq_4xx", 1);
        // The client closes as soon as it has the answer, within the gateway's delayed close: Envoy's early close, a remote one.
        await gateway.AssertStatAsync(Http + "downstream_cx_destroy_remote", 1);
        await gateway.AssertStatAsync(Http + "downstream_cx_delayed_close_timeout", 0);
    }

    [Fact]
    public async Task KestrelRefusal_OnTheAdminListener_IsCountedUnderHttpAdmin()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));

        var response = await RawHttpClient.SendRawAsync(gateway.Gateway.AdminBoundEndPoint!.Port, "GET /stats HTTP/1.1 junk\r\nhost: x\r\n\r\n");

        Assert.Equal(400, response.Status);
        await gateway.AssertStatAsync("http.admin.downstream_rq_4xx", 1);
        await gateway.AssertStatAsync("http.admin.downstream_cx_protocol_error", 1);
        await gateway.AssertStatAsync(Http + "downstream_rq_4xx", 0);
    }

    [Theory]
    [InlineData("header", 431)]
    [InlineData("request line", 414)]
    public async Task KestrelRefusal_TooLarge_IsCountedWithItsStatus(string part, int kestrelStatus)
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));
        // Larger than any limit Kestrel is given (Envoy's max_request_headers_kb is 60, URL included, then 431).
        var big = new string('a', 100 * 1024);
        var request = part == "header" ? $"GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n" : $"GET /{big} HTTP/1.1\r\nhost: x\r\n\r\n";

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), request);

        Assert.True(response.Status == kestrelStatus || response.Status == 431, $"status {response.Status}");
        Assert.Empty(upstream.Requests);
        await AssertStatsAsync(gateway, ("downstream_rq_4xx", 1), ("downstream_rq_completed", 1), ("downstream_rq_total", 1), ("downstream_cx_protocol_error", 1));
    }

    [Fact]
    public async Task KestrelRefusal_RequestHeadersTimeout_IsA408NotAProtocolError()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]),
            services => services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1)));

        // Headers that never end: Kestrel's header timeout answers 408.
        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET / HTTP/1.1\r\nhost: x\r\n");

        Assert.Equal(408, response.Status);
        // Closed by the client during the delayed close (Envoy's early close).
        await AssertStatsAsync(gateway, ("downstream_rq_4xx", 1), ("downstream_rq_completed", 1), ("downstream_rq_total", 1), ("downstream_cx_protocol_error", 0), ("downstream_cx_destroy_remote", 1));
    }

    [Fact]
    public async Task KestrelRefusal_AfterAGoodRequestOnTheSameConnection_CountsBothOnce()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, ListenerPort(gateway));
        await socket.SendAsync(Encoding.Latin1.GetBytes("GET /ok HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1 junk\r\n\r\n"));
        var received = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while ((read = await socket.ReceiveAsync(chunk, timeout.Token)) > 0)
        {
            received.Write(chunk, 0, read);
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK", text, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 400 Bad Request", text, StringComparison.Ordinal);
        await AssertStatsAsync(gateway, ("downstream_rq_total", 2), ("downstream_rq_completed", 2), ("downstream_rq_2xx", 1), ("downstream_rq_4xx", 1), ("downstream_cx_protocol_error", 1));
    }

    [Fact]
    public async Task BadChunkedBodyOfARoutedRequest_IsCountedOnceAndNeverChargedToTheHost()
    {
        await using var upstream = RecordingUpstream.Start();
        var outlier = "    outlier_detection: { consecutive_5xx: 2, consecutive_gateway_failure: 2, interval: 0.1s, base_ejection_time: 30s, max_ejection_percent: 100 }";
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port], outlier));

        // Kestrel refuses the body while the connection manager forwards it: one request each, the client's fault.
        for (var i = 0; i < 4; i++)
        {
            var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
            Assert.Equal(400, response.Status);
        }

        await AssertStatsAsync(gateway, ("downstream_rq_total", 4), ("downstream_rq_completed", 4), ("downstream_rq_4xx", 4), ("downstream_rq_active", 0), ("downstream_cx_protocol_error", 4));
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_enforced_total", 0);
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        Assert.DoesNotContain("failed_outlier_check", clusters, StringComparison.Ordinal);
        Assert.Contains($"svc::127.0.0.1:{upstream.Port}::rq_error::0\n", clusters, StringComparison.Ordinal);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_5xx") is null or 0);
    }

    [Fact]
    public async Task ClientCloses_KeepAliveConnection_CountsDestroyRemote()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, ListenerPort(gateway));
            await socket.SendAsync(Encoding.Latin1.GetBytes("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
            var chunk = new byte[4096];
            var read = await socket.ReceiveAsync(chunk);
            Assert.StartsWith("HTTP/1.1 200", Encoding.Latin1.GetString(chunk[..read]), StringComparison.Ordinal);
            socket.Shutdown(SocketShutdown.Both);
        }

        await AssertStatsAsync(gateway, ("downstream_cx_destroy", 1), ("downstream_cx_destroy_remote", 1), ("downstream_cx_destroy_local", 0), ("downstream_cx_destroy_active_rq", 0));
    }

    [Fact]
    public async Task GatewayCloses_ConnectionCloseAnswerClientStaysOpen_CountsDestroyLocal()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));
        await using var connection = await RawConnection.OpenAsync(ListenerPort(gateway));

        // The gateway's codec error answer closes the connection; the client never does, so the delayed close runs out.
        var response = await connection.SendRawAsync("GET / HTTP/1.1\r\nhost: x\r\nx-c: a\u0001b\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.True(await connection.ClosedByServerAsync());
        await AssertStatsAsync(gateway, ("downstream_cx_destroy", 1), ("downstream_cx_destroy_local", 1), ("downstream_cx_destroy_remote", 0), ("downstream_cx_delayed_close_timeout", 1));
    }

    [Fact]
    public async Task UpstreamDiesMidBody_GatewayResetsTheClient_CountsDestroyLocalActiveRq()
    {
        // An upstream that sends headers and part of the body, then closes.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[8192];
            var head = string.Empty;
            while (!head.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer);
                head += Encoding.Latin1.GetString(buffer, 0, read);
            }
            await socket.SendAsync(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial"));
            await Task.Delay(100);
        });
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [((IPEndPoint)listener.LocalEndpoint).Port]));

        await using (var connection = await RawConnection.OpenAsync(ListenerPort(gateway)))
        {
            // The response started, so the gateway can only reset the connection under it.
            await Assert.ThrowsAsync<IOException>(() => connection.SendRawAsync("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
        }
        await serving;

        await AssertStatsAsync(gateway, ("downstream_cx_destroy", 1), ("downstream_cx_destroy_local", 1), ("downstream_cx_destroy_local_active_rq", 1), ("downstream_cx_destroy_remote", 0), ("downstream_cx_destroy_remote_active_rq", 0));
    }

    [Fact]
    public async Task ClientClosesMidRequest_CountsDestroyRemoteActiveRq()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port],
            "    outlier_detection: { consecutive_5xx: 1, consecutive_gateway_failure: 1, interval: 0.1s, base_ejection_time: 30s, max_ejection_percent: 100 }"));

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, ListenerPort(gateway));
            await socket.SendAsync(Encoding.Latin1.GetBytes("GET /delay/5000 HTTP/1.1\r\nhost: x\r\n\r\n"));
            await gateway.AssertStatAsync("cluster.svc.upstream_rq_active", 1);
            socket.Close(0);
        }

        await AssertStatsAsync(gateway, ("downstream_cx_destroy", 1), ("downstream_cx_destroy_remote", 1), ("downstream_cx_destroy_active_rq", 1), ("downstream_cx_destroy_remote_active_rq", 1), ("downstream_cx_destroy_local_active_rq", 0), ("downstream_rq_rx_reset", 1));
        // The client gave up, the host did not fail: outlier detection hears nothing.
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_active", 0);
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        Assert.Contains($"svc::127.0.0.1:{upstream.Port}::rq_error::0\n", clusters, StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_enforced_total", 0);
    }
}
