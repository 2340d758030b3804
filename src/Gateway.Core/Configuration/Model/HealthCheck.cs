namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.HealthCheck</c>: active health checking of a cluster's hosts.</summary>
[EnvoyType("envoy.config.core.v3.HealthCheck", NotSupported =
[
    "alt_port", "tcp_health_check", "grpc_health_check", "custom_health_check", "event_log_path", "event_service",
    "event_logger", "always_log_health_check_failures", "always_log_health_check_success", "tls_options",
    "transport_socket_match_criteria",
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
