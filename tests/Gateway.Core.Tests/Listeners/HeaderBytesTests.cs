using System.Text;
using Gateway.Listeners;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Tests.Listeners;

/// <summary>Header bytes end to end: raw sockets on both sides of an in-process gateway.</summary>
public class HeaderBytesTests
{
    private const string Outlier = "    outlier_detection: { consecutive_5xx: 2, consecutive_gateway_failure: 2, consecutive_local_origin_failure: 2, interval: 0.1s, base_ejection_time: 30s, max_ejection_percent: 100 }";

    private static string Config(params int[] ports) => TestConfigs.Backends("svc", ports, Outlier)
        .Replace("route: { cluster: svc }", "route: { cluster: svc, retry_policy: { retry_on: \"5xx,reset,connect-failure\", num_retries: 2 } }", StringComparison.Ordinal);

    private static int ListenerPort(InProcessGateway gateway) => gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

    private static async Task AssertNothingEjectedAsync(InProcessGateway gateway)
    {
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        Assert.DoesNotContain("failed_outlier_check", clusters, StringComparison.Ordinal);
        await gateway.AssertStatAsync("cluster.svc.outlier_detection.ejections_enforced_total", 0);
    }

    [Fact]
    public async Task ObsTextValue_TenRequests_ForwardedByteForByteAndNothingEjected()
    {
        await using var first = RecordingUpstream.Start();
        await using var second = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(Config(first.Port, second.Port));
        // UTF-8 "café", then bytes that are not UTF-8 at all: all obs-text to Envoy.
        const string value = "caf\u00c3\u00a9 \u0080\u00ff\u00fe\tend";

        for (var i = 0; i < 10; i++)
        {
            var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), $"GET /r{i} HTTP/1.1\r\nhost: x\r\nx-name: {value}\r\n\r\n");
            Assert.Equal(200, response.Status);
        }

        // The recorded heads are Latin-1: one char per byte received.
        var requests = first.Requests.Concat(second.Requests).ToArray();
        Assert.Equal(10, requests.Length);
        Assert.All(requests, request => Assert.Equal(value, Assert.Single(request.Header("x-name"))));
        await AssertNothingEjectedAsync(gateway);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_total", 10);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_2xx", 10);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_5xx") is null or 0);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_rx_reset") is null or 0);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_retry") is null or 0);
    }

    [Fact]
    public async Task ObsTextResponseHeader_ReachesTheClientByteForByte()
    {
        await using var upstream = RecordingUpstream.Start(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nx-up: caf\u00c3\u00a9 \u0080\u00ff\r\ncontent-length: 2\r\n\r\nok"));
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("caf\u00c3\u00a9 \u0080\u00ff", response.Header("x-up"));
    }

    /// <summary>Header lines Envoy's codec refuses: control characters in a value (NUL, LF and CR Kestrel refuses itself), non-token names.</summary>
    public static TheoryData<string> InvalidHeaderLines()
    {
        var data = new TheoryData<string>();
        foreach (var c in "\u0000\u0001\u0008\u000a\u000b\u000d\u001f\u007f")
        {
            data.Add($"x-name: a{c}b");
        }
        foreach (var c in "\"(/@{ \u00e9\u007f")
        {
            data.Add($"x-n{c}me: v");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidHeaderLines))]
    public async Task InvalidHeader_Returns400AndNeverReachesTheUpstream(string line)
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), $"GET / HTTP/1.1\r\nhost: x\r\n{line}\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.Empty(upstream.Requests);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_total", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_protocol_error", 1);
    }

    [Fact]
    public async Task ControlCharacterValue_GatewayAnswer_IsEnvoysCodecErrorAndClosesTheConnection()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET / HTTP/1.1\r\nhost: x\r\nx-name: a\u0001b\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.Equal("close", response.Header("connection"));
        Assert.Equal("text/plain", response.Header("content-type"));
        Assert.Equal("Bad Request", response.Body);
    }

    [Fact]
    public async Task HorizontalTabInValue_IsForwarded()
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET / HTTP/1.1\r\nhost: x\r\nx-name: a\tb\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("a\tb", Assert.Single(Assert.Single(upstream.Requests).Header("x-name")));
    }

    [Theory]
    [InlineData("/unencodable")]
    [InlineData("/transform-throws")]
    public async Task FailureBeforeTheWire_Returns500AndIsNeverChargedToTheHost(string path)
    {
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port),
            services => services.AddSingleton<ITransformProvider, FailingTransformProvider>());

        for (var i = 0; i < 5; i++)
        {
            var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), $"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
            Assert.Equal(500, response.Status);
        }
        var ok = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET /fine HTTP/1.1\r\nhost: x\r\n\r\n");

        Assert.Equal(200, ok.Status);
        Assert.Single(upstream.Requests);
        await AssertNothingEjectedAsync(gateway);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_total", 1);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_5xx") is null or 0);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_rx_reset") is null or 0);
        Assert.True(await gateway.StatAsync("cluster.svc.upstream_rq_retry") is null or 0);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_active", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 5);
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        Assert.Contains($"svc::127.0.0.1:{upstream.Port}::rq_error::0\n", clusters, StringComparison.Ordinal);
        Assert.Contains($"svc::127.0.0.1:{upstream.Port}::rq_active::0\n", clusters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlCharacterInUpstreamResponseHeader_Returns502ProtocolErrorAndIsChargedToTheHost()
    {
        await using var upstream = RecordingUpstream.Start(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nx-up: a\u0001b\r\ncontent-length: 2\r\n\r\nok"));
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Backends("svc", [upstream.Port]));

        var response = await RawHttpClient.SendRawAsync(ListenerPort(gateway), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");

        // The upstream's fault, unlike a client's: Envoy's upstream codec refuses the response.
        Assert.Equal(502, response.Status);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: protocol error", response.Body);
        Assert.Null(response.Header("x-up"));
        await gateway.AssertStatAsync("cluster.svc.upstream_cx_protocol_error", 1);
        await gateway.AssertStatAsync("cluster.svc.upstream_rq_502", 1);
    }

    [Fact]
    public void AreValid_RepeatedCalls_DoNotAllocate()
    {
        var headers = new HeaderDictionary { ["host"] = "x", ["x-a"] = "caf\u00e9", ["x-b"] = new(["1", "2"]) };
        Assert.True(HeaderBytes.AreValid(headers));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            HeaderBytes.AreValid(headers);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>Failures a request can still meet in the gateway: a header no connection can encode, a transform that throws.</summary>
    private sealed class FailingTransformProvider : ITransformProvider
    {
        public void ValidateRoute(TransformRouteValidationContext context)
        {
        }

        public void ValidateCluster(TransformClusterValidationContext context)
        {
        }

        public void Apply(TransformBuilderContext context) => context.AddRequestTransform(static transform =>
        {
            var path = transform.HttpContext.Request.Path;
            if (path == "/unencodable")
            {
                transform.ProxyRequest.Headers.TryAddWithoutValidation("x-wide", "\u0100");
            }
            else if (path == "/transform-throws")
            {
                throw new InvalidOperationException("transform failed");
            }
            return default;
        });
    }
}
