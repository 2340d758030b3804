namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.GrpcService</c>: a gRPC service reached through one of the gateway's clusters (Envoy's
/// in-built client, <c>envoy_grpc</c>); the Google C++ client is not available here.
/// </summary>
[EnvoyType("envoy.config.core.v3.GrpcService", NotSupported = ["google_grpc", "retry_policy"])]
public sealed class GrpcService : EnvoyMessage
{
    /// <summary>The cluster the service is reached through (required: the only client here).</summary>
    [ProtoField(1, InOneOf = true)]
    public EnvoyGrpc? EnvoyGrpc { get; set; }

    /// <summary>The deadline of one call; unset means the user of the service chooses.</summary>
    [ProtoField(3)]
    public TimeSpan? Timeout { get; set; }

    /// <summary>Headers (gRPC metadata) sent with every call, as given (no formatters).</summary>
    [ProtoField(5)]
    public List<HeaderValue> InitialMetadata { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.GrpcService.EnvoyGrpc</c>.</summary>
[EnvoyType("envoy.config.core.v3.GrpcService.EnvoyGrpc", NotSupported = ["retry_policy", "max_receive_message_length", "skip_envoy_headers"])]
public sealed class EnvoyGrpc : EnvoyMessage
{
    /// <summary>The upstream cluster (required, non-empty).</summary>
    [ProtoField(1)]
    public string? ClusterName { get; set; }

    /// <summary>The <c>:authority</c> of the calls; default the cluster name.</summary>
    [ProtoField(2)]
    public string? Authority { get; set; }
}
