using System.Buffers.Binary;
using Gateway.Filters;
using Gateway.Tests.Common.Grpc;
using Gateway.Tests.Hosting;
using Google.Protobuf;

namespace Gateway.Tests.Grpc;

/// <summary>The gRPC filters in front of <see cref="GrpcEchoUpstream"/>, and gRPC's message framing for raw requests.</summary>
internal static class GrpcFilterTestConfig
{
    public const string GrpcWeb = """
        - name: envoy.filters.http.grpc_web
          typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb }
        """;

    public const string UnaryPath = "/gateway.tests.echo.Echo/Unary";

    /// <summary>The stat prefix Envoy's Grpc::Context gives the echo service's <paramref name="method"/> on cluster <c>grpc</c>.</summary>
    public static string MethodStat(string protocol, string method) => "cluster.grpc." + protocol + ".gateway.tests.echo.Echo." + method + ".";

    public static string Bridge(string fields = "") => $$"""
        - name: envoy.filters.http.grpc_http1_bridge
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_http1_bridge.v3.Config
            {{fields}}
        """;

    public static string StatsFilter(string fields) => $$"""
        - name: envoy.filters.http.grpc_stats
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig
            {{fields}}
        """;

    /// <summary>The gateway (listener codec <paramref name="codec"/>: AUTO is HTTP/1.1 on plain text) with <paramref name="filters"/> before the router.</summary>
    public static Task<InProcessGateway> StartAsync(GrpcEchoUpstream upstream, string filters, string codec = "")
        => InProcessGateway.StartAsync(GrpcGatewayYaml.Build(upstream.Port, httpFilters: filters, connectionManager: codec), configureGateway: g => g.AddBuiltInHttpFilters());

    /// <summary>One uncompressed gRPC message: flags 0, big-endian length, the message.</summary>
    public static byte[] Frame(IMessage message) => Frame(message.ToByteArray(), 0);

    public static byte[] Frame(ReadOnlySpan<byte> payload, byte flags)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>A POST of <paramref name="body"/> with <paramref name="contentType"/> over HTTP/1.1.</summary>
    public static HttpRequestMessage Post(InProcessGateway gateway, string path, string contentType, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("content-type", contentType);
        return new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri(path)) { Content = content, Version = System.Net.HttpVersion.Version11 };
    }

    /// <summary>Every reply of a server-streaming call, in order.</summary>
    public static async Task<List<string>> RepliesAsync(global::Grpc.Core.AsyncServerStreamingCall<EchoReply> call)
    {
        var replies = new List<string>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            replies.Add(call.ResponseStream.Current.Message);
        }
        return replies;
    }

    /// <summary>Asserts the stats <c>&lt;prefix&gt;&lt;name&gt;</c>, each with its value.</summary>
    public static async Task AssertStatsAsync(InProcessGateway gateway, string prefix, params (string Name, long Value)[] expected)
    {
        foreach (var (name, value) in expected)
        {
            await gateway.AssertStatAsync(prefix + name, value);
        }
    }

    public static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}
