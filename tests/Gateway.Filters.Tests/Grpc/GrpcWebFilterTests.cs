using System.Net;
using System.Text;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Common.Grpc;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using static Gateway.Tests.Grpc.GrpcFilterTestConfig;

namespace Gateway.Tests.Grpc;

/// <summary>envoy.filters.http.grpc_web: Grpc.Net.Client.Web clients and raw HTTP/1.1 requests through the gateway to a real Grpc.AspNetCore server.</summary>
public sealed class GrpcWebFilterTests
{
    /// <summary>A gRPC-Web POST to <paramref name="path"/> of the plain echo upstream (no gRPC server), read whole.</summary>
    private static async Task<(HttpResponseMessage Response, byte[] Body)> PostToNonGrpcUpstreamAsync(string path)
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(echo.Port, GrpcWeb), configureGateway: g => g.AddBuiltInHttpFilters());
        using var request = Post(gateway, path, "application/grpc-web", Frame(new EchoRequest { Message = "x" }));
        var response = await gateway.Client.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static GrpcChannel WebChannel(InProcessGateway gateway, GrpcWebMode mode, Version version)
        => GrpcChannel.ForAddress(gateway.ListenerUri("/"), new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(mode, new SocketsHttpHandler { UseProxy = false }),
            HttpVersion = version,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task Unary_GrpcWebClientOverHttp11_Replies(GrpcWebMode mode)
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb);
        using var channel = WebChannel(gateway, mode, HttpVersion.Version11);

        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "hello web" });

        Assert.Equal("hello web", reply.Message);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_http1_total", 1);
        await AssertStatsAsync(gateway, MethodStat("grpc-web", "Unary"), ("0", 1), ("success", 1), ("total", 1));
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task ServerStream_GrpcWebClientOverHttp11_AllRepliesThenOk(GrpcWebMode mode)
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb);
        using var channel = WebChannel(gateway, mode, HttpVersion.Version11);

        using var call = new Echo.EchoClient(channel).ServerStream(new EchoRequest { Message = "s", Count = 20 });
        var replies = await RepliesAsync(call);

        Assert.Equal(20, replies.Count);
        Assert.Equal("s 19", replies[^1]);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ServerStream_GrpcWebTextClientOverHttp2_AllRepliesThenOk()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb, codec: "codec_type: HTTP2");
        using var channel = WebChannel(gateway, GrpcWebMode.GrpcWebText, HttpVersion.Version20);

        using var call = new Echo.EchoClient(channel).ServerStream(new EchoRequest { Message = "h2", Count = 3 });
        var replies = await RepliesAsync(call);

        Assert.Equal(["h2 0", "h2 1", "h2 2"], replies);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_http2_total", 1);
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task Unary_UpstreamFailsWithStatus_GrpcWebClientSeesStatusAndMessage(GrpcWebMode mode)
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb);
        using var channel = WebChannel(gateway, mode, HttpVersion.Version11);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "nf", FailWith = (int)StatusCode.NotFound }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("failing attempt 1", error.Status.Detail);
        await AssertStatsAsync(gateway, MethodStat("grpc-web", "Unary"), ("5", 1), ("failure", 1), ("total", 1));
    }

    [Fact]
    public async Task ServerStream_GrpcWebThenGrpcStats_StatsSeeGrpcFramesAndTrailers()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb + "\n" + StatsFilter("stats_for_all_methods: true"));
        using var channel = WebChannel(gateway, GrpcWebMode.GrpcWebText, HttpVersion.Version11);

        using var call = new Echo.EchoClient(channel).ServerStream(new EchoRequest { Message = "both", Count = 4 });
        var replies = await RepliesAsync(call);

        // grpc_stats (nearer the router) counts the upstream's gRPC frames before grpc_web re-encodes them.
        Assert.Equal(4, replies.Count);
        await AssertStatsAsync(gateway, MethodStat("grpc", "ServerStream"), ("response_message_count", 4), ("success", 1));
        await gateway.AssertStatAsync(MethodStat("grpc-web", "ServerStream") + "success", 1);
    }

    [Fact]
    public async Task Unary_RawHttp11Binary_BodyEndsWithTrailerFrame()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb);
        using var request = Post(gateway, UnaryPath, "application/grpc-web", Frame(new EchoRequest { Message = "raw" }));

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc-web+proto", Header(response, "content-type"));
        Assert.Null(Header(response, "content-length"));
        var reply = Frame(new EchoReply { Message = "raw", Attempt = 1 });
        Assert.Equal(reply, body[..reply.Length]);
        // Envoy's trailer frame: flags 0x80, the length, "name:value\r\n" per trailer.
        var trailers = body[reply.Length..];
        Assert.Equal(0x80, trailers[0]);
        Assert.Equal(trailers.Length - 5, (trailers[1] << 24) | (trailers[2] << 16) | (trailers[3] << 8) | trailers[4]);
        Assert.Equal("grpc-status:0\r\n", Encoding.ASCII.GetString(trailers, 5, trailers.Length - 5));
    }

    [Fact]
    public async Task Unary_RawHttp11Text_EachFrameBase64()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, GrpcWeb);
        var frame = Frame(new EchoRequest { Message = "text" });
        using var request = Post(gateway, UnaryPath, "application/grpc-web-text", Encoding.ASCII.GetBytes(Convert.ToBase64String(frame)));
        request.Headers.TryAddWithoutValidation("accept", "application/grpc-web-text");

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/grpc-web-text+proto", Header(response, "content-type"));
        var reply = Convert.ToBase64String(Frame(new EchoReply { Message = "text", Attempt = 1 }));
        var trailer = Convert.ToBase64String(Frame("grpc-status:0\r\n"u8, 0x80));
        Assert.Equal(reply + trailer, body);
    }

    [Theory]
    [InlineData("abc", "grpc_base_64_decode_failed_bad_size")]
    [InlineData("ab!d", "grpc_base_64_decode_failed")]
    public async Task Request_TextBodyNotBase64_400WithGrpcStatusUnseenUpstream(string body, string details)
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        var probe = new StreamInfoProbeFactory();
        await using var gateway = await InProcessGateway.StartAsync(
            GrpcGatewayYaml.Build(upstream.Port, httpFilters: StreamInfoProbeFactory.Entry + "\n" + GrpcWeb, connectionManager: ""),
            configureGateway: g => g.AddBuiltInHttpFilters().AddHttpFilter(probe));
        using var request = Post(gateway, UnaryPath, "application/grpc-web-text", Encoding.ASCII.GetBytes(body));

        using var response = await gateway.Client.SendAsync(request);

        // Envoy's local reply of this filter is not gRPC; its encoder moves the text into grpc-message.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("13", Header(response, "grpc-status"));
        Assert.Equal("Bad gRPC-web request, invalid base64 data.", Header(response, "grpc-message"));
        // The client did not accept grpc-web-text: the reply is binary gRPC-Web.
        Assert.Equal("application/grpc-web+proto", Header(response, "content-type"));
        Assert.Equal("0", Header(response, "content-length"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        await gateway.AssertStatAsync("cluster.grpc.upstream_rq_total", 0);
        Assert.Equal(details, Assert.Single(await probe.CompletedAsync(1)).Details);
    }

    [Fact]
    public async Task Response_NotGrpcUpstreamWithBody_BodyBecomesGrpcMessage()
    {
        var (response, body) = await PostToNonGrpcUpstreamAsync("/not-grpc");

        // The echo upstream is no gRPC server (a JSON 200): Envoy keeps the status, moves the body into grpc-message
        // and maps the HTTP status (httpToGrpcStatus(200) is UNKNOWN).
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc-web+proto", Header(response, "content-type"));
        Assert.Equal("2", Header(response, "grpc-status"));
        Assert.Contains("POST", Header(response, "grpc-message"), StringComparison.Ordinal);
        Assert.Equal("0", Header(response, "content-length"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task Response_NotGrpcUpstreamHeadersOnly_OnlyContentTypeChanged()
    {
        var (response, _) = await PostToNonGrpcUpstreamAsync("/status/503");

        // Envoy transforms only a response with a body: a headers-only 503 keeps its status and gets no grpc-status.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/grpc-web+proto", Header(response, "content-type"));
        Assert.Null(Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Request_NotGrpcWeb_PassesUntouched()
    {
        await using var echo = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(echo.Port, GrpcWeb), configureGateway: g => g.AddBuiltInHttpFilters());
        // A CORS preflight (or any request that is not gRPC-Web) is not the filter's.
        using var request = new HttpRequestMessage(HttpMethod.Options, gateway.ListenerUri("/preflight"));
        request.Headers.TryAddWithoutValidation("access-control-request-method", "POST");
        request.Headers.TryAddWithoutValidation("origin", "http://example.com");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = await FilterTestConfig.EchoAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("OPTIONS", echoed.Method);
    }
}
