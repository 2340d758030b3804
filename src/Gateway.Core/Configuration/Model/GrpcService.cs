namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.GrpcService</c>: a gRPC service reached through one of the gateway's clusters (Envoy's
/// in-built client, <c>envoy_grpc</c>); the Google C++ client is not available here.
/// </summary>
[EnvoyType("envoy.config.core.v3.GrpcService", NotSupported = ["retry_policy"])]
public sealed class GrpcService : EnvoyMessage
{
    /// <summary>A target reached directly (xDS only: the gateway's own gRPC client, plaintext).</summary>
    [ProtoField(2, InOneOf = true)]
    public GoogleGrpc? GoogleGrpc { get; set; }

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

/// <summary><c>envoy.config.core.v3.GrpcService.GoogleGrpc</c>: a target URI (no credentials: plaintext).</summary>
[EnvoyType("envoy.config.core.v3.GrpcService.GoogleGrpc", NotSupported =
[
    "channel_credentials", "call_credentials", "credentials_factory_name", "config", "per_stream_buffer_limit_bytes",
    "channel_args", "channel_credentials_plugin", "call_credentials_plugin",
])]
public sealed class GoogleGrpc : EnvoyMessage
{
    /// <summary>The target, <c>host:port</c>.</summary>
    [ProtoField(1)]
    public string? TargetUri { get; set; }

    /// <summary>The prefix of the client's stats (required by Envoy).</summary>
    [ProtoField(4)]
    public string? StatPrefix { get; set; }
}
