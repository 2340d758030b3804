using System.Net;
using System.Text.Json;
using Gateway.Clusters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Clusters;

/// <summary>
/// The gateway's own requests to its clusters (Envoy's async client), over real loopback sockets: a static
/// <c>collector</c> cluster beside the listener's <c>echo</c> cluster.
/// </summary>
public class ClusterClientsTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static string Collector(string extra = "", params int[] ports)
        => ListenerYaml.Dedent($$"""
            - name: collector
              type: STATIC
              lb_policy: ROUND_ROBIN
            {{ListenerYaml.Indent(extra, 2)}}
              load_assignment:
                cluster_name: collector
                endpoints:
                - lb_endpoints:
            {{string.Join('\n', ports.Select(p => $"      - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {p} }} }} }}"))}}
            """);

    private static Task<InProcessGateway> StartAsync(int echoPort, string collector, Action<IServiceCollection>? services = null)
        => InProcessGateway.StartAsync(ListenerYaml.Build(echoPort, string.Empty, clusters: collector), services);

    private static HttpMessageInvoker ClientFor(InProcessGateway gateway, string cluster = "collector")
        => gateway.Services.GetRequiredService<ClusterClients>().Factory(cluster);

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMessageInvoker client, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://collector" + path);
        configure?.Invoke(request);
        using var response = await client.SendAsync(request, CancellationToken.None);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SendAsync_StaticCluster_ReachesTheHostWithTheCallersAuthorityAndChargesTheClustersStats()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port));
        using var client = ClientFor(gateway);

        var (status, body) = await SendAsync(client, "/api/v2/spans?x=1");

        Assert.Equal(HttpStatusCode.OK, status);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(body, Web)!;
        Assert.Equal("/api/v2/spans?x=1", echoed.Path);
        Assert.Equal("collector", echoed.Headers["host"]);
        Assert.Equal("true", echoed.Headers["x-envoy-internal"]);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_2xx", 1);
        await gateway.AssertStatAsync("cluster.collector.internal.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_http1_total", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_active", 1);
        // The listener's cluster saw nothing.
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_total", 0);
        var host = gateway.Services.GetRequiredService<ClusterRegistry>().GetOrCreate("collector").Host($"127.0.0.1:{upstream.Port}");
        Assert.Equal(1, host.RqTotal);
        Assert.Equal(1, host.RqSuccess);
        Assert.Equal(0, host.RqActive);
    }

    [Fact]
    public async Task SendAsync_TwoHostsRoundRobin_AlternatesBetweenThem()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(first.Port, Collector(ports: [first.Port, second.Port]));
        using var client = ClientFor(gateway);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "/")).Status);
        }

        Assert.Equal(3, first.Requests);
        Assert.Equal(3, second.Requests);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_200", 6);
    }

    [Fact]
    public async Task SendAsync_MaxRequestsHeldByAnUnreadResponse_OverflowsUntilItIsDisposed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector("circuit_breakers: { thresholds: [ { max_requests: 1 } ] }", upstream.Port));
        using var client = ClientFor(gateway);

        // The request lasts until its body is read or disposed, as an Envoy stream until it completes.
        using var held = new HttpRequestMessage(HttpMethod.Get, "http://collector/bytes/10");
        var open = await client.SendAsync(held, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        await gateway.AssertStatAsync("cluster.collector.circuit_breakers.default.rq_open", 1);

        using var refused = new HttpRequestMessage(HttpMethod.Get, "http://collector/");
        using (var overflow = await client.SendAsync(refused, CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, overflow.StatusCode);
            Assert.Equal("true", Assert.Single(overflow.Headers.GetValues("x-envoy-overloaded")));
            Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: overflow", await overflow.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_pending_overflow", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 1);

        open.Dispose();
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.collector.circuit_breakers.default.rq_open", 0);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "/")).Status);
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public async Task SendAsync_Http2PriorKnowledge_SpeaksH2cToTheHost()
    {
        await using var upstream = await H2cUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port));
        using var client = ClientFor(gateway);

        using var request = new HttpRequestMessage(HttpMethod.Post, "http://collector/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        using var response = await client.SendAsync(request, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2 collector", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_http1_total", 0);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_200", 1);
    }

    [Fact]
    public async Task Factory_UnknownCluster_ThrowsNamingIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port));

        var error = Assert.Throws<ArgumentException>(() => ClientFor(gateway, "zipkin"));

        Assert.StartsWith("unknown cluster 'zipkin'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_NoHealthyHost_AnswersNoHealthyUpstreamWithoutARequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector("common_lb_config: { healthy_panic_threshold: { value: 0 } }", upstream.Port));
        using var client = ClientFor(gateway);
        var cluster = gateway.Services.GetRequiredService<ClusterRegistry>().GetOrCreate("collector");
        cluster.Host($"127.0.0.1:{upstream.Port}").SetHealthFlag(HostHealthFlags.FailedActiveHc);

        var (status, body) = await SendAsync(client, "/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("no healthy upstream", body);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_none_healthy", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_total", 0);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_total", 0);
    }

    [Fact]
    public async Task SendAsync_ConsecutiveServerErrors_OutlierDetectionEjectsTheHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector(
            "outlier_detection: { consecutive_5xx: 2, interval: 30s, base_ejection_time: 30s, max_ejection_percent: 100 }", upstream.Port));
        using var client = ClientFor(gateway);

        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(client, "/status/500")).Status);
        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(client, "/status/500")).Status);

        await gateway.AssertStatAsync("cluster.collector.outlier_detection.ejections_enforced_consecutive_5xx", 1);
        var host = gateway.Services.GetRequiredService<ClusterRegistry>().GetOrCreate("collector").Host($"127.0.0.1:{upstream.Port}");
        Assert.Equal(HostHealthFlags.FailedOutlierCheck, host.HealthFlags);
        Assert.Equal(2, host.RqError);
    }

    [Fact]
    public async Task SendAsync_HostRefusesConnections_AnswersConnectFailureAndCountsNoRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var closed = ClosedPort();
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: closed));
        using var client = ClientFor(gateway);

        var (status, body) = await SendAsync(client, "/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.StartsWith("upstream connect error or disconnect/reset before headers. reset reason: remote connection failure", body, StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.collector.upstream_cx_connect_fail", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_total", 0);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 0);
    }

    [Fact]
    public async Task SendAsync_TimeoutExpiresBeforeHeaders_Answers504AndCountsTheTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port), services => services.AddSingleton<TimeProvider>(time));
        using var client = ClientFor(gateway);

        var sending = SendAsync(client, "/delay/30000", r => r.Options.Set(ClusterClients.Timeout, TimeSpan.FromSeconds(5)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (upstream.Requests == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Equal(1, upstream.Requests);
        Assert.False(sending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        var (status, body) = await sending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("upstream request timeout", body);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_timeout", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_504", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 0);
        var host = gateway.Services.GetRequiredService<ClusterRegistry>().GetOrCreate("collector").Host($"127.0.0.1:{upstream.Port}");
        Assert.Equal(1, host.RqTimeout);
    }

    [Fact]
    public async Task SendAsync_TimeoutExpiresDuringTheBody_CutsItOffAndCountsTheTimeoutOnly()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(async (context, _) =>
        {
            await context.Response.WriteAsync("partial", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port), services => services.AddSingleton<TimeProvider>(time));
        using var client = ClientFor(gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://collector/");
        request.Options.Set(ClusterClients.Timeout, TimeSpan.FromSeconds(5));

        using var response = await client.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        Assert.Equal("partial", System.Text.Encoding.ASCII.GetString(buffer, 0, await body.ReadAsync(buffer)));
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 1);
        time.Advance(TimeSpan.FromSeconds(5));
        var ended = false;
        try
        {
            while (await body.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) > 0)
            {
            }
            ended = true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or HttpRequestException or OperationCanceledException)
        {
            ended = true;
        }

        Assert.True(ended);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_timeout", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.collector.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.collector.circuit_breakers.default.rq_open", 0);
        // The response code was charged with the headers; the timeout does not charge a 504 as well.
        Assert.Null(await gateway.StatAsync("cluster.collector.upstream_rq_504"));
    }

    [Fact]
    public async Task SendAsync_ClusterRemoved_FailsNamingIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream.Port, Collector(ports: upstream.Port));
        using var client = ClientFor(gateway);
        // What YARP's OnClusterRemoved does to the runtime (ClusterMembershipListener).
        gateway.Services.GetRequiredService<ClusterRegistry>().GetOrCreate("collector").ProxyCluster = null;

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(client, "/"));

        Assert.Equal("cluster 'collector' is no longer configured", error.Message);
        Assert.Equal(0, upstream.Requests);
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A Kestrel upstream speaking only HTTP/2 on plain text (prior knowledge), as an OTLP/gRPC collector does.</summary>
    private sealed class H2cUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private H2cUpstream(WebApplication app, int port)
        {
            _app = app;
            Port = port;
        }

        public int Port { get; }

        public static async Task<H2cUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
            var app = builder.Build();
            app.Run(context => context.Response.WriteAsync(context.Request.Protocol + " " + context.Request.Host.Value));
            await app.StartAsync();
            return new H2cUpstream(app, new Uri(app.Urls.First()).Port);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
