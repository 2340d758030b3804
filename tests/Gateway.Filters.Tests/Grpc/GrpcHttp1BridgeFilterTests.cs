using System.Net;
using Gateway.Filters;
using Gateway.Tests.Common.Grpc;
using Gateway.Tests.Hosting;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Gateway.Tests.Grpc.GrpcFilterTestConfig;

namespace Gateway.Tests.Grpc;

/// <summary>envoy.filters.http.grpc_http1_bridge: raw HTTP/1.1 requests through the gateway to a real gRPC server over h2c.</summary>
public sealed class GrpcHttp1BridgeFilterTests
{
    private const string FailPath = "/gateway.tests.fail.Fail/AfterMessage";

    /// <summary>A gRPC method of the upstream that sends one message, then fails with grpc-status 13 in its trailers.</summary>
    private static readonly Action<WebApplication> FailAfterMessage = app => app.MapPost(FailPath, async context =>
    {
        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(Frame(new EchoReply { Message = "partial" }));
        context.Response.AppendTrailer("grpc-status", "13");
        context.Response.AppendTrailer("grpc-message", "broke after one message");
    });

    [Fact]
    public async Task Unary_RawHttp11Ok_GrpcStatusInHeadersWithContentLength()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Bridge());
        using var request = Post(gateway, UnaryPath, "application/grpc", Frame(new EchoRequest { Message = "bridged" }));

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        var reply = Frame(new EchoReply { Message = "bridged", Attempt = 1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", Header(response, "grpc-status"));
        Assert.Equal(reply.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "content-length"));
        Assert.False(response.Headers.TransferEncodingChunked ?? false);
        Assert.Equal(reply, body);
    }

    [Fact]
    public async Task Unary_TrailersCarryFailure_503WithGrpcStatusAndMessageHeaders()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync(map: FailAfterMessage);
        await using var gateway = await StartAsync(upstream, Bridge());
        using var request = Post(gateway, FailPath, "application/grpc", Frame(new EchoRequest { Message = "f" }));

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        // Envoy's bridge: any grpc-status but 0 is a 503; the trailers become headers; the body is what came.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("13", Header(response, "grpc-status"));
        Assert.Equal("broke after one message", Header(response, "grpc-message"));
        Assert.Equal(Frame(new EchoReply { Message = "partial" }), body);
    }

    [Fact]
    public async Task Unary_TrailersOnlyFailure_PassedAs200WithGrpcStatusHeader()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Bridge());
        using var request = Post(gateway, UnaryPath, "application/grpc", Frame(new EchoRequest { Message = "nf", FailWith = 5 }));

        using var response = await gateway.Client.SendAsync(request);

        // A trailers-only reply ends with its headers: Envoy's bridge lets it through as it is.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("5", Header(response, "grpc-status"));
        Assert.Equal("failing attempt 1", Header(response, "grpc-message"));
    }

    [Fact]
    public async Task Protobuf_UpgradeConfigured_FramedUpstreamAndUnframedReply()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Bridge("upgrade_protobuf_to_grpc: true"));
        using var request = Post(gateway, UnaryPath, "application/x-protobuf", new EchoRequest { Message = "proto" }.ToByteArray());

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", Header(response, "grpc-status"));
        Assert.Equal(new EchoReply { Message = "proto", Attempt = 1 }.ToByteArray(), body);
        Assert.Equal(1, upstream.State.Calls("proto"));
    }

    [Fact]
    public async Task Protobuf_UpgradeNotConfigured_NotBridged()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Bridge());
        using var request = Post(gateway, UnaryPath, "application/x-protobuf", new EchoRequest { Message = "plain" }.ToByteArray());

        using var response = await gateway.Client.SendAsync(request);

        // Not gRPC: the upstream's own answer to a non-gRPC content type (415), untouched.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, upstream.State.Calls("plain"));
    }

    [Fact]
    public async Task Path_IgnoreQueryParameters_UpstreamGetsPathWithoutQuery()
    {
        string? seen = null;
        await using var upstream = await GrpcEchoUpstream.StartAsync(map: app => app.Use(next => context =>
        {
            seen = context.Request.Path + context.Request.QueryString;
            return next(context);
        }));
        await using var gateway = await StartAsync(upstream, Bridge("ignore_query_parameters: true"));
        using var request = Post(gateway, UnaryPath + "?debug=1", "application/grpc", Frame(new EchoRequest { Message = "q" }));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("0", Header(response, "grpc-status"));
        Assert.Equal(UnaryPath, seen);
    }
}
