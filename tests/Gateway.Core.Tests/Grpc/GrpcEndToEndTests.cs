using System.Net;
using System.Net.Http.Headers;
using Gateway.Tests.Common;
using Gateway.Tests.Common.Grpc;
using Gateway.Tests.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Gateway.Tests.Grpc;

/// <summary>
/// gRPC through the gateway: a Grpc.Net.Client client over h2c to the listener, the gateway over h2c to a real
/// Grpc.AspNetCore server; every streaming kind, trailers, retries on gRPC status, deadlines and Envoy's trailers-only local replies.
/// </summary>
public sealed class GrpcEndToEndTests
{
    internal static string Yaml(int grpcPort, string route = "", string routeFields = "", string httpFilters = "", string connectionManager = "codec_type: HTTP2")
        => GrpcGatewayYaml.Build(grpcPort, route, routeFields, httpFilters, connectionManager);

    internal static GrpcChannel Channel(InProcessGateway gateway) => GrpcGatewayYaml.Channel(gateway);

    [Fact]
    public async Task Unary_H2cBothSides_RepliesAndCountsUpstream200()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);

        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "hello" });

        Assert.Equal("hello", reply.Message);
        await gateway.AssertStatAsync("cluster.grpc.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.grpc.upstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_http2_total", 1);
    }

    [Fact]
    public async Task ServerStream_ManyReplies_AllArriveThenOkTrailers()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);

        using var call = new Echo.EchoClient(channel).ServerStream(new EchoRequest { Message = "m", Count = 50 });
        var replies = new List<string>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            replies.Add(reply.Message);
        }

        Assert.Equal(50, replies.Count);
        Assert.Equal("m 49", replies[^1]);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ClientStream_ManyMessages_ServerSeesThemInOrder()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);

        using var call = new Echo.EchoClient(channel).ClientStream();
        for (var i = 0; i < 5; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "c" + i });
        }
        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal("c0,c1,c2,c3,c4", reply.Message);
        Assert.Equal(5, reply.Attempt);
    }

    [Fact]
    public async Task Bidi_OneMessageAtATime_EachReplyArrivesBeforeTheNextIsSent()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        using var call = new Echo.EchoClient(channel).Bidi(cancellationToken: timeout.Token);
        for (var i = 0; i < 5; i++)
        {
            // The gateway must stream both ways: a buffered request or response would never answer here.
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "b" + i });
            Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
            Assert.Equal("b" + i, call.ResponseStream.Current.Message);
            Assert.Equal(i + 1, call.ResponseStream.Current.Attempt);
        }
        await call.RequestStream.CompleteAsync();

        Assert.False(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Unary_UpstreamFailsWithStatus_ClientSeesTheUpstreamStatusAndMessage()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "nf", FailWith = (int)StatusCode.NotFound }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("failing attempt 1", error.Status.Detail);
        // A gRPC failure is still HTTP 200 to Envoy's cluster stats.
        await gateway.AssertStatAsync("cluster.grpc.upstream_rq_200", 1);
    }

    [Fact]
    public async Task Unary_RetryOnUnavailable_SecondAttemptSucceeds()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, route: "retry_policy: { retry_on: unavailable, num_retries: 2 }"));
        using var channel = Channel(gateway);

        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "retry", FailWith = (int)StatusCode.Unavailable, FailTimes = 1 });

        Assert.Equal(2, reply.Attempt);
        Assert.Equal(2, upstream.State.Calls("retry"));
        await gateway.AssertStatAsync("cluster.grpc.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("cluster.grpc.upstream_rq_retry_success", 1);
    }

    [Fact]
    public async Task Unary_RetryOnUnavailableExhausted_ClientSeesUnavailable()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, route: "retry_policy: { retry_on: unavailable, num_retries: 1 }"));
        using var channel = Channel(gateway);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "down", FailWith = (int)StatusCode.Unavailable }));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("failing attempt 2", error.Status.Detail);
        Assert.Equal(2, upstream.State.Calls("down"));
    }

    [Fact]
    public async Task Unary_ClientDeadline_UpstreamSeesGrpcTimeoutAndCallEnds()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port));
        using var channel = Channel(gateway);
        var client = new Echo.EchoClient(channel);

        var seen = await client.UnaryAsync(new EchoRequest { Message = "d" }, deadline: DateTime.UtcNow.AddSeconds(30));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { Message = "slow", DelayMs = 10_000 }, deadline: DateTime.UtcNow.AddMilliseconds(300)));

        // The deadline travels as grpc-timeout (Grpc.Net.Client sends it in milliseconds or seconds).
        Assert.Matches("^[0-9]+[mSu]$", seen.GrpcTimeout);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Unary_GrpcTimeoutHeaderMax_GatewayEndsTheStreamAsUnavailable()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, route: "max_stream_duration: { grpc_timeout_header_max: 0s }"));
        using var client = RawHttp2Client();

        // No client-side deadline: only the gateway can end this call, from its grpc-timeout header.
        using var response = await client.SendAsync(GrpcRequest(gateway, new EchoRequest { Message = "slow", DelayMs = 10_000 }, grpcTimeout: "200m"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("14", Header(response, "grpc-status"));
        Assert.Equal("downstream duration timeout", Header(response, "grpc-message"));
    }

    [Fact]
    public async Task LocalReply_NoRoute_TrailersOnlyUnimplemented()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        var yaml = Yaml(upstream.Port).Replace("match: { prefix: \"/\" }", "match: { prefix: \"/other\" }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var client = RawHttp2Client();

        using var response = await client.SendAsync(GrpcRequest(gateway, new EchoRequest { Message = "x" }), HttpCompletionOption.ResponseHeadersRead);
        var contentLength = response.Content.Headers.NonValidated.TryGetValues("content-length", out var lengths) ? lengths.ToString() : null;
        var body = await response.Content.ReadAsByteArrayAsync();

        // Envoy's prepareLocalReply for gRPC: 200, application/grpc, grpc-status from the HTTP status, no body.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("12", Header(response, "grpc-status"));
        Assert.Null(Header(response, "grpc-message"));
        Assert.Empty(body);
        // Kestrel itself adds content-length: 0 to a response that ends with its headers (Envoy sends none).
        Assert.True(contentLength is null or "0", contentLength);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 1);
    }

    [Fact]
    public async Task LocalReply_NoHealthyUpstream_ClientSeesUnavailableWithTheBodyAsMessage()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        var port = upstream.Port;
        await upstream.DisposeAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(port));
        using var channel = Channel(gateway);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" }));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.StartsWith("upstream connect error or disconnect/reset before headers.", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalReply_MessageWithPercentAndNonAscii_PercentEncoded()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        var routes = "  direct_response: { status: 503, body: { inline_string: \"50% ünavailable~\" } }";
        var yaml = Yaml(upstream.Port).Replace("  route: { cluster: grpc }", routes, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var client = RawHttp2Client();

        using var response = await client.SendAsync(GrpcRequest(gateway, new EchoRequest { Message = "x" }));

        Assert.Equal("14", Header(response, "grpc-status"));
        Assert.Equal("50%25 %C3%BCnavailable%7E", Header(response, "grpc-message"));
    }

    /// <summary>A header of the response's headers or trailers (a trailers-only response carries grpc-status in its headers).</summary>
    internal static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.TrailingHeaders.TryGetValues(name, out values) ? string.Join(",", values) : null;

    internal static HttpClient RawHttp2Client() => new(new SocketsHttpHandler { UseProxy = false })
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A unary <c>Echo/Unary</c> call framed by hand: a 5-byte gRPC message header, then the message.</summary>
    internal static HttpRequestMessage GrpcRequest(InProcessGateway gateway, EchoRequest message, string? grpcTimeout = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/gateway.tests.echo.Echo/Unary"))
        {
            Content = new ByteArrayContent(Frame(message)),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (grpcTimeout is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);
        }
        return request;
    }

    internal static byte[] Frame(Google.Protobuf.IMessage message)
    {
        var payload = Google.Protobuf.MessageExtensions.ToByteArray(message);
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }
}
