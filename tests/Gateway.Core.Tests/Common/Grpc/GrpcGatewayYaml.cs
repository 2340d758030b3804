using Gateway.Tests.Hosting;
using Grpc.Net.Client;

namespace Gateway.Tests.Common.Grpc;

/// <summary>A gateway in front of <see cref="GrpcEchoUpstream"/>: the bootstrap and an h2c channel (shared with Gateway.Filters.Tests).</summary>
internal static class GrpcGatewayYaml
{
    /// <summary>A listener in front of cluster <c>grpc</c> (HTTP/2 to the upstream); <paramref name="route"/> adds fields to the route action.</summary>
    public static string Build(int grpcPort, string route = "", string routeFields = "", string httpFilters = "", string connectionManager = "codec_type: HTTP2", int echoPort = 1)
        => ListenerYaml.Build(
            echoPort,
            httpFilters,
            routes: $$"""
                - name: grpc
                  match: { prefix: "/" }
                  route: { cluster: grpc{{(route.Length == 0 ? "" : ", " + route)}} }
                {{routeFields}}
                """,
            clusters: $$"""
                - name: grpc
                  type: STATIC
                  typed_extension_protocol_options:
                    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                      "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                      explicit_http_config: { http2_protocol_options: {} }
                  load_assignment:
                    cluster_name: grpc
                    endpoints:
                    - lb_endpoints:
                      - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{grpcPort}} } } }
                """,
            connectionManager: connectionManager);

    /// <summary>An h2c (prior knowledge) channel to the gateway's listener.</summary>
    public static GrpcChannel Channel(InProcessGateway gateway)
        => GrpcChannel.ForAddress(gateway.ListenerUri("/"), new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { UseProxy = false } });
}
