using Gateway.Configuration;

namespace Gateway.Filters.GrpcHttp1Bridge;

/// <summary><c>envoy.extensions.filters.http.grpc_http1_bridge.v3.Config</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.grpc_http1_bridge.v3.Config")]
public sealed class GrpcHttp1BridgeConfig : EnvoyMessage
{
    /// <summary>An HTTP/1.1 request with <c>content-type: application/x-protobuf</c> is sent upstream as gRPC (framed), and the frame header is taken off the response.</summary>
    [ProtoField(1)]
    public bool UpgradeProtobufToGrpc { get; set; }

    /// <summary>The query of a bridged request's <c>:path</c> is removed before it goes upstream.</summary>
    [ProtoField(2)]
    public bool IgnoreQueryParameters { get; set; }
}
