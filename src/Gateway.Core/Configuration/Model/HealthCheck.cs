namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.HealthCheck</c>: active health checking of a cluster's hosts.</summary>
[EnvoyType("envoy.config.core.v3.HealthCheck", NotSupported =
[
    "alt_port", "grpc_health_check", "custom_health_check", "event_log_path", "event_service",
    "event_logger", "always_log_health_check_failures", "always_log_health_check_success", "tls_options",
])]
public sealed class HealthCheck : EnvoyMessage
{
    /// <summary>Time to wait for a health check response (required, &gt; 0).</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Time between health checks (required, &gt; 0).</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>The first check of a host waits a random time in [0, initial_jitter).</summary>
    public TimeSpan? InitialJitter { get; set; }

    /// <summary>A random time in [0, interval_jitter) added to every interval.</summary>
    public TimeSpan? IntervalJitter { get; set; }

    /// <summary>A random share (in percent of the interval) added to every interval.</summary>
    public uint IntervalJitterPercent { get; set; }

    /// <summary>Consecutive failed checks (network failures, retriable statuses) before a host is marked unhealthy (required).</summary>
    public uint? UnhealthyThreshold { get; set; }

    /// <summary>Consecutive successful checks before an unhealthy host is marked healthy again (required).</summary>
    public uint? HealthyThreshold { get; set; }

    /// <summary>Keep the health check connection between checks; default true.</summary>
    public bool? ReuseConnection { get; set; }

    /// <summary>HTTP health checking.</summary>
    public HttpHealthCheck? HttpHealthCheck { get; set; }

    /// <summary>TCP health checking (connect, optionally send bytes and expect bytes back).</summary>
    public TcpHealthCheck? TcpHealthCheck { get; set; }

    /// <summary>The interval while the cluster has never had traffic; default 60s.</summary>
    public TimeSpan? NoTrafficInterval { get; set; }

    /// <summary>The interval for healthy hosts while the cluster has never had traffic; default no_traffic_interval.</summary>
    public TimeSpan? NoTrafficHealthyInterval { get; set; }

    /// <summary>The interval for unhealthy hosts; default interval.</summary>
    public TimeSpan? UnhealthyInterval { get; set; }

    /// <summary>The interval after a failed check of a host that is not yet unhealthy; default unhealthy_interval.</summary>
    public TimeSpan? UnhealthyEdgeInterval { get; set; }

    /// <summary>The interval after a successful check of a host that is not yet healthy; default interval.</summary>
    public TimeSpan? HealthyEdgeInterval { get; set; }

    /// <summary>Picks the transport socket of the checks from the cluster's <c>transport_socket_matches</c> (instead of each host's).</summary>
    [ProtoField(23)]
    public System.Text.Json.Nodes.JsonObject? TransportSocketMatchCriteria { get; set; }
}

/// <summary><c>envoy.config.core.v3.HealthCheck.HttpHealthCheck</c>.</summary>
[EnvoyType("envoy.config.core.v3.HealthCheck.HttpHealthCheck", NotSupported =
[
    "send", "receive", "response_buffer_size", "request_headers_to_add", "codec_client_type", "service_name_matcher",
])]
public sealed class HttpHealthCheck : EnvoyMessage
{
    /// <summary>The Host header of the check; default the cluster name.</summary>
    public string? Host { get; set; }

    /// <summary>The path requested (required).</summary>
    public string? Path { get; set; }

    /// <summary>Headers removed from the check request.</summary>
    public List<string> RequestHeadersToRemove { get; set; } = [];

    /// <summary>Statuses that pass, half-open ranges in [100, 600); default [200, 201).</summary>
    public List<Int64Range> ExpectedStatuses { get; set; } = [];

    /// <summary>Non-expected statuses that count towards unhealthy_threshold instead of failing the host at once.</summary>
    public List<Int64Range> RetriableStatuses { get; set; } = [];

    /// <summary>The request method; default GET.</summary>
    public RequestMethod Method { get; set; }
}

/// <summary><c>envoy.config.core.v3.HealthCheck.TcpHealthCheck</c>.</summary>
[EnvoyType("envoy.config.core.v3.HealthCheck.TcpHealthCheck", NotSupported = ["proxy_protocol_config"])]
public sealed class TcpHealthCheck : EnvoyMessage
{
    /// <summary>Bytes written after connecting; none makes a connect-only check when <see cref="Receive"/> is empty too.</summary>
    public HealthCheckPayload? Send { get; set; }

    /// <summary>Blocks that must all be found in the response, in order (not necessarily adjacent); empty: connect-only check.</summary>
    public List<HealthCheckPayload> Receive { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.HealthCheck.Payload</c>: one of <c>text</c> (hex) or <c>binary</c> (base64 in JSON/YAML).</summary>
[EnvoyType("envoy.config.core.v3.HealthCheck.Payload")]
public sealed class HealthCheckPayload : EnvoyMessage
{
    /// <summary>Hex-encoded payload, e.g. <c>"000000FF"</c>.</summary>
    public string? Text { get; set; }

    /// <summary>Binary payload (a protobuf <c>bytes</c> field: base64 in JSON/YAML).</summary>
    [ProtoBytes]
    public string? Binary { get; set; }
}

/// <summary><c>envoy.config.core.v3.RequestMethod</c>.</summary>
public enum RequestMethod
{
    /// <summary>Not set (GET for health checks).</summary>
    MethodUnspecified = 0,

    /// <summary>GET.</summary>
    Get = 1,

    /// <summary>HEAD.</summary>
    Head = 2,

    /// <summary>POST.</summary>
    Post = 3,

    /// <summary>PUT.</summary>
    Put = 4,

    /// <summary>DELETE.</summary>
    Delete = 5,

    /// <summary>CONNECT (not allowed for health checks).</summary>
    Connect = 6,

    /// <summary>OPTIONS.</summary>
    Options = 7,

    /// <summary>TRACE.</summary>
    Trace = 8,

    /// <summary>PATCH.</summary>
    Patch = 9,
}

/// <summary>Decodes <see cref="HealthCheckPayload"/>s as Envoy's PayloadMatcher::loadProtoBytes does.</summary>
internal static class HealthCheckPayloads
{
    /// <summary>The bytes of a hex string, or null when it is empty, of odd length or not hex (Envoy's Hex::decode failing).</summary>
    public static byte[]? TryDecodeHex(string text)
    {
        if (text.Length == 0 || text.Length % 2 != 0)
        {
            return null;
        }
        var bytes = new byte[text.Length / 2];
        return Convert.FromHexString(text, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length ? bytes : null;
    }

    /// <summary>The bytes of a validated payload (<c>text</c> hex or <c>binary</c> base64).</summary>
    public static byte[] Decode(HealthCheckPayload payload)
        => payload.Text is { } text ? TryDecodeHex(text)! : Convert.FromBase64String(payload.Binary ?? string.Empty);
}
