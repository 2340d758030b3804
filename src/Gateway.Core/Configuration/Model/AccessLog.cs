namespace Gateway.Configuration;

/// <summary><c>envoy.config.accesslog.v3.AccessLog</c> (named so beside the <c>Gateway.AccessLog</c> namespace): one access logger, with an optional filter deciding which entries it writes.</summary>
[EnvoyType("envoy.config.accesslog.v3.AccessLog")]
public sealed class AccessLogConfig : EnvoyMessage
{
    /// <summary>The logger's name, e.g. <c>envoy.access_loggers.file</c> (the <c>typed_config</c>'s type picks the logger).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Which entries are written; all when absent.</summary>
    [ProtoField(2)]
    public AccessLogFilter? Filter { get; set; }

    /// <summary>The logger's configuration (<c>FileAccessLog</c>, <c>StdoutAccessLog</c>, <c>StderrAccessLog</c>).</summary>
    [ProtoField(4, InOneOf = true)]
    [AnyField(EnvoyTypeCategory.AccessLogger)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.AccessLogFilter</c>: exactly one of its filters.</summary>
[EnvoyType("envoy.config.accesslog.v3.AccessLogFilter", NotSupported = ["extension_filter"])]
public sealed class AccessLogFilter : EnvoyMessage
{
    /// <summary>On the response code.</summary>
    [ProtoField(1, InOneOf = true)]
    public StatusCodeFilter? StatusCodeFilter { get; set; }

    /// <summary>On the request's duration in milliseconds.</summary>
    [ProtoField(2, InOneOf = true)]
    public DurationFilter? DurationFilter { get; set; }

    /// <summary>Only requests that are not health checks.</summary>
    [ProtoField(3, InOneOf = true)]
    public NotHealthCheckFilter? NotHealthCheckFilter { get; set; }

    /// <summary>Only traced requests (forced by <c>x-envoy-force-trace</c>, as Envoy).</summary>
    [ProtoField(4, InOneOf = true)]
    public TraceableFilter? TraceableFilter { get; set; }

    /// <summary>A sampled share of requests.</summary>
    [ProtoField(5, InOneOf = true)]
    public RuntimeFilter? RuntimeFilter { get; set; }

    /// <summary>All of its filters.</summary>
    [ProtoField(6, InOneOf = true)]
    public AndFilter? AndFilter { get; set; }

    /// <summary>Any of its filters.</summary>
    [ProtoField(7, InOneOf = true)]
    public OrFilter? OrFilter { get; set; }

    /// <summary>On a request header.</summary>
    [ProtoField(8, InOneOf = true)]
    public HeaderFilter? HeaderFilter { get; set; }

    /// <summary>On the response flags.</summary>
    [ProtoField(9, InOneOf = true)]
    public ResponseFlagFilter? ResponseFlagFilter { get; set; }

    /// <summary>On the gRPC status.</summary>
    [ProtoField(10, InOneOf = true)]
    public GrpcStatusFilter? GrpcStatusFilter { get; set; }

    /// <summary>On a value of the stream's dynamic metadata.</summary>
    [ProtoField(12, InOneOf = true)]
    public MetadataFilter? MetadataFilter { get; set; }

    /// <summary>On the kind of entry (downstream end, upstream end, ...).</summary>
    [ProtoField(13, InOneOf = true)]
    public LogTypeFilter? LogTypeFilter { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.ComparisonFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.ComparisonFilter")]
public sealed class ComparisonFilter : EnvoyMessage
{
    /// <summary>The comparison.</summary>
    [ProtoField(1)]
    public ComparisonOp Op { get; set; }

    /// <summary>The value compared against (its default; there is no runtime layer).</summary>
    [ProtoField(2)]
    public RuntimeUInt32? Value { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.ComparisonFilter.Op</c>.</summary>
public enum ComparisonOp
{
    /// <summary>=</summary>
    Eq = 0,

    /// <summary>&gt;=</summary>
    Ge = 1,

    /// <summary>&lt;=</summary>
    Le = 2,
}

/// <summary>
/// <c>envoy.config.core.v3.RuntimeUInt32</c>. There is no runtime layer: <see cref="RuntimeKey"/> is accepted and the
/// <see cref="DefaultValue"/> always applies (docs/compatibility.md).
/// </summary>
[EnvoyType("envoy.config.core.v3.RuntimeUInt32")]
public sealed class RuntimeUInt32 : EnvoyMessage
{
    /// <summary>The value.</summary>
    [ProtoField(2)]
    public uint DefaultValue { get; set; }

    /// <summary>The runtime key that would override it in Envoy (required).</summary>
    [ProtoField(3)]
    public string? RuntimeKey { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.StatusCodeFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.StatusCodeFilter")]
public sealed class StatusCodeFilter : EnvoyMessage
{
    /// <summary>The comparison (required).</summary>
    [ProtoField(1)]
    public ComparisonFilter? Comparison { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.DurationFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.DurationFilter")]
public sealed class DurationFilter : EnvoyMessage
{
    /// <summary>The comparison (required), in milliseconds.</summary>
    [ProtoField(1)]
    public ComparisonFilter? Comparison { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.NotHealthCheckFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.NotHealthCheckFilter")]
public sealed class NotHealthCheckFilter : EnvoyMessage;

/// <summary><c>envoy.config.accesslog.v3.TraceableFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.TraceableFilter")]
public sealed class TraceableFilter : EnvoyMessage;

/// <summary><c>envoy.config.accesslog.v3.RuntimeFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.RuntimeFilter")]
public sealed class RuntimeFilter : EnvoyMessage
{
    /// <summary>The runtime key (required; there is no runtime layer, so <see cref="PercentSampled"/> applies).</summary>
    [ProtoField(1)]
    public string? RuntimeKey { get; set; }

    /// <summary>The share sampled; 0 % when absent.</summary>
    [ProtoField(2)]
    public FractionalPercent? PercentSampled { get; set; }

    /// <summary>Sample at random instead of by the <c>x-request-id</c>.</summary>
    [ProtoField(3)]
    public bool UseIndependentRandomness { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.AndFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.AndFilter")]
public sealed class AndFilter : EnvoyMessage
{
    /// <summary>At least two filters.</summary>
    [ProtoField(1)]
    public List<AccessLogFilter> Filters { get; set; } = [];
}

/// <summary><c>envoy.config.accesslog.v3.OrFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.OrFilter")]
public sealed class OrFilter : EnvoyMessage
{
    /// <summary>At least two filters.</summary>
    [ProtoField(2)]
    public List<AccessLogFilter> Filters { get; set; } = [];
}

/// <summary><c>envoy.config.accesslog.v3.HeaderFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.HeaderFilter")]
public sealed class HeaderFilter : EnvoyMessage
{
    /// <summary>The request header matcher (required).</summary>
    [ProtoField(1)]
    public HeaderMatcher? Header { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.ResponseFlagFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.ResponseFlagFilter")]
public sealed class ResponseFlagFilter : EnvoyMessage
{
    /// <summary>Short flag names (<c>UH</c>, <c>UF</c>, ...); any flag when empty.</summary>
    [ProtoField(1)]
    public List<string> Flags { get; set; } = [];
}

/// <summary><c>envoy.config.accesslog.v3.GrpcStatusFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.GrpcStatusFilter")]
public sealed class GrpcStatusFilter : EnvoyMessage
{
    /// <summary>The statuses logged.</summary>
    [ProtoField(1)]
    public List<GrpcStatus> Statuses { get; set; } = [];

    /// <summary>Log every status except <see cref="Statuses"/>.</summary>
    [ProtoField(2)]
    public bool Exclude { get; set; }
}

/// <summary><c>envoy.config.accesslog.v3.GrpcStatusFilter.Status</c>.</summary>
public enum GrpcStatus
{
    /// <summary>0.</summary>
    Ok = 0,
    /// <summary>1.</summary>
    Canceled = 1,
    /// <summary>2.</summary>
    Unknown = 2,
    /// <summary>3.</summary>
    InvalidArgument = 3,
    /// <summary>4.</summary>
    DeadlineExceeded = 4,
    /// <summary>5.</summary>
    NotFound = 5,
    /// <summary>6.</summary>
    AlreadyExists = 6,
    /// <summary>7.</summary>
    PermissionDenied = 7,
    /// <summary>8.</summary>
    ResourceExhausted = 8,
    /// <summary>9.</summary>
    FailedPrecondition = 9,
    /// <summary>10.</summary>
    Aborted = 10,
    /// <summary>11.</summary>
    OutOfRange = 11,
    /// <summary>12.</summary>
    Unimplemented = 12,
    /// <summary>13.</summary>
    Internal = 13,
    /// <summary>14.</summary>
    Unavailable = 14,
    /// <summary>15.</summary>
    DataLoss = 15,
    /// <summary>16.</summary>
    Unauthenticated = 16,
}

/// <summary><c>envoy.config.accesslog.v3.LogTypeFilter</c>.</summary>
[EnvoyType("envoy.config.accesslog.v3.LogTypeFilter")]
public sealed class LogTypeFilter : EnvoyMessage
{
    /// <summary>The entry kinds logged.</summary>
    [ProtoField(1)]
    public List<AccessLogType> Types { get; set; } = [];

    /// <summary>Log every kind except <see cref="Types"/>.</summary>
    [ProtoField(2)]
    public bool Exclude { get; set; }
}

/// <summary>
/// <c>envoy.config.accesslog.v3.MetadataFilter</c>: logs when the stream's dynamic metadata has the matcher's value at
/// its namespace and path; when there is no value there, <see cref="MatchIfKeyNotFound"/> decides.
/// </summary>
[EnvoyType("envoy.config.accesslog.v3.MetadataFilter")]
public sealed class MetadataFilter : EnvoyMessage
{
    /// <summary>The namespace, key path and value. Its <c>invert</c> is not read, as in Envoy's filter.</summary>
    [ProtoField(1)]
    public MetadataMatcher? Matcher { get; set; }

    /// <summary>The result when no value is at the path (or there is no matcher); default true (log).</summary>
    [ProtoField(2)]
    public bool? MatchIfKeyNotFound { get; set; }
}

/// <summary><c>envoy.data.accesslog.v3.AccessLogType</c>: why an entry was written (Envoy's value names are CamelCase, e.g. <c>DownstreamPeriodic</c>).</summary>
[ProtoEnumNamesVerbatim]
public enum AccessLogType
{
    /// <summary>Not set.</summary>
    NotSet = 0,
    /// <summary>A TCP proxy connected upstream.</summary>
    TcpUpstreamConnected = 1,
    /// <summary>A TCP proxy's periodic entry.</summary>
    TcpPeriodic = 2,
    /// <summary>A TCP connection ended (listener access logs).</summary>
    TcpConnectionEnd = 3,
    /// <summary>A downstream request started.</summary>
    DownstreamStart = 4,
    /// <summary>A downstream request's periodic entry.</summary>
    DownstreamPeriodic = 5,
    /// <summary>A downstream request ended (HCM access logs).</summary>
    DownstreamEnd = 6,
    /// <summary>An upstream connection pool became ready.</summary>
    UpstreamPoolReady = 7,
    /// <summary>An upstream request's periodic entry.</summary>
    UpstreamPeriodic = 8,
    /// <summary>An upstream request ended (router <c>upstream_log</c>).</summary>
    UpstreamEnd = 9,
    /// <summary>A downstream tunnel was established.</summary>
    DownstreamTunnelSuccessfullyEstablished = 10,
    /// <summary>A UDP tunnel connected upstream.</summary>
    UdpTunnelUpstreamConnected = 11,
    /// <summary>A UDP session's periodic entry.</summary>
    UdpPeriodic = 12,
    /// <summary>A UDP session ended.</summary>
    UdpSessionEnd = 13,
}

/// <summary><c>envoy.extensions.access_loggers.file.v3.FileAccessLog</c>.</summary>
[EnvoyType("envoy.extensions.access_loggers.file.v3.FileAccessLog")]
public sealed class FileAccessLog : EnvoyMessage
{
    /// <summary>The file (required); <c>/dev/stdout</c> and <c>/dev/stderr</c> write to the process's streams.</summary>
    [ProtoField(1)]
    public string? Path { get; set; }

    /// <summary>Deprecated: a text format.</summary>
    [ProtoField(2, InOneOf = true)]
    public string? Format { get; set; }

    /// <summary>Deprecated: a JSON format with string values.</summary>
    [ProtoField(3, InOneOf = true)]
    public System.Text.Json.Nodes.JsonObject? JsonFormat { get; set; }

    /// <summary>Deprecated: a JSON format with typed values.</summary>
    [ProtoField(4, InOneOf = true)]
    public System.Text.Json.Nodes.JsonObject? TypedJsonFormat { get; set; }

    /// <summary>The format; Envoy's default line when none of the format fields is set.</summary>
    [ProtoField(5, InOneOf = true)]
    public SubstitutionFormatString? LogFormat { get; set; }
}

/// <summary><c>envoy.extensions.access_loggers.stream.v3.StdoutAccessLog</c>.</summary>
[EnvoyType("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog")]
public sealed class StdoutAccessLog : EnvoyMessage
{
    /// <summary>The format; Envoy's default line when absent.</summary>
    [ProtoField(1, InOneOf = true)]
    public SubstitutionFormatString? LogFormat { get; set; }
}

/// <summary><c>envoy.extensions.access_loggers.stream.v3.StderrAccessLog</c>.</summary>
[EnvoyType("envoy.extensions.access_loggers.stream.v3.StderrAccessLog")]
public sealed class StderrAccessLog : EnvoyMessage
{
    /// <summary>The format; Envoy's default line when absent.</summary>
    [ProtoField(1, InOneOf = true)]
    public SubstitutionFormatString? LogFormat { get; set; }
}
