namespace Gateway.Configuration;

/// <summary>
/// <c>HttpConnectionManager.Tracing</c>: tracing on one connection manager. Without a <see cref="Provider"/> the
/// bootstrap's <c>tracing.http</c> applies (Envoy's backwards-compatible fallback); with neither, nothing is traced.
/// </summary>
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing")]
public sealed class HcmTracing : EnvoyMessage
{
    /// <summary>Share of requests with <c>x-client-trace-id</c> that are force traced; default 100 %.</summary>
    [ProtoField(3)]
    public Percent? ClientSampling { get; set; }

    /// <summary>Share of other requests sampled at random; default 100 %.</summary>
    [ProtoField(4)]
    public Percent? RandomSampling { get; set; }

    /// <summary>Upper bound on the share traced after the other checks; default 100 %.</summary>
    [ProtoField(5)]
    public Percent? OverallSampling { get; set; }

    /// <summary>Adds timing annotations (span logs) for stream events.</summary>
    [ProtoField(6)]
    public bool Verbose { get; set; }

    /// <summary>Longest request path kept in the <c>http.url</c> tag; default 256.</summary>
    [ProtoField(7)]
    public uint? MaxPathTagLength { get; set; }

    /// <summary>Tags added to every span of the connection manager.</summary>
    [ProtoField(8)]
    public List<CustomTag> CustomTags { get; set; } = [];

    /// <summary>The tracer.</summary>
    [ProtoField(9)]
    public TracingHttp? Provider { get; set; }

    /// <summary>A separate span for each upstream request (as the router's <c>start_child_span</c>); default false.</summary>
    [ProtoField(10)]
    public bool? SpawnUpstreamSpan { get; set; }

    /// <summary>
    /// The downstream span's name, a substitution format (unknown values print as empty, not <c>-</c>) evaluated as
    /// the span is finished; it wins over the route's decorator and <c>x-envoy-decorator-operation</c>.
    /// </summary>
    [ProtoField(11)]
    public string? Operation { get; set; }

    /// <summary>The name of each upstream span (with <c>spawn_upstream_span</c>), a substitution format like <see cref="Operation"/>.</summary>
    [ProtoField(12)]
    public string? UpstreamOperation { get; set; }

    /// <summary>Spans are reported, but no trace context is written into upstream requests.</summary>
    [ProtoField(13)]
    public bool NoContextPropagation { get; set; }
}

/// <summary><c>envoy.config.trace.v3.Tracing</c>: the bootstrap's (legacy) server-wide tracing.</summary>
[EnvoyType("envoy.config.trace.v3.Tracing")]
public sealed class BootstrapTracing : EnvoyMessage
{
    /// <summary>The tracer connection managers use when their <c>tracing</c> has no <c>provider</c>.</summary>
    [ProtoField(1)]
    public TracingHttp? Http { get; set; }
}

/// <summary><c>envoy.config.trace.v3.Tracing.Http</c>: one tracer provider.</summary>
[EnvoyType("envoy.config.trace.v3.Tracing.Http")]
public sealed class TracingHttp : EnvoyMessage
{
    /// <summary>The tracer's name, e.g. <c>envoy.tracers.zipkin</c> (required).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The tracer's configuration, typed by <c>@type</c>.</summary>
    [ProtoField(3)]
    [AnyField(EnvoyTypeCategory.Tracer)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.type.tracing.v3.CustomTag</c>: a tag added to spans, from one source.</summary>
[EnvoyType("envoy.type.tracing.v3.CustomTag")]
public sealed class CustomTag : EnvoyMessage
{
    /// <summary>The tag's name (required).</summary>
    [ProtoField(1)]
    public string? Tag { get; set; }

    /// <summary>A fixed value.</summary>
    [ProtoField(2)]
    public CustomTagLiteral? Literal { get; set; }

    /// <summary>An environment variable of the gateway process.</summary>
    [ProtoField(3)]
    public CustomTagEnvironment? Environment { get; set; }

    /// <summary>A request header.</summary>
    [ProtoField(4)]
    public CustomTagHeader? RequestHeader { get; set; }

    /// <summary>A value from metadata.</summary>
    [ProtoField(5)]
    public CustomTagMetadata? Metadata { get; set; }

    /// <summary>A response header.</summary>
    [ProtoField(6)]
    public CustomTagHeader? ResponseHeader { get; set; }
}

/// <summary><c>envoy.type.tracing.v3.CustomTag.Literal</c>.</summary>
[EnvoyType("envoy.type.tracing.v3.CustomTag.Literal")]
public sealed class CustomTagLiteral : EnvoyMessage
{
    /// <summary>The value (required).</summary>
    [ProtoField(1)]
    public string? Value { get; set; }
}

/// <summary><c>envoy.type.tracing.v3.CustomTag.Environment</c>.</summary>
[EnvoyType("envoy.type.tracing.v3.CustomTag.Environment")]
public sealed class CustomTagEnvironment : EnvoyMessage
{
    /// <summary>The variable's name (required).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The value when the variable is not set; when empty, no tag.</summary>
    [ProtoField(2)]
    public string? DefaultValue { get; set; }
}

/// <summary><c>envoy.type.tracing.v3.CustomTag.Header</c>.</summary>
[EnvoyType("envoy.type.tracing.v3.CustomTag.Header")]
public sealed class CustomTagHeader : EnvoyMessage
{
    /// <summary>The header's name (required).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The value when the header is absent; when empty, no tag.</summary>
    [ProtoField(2)]
    public string? DefaultValue { get; set; }
}

/// <summary><c>envoy.type.tracing.v3.CustomTag.Metadata</c>.</summary>
[EnvoyType("envoy.type.tracing.v3.CustomTag.Metadata")]
public sealed class CustomTagMetadata : EnvoyMessage
{
    /// <summary>Which metadata: the request's dynamic metadata, the route's, the cluster's or the host's.</summary>
    [ProtoField(1)]
    public MetadataKind? Kind { get; set; }

    /// <summary>The namespace and path of the value.</summary>
    [ProtoField(2)]
    public MetadataKey? MetadataKey { get; set; }

    /// <summary>The value when none is found; when empty, no tag.</summary>
    [ProtoField(3)]
    public string? DefaultValue { get; set; }
}

/// <summary><c>envoy.config.route.v3.Decorator</c>: the route's span name.</summary>
[EnvoyType("envoy.config.route.v3.Decorator")]
public sealed class Decorator : EnvoyMessage
{
    /// <summary>The span's operation name (required).</summary>
    [ProtoField(1)]
    public string? Operation { get; set; }

    /// <summary>Whether the operation is propagated in <c>x-envoy-decorator-operation</c>; default true.</summary>
    [ProtoField(2)]
    public bool? Propagate { get; set; }
}

/// <summary><c>envoy.config.route.v3.Tracing</c>: the route's sampling (replacing the connection manager's) and tags.</summary>
[EnvoyType("envoy.config.route.v3.Tracing")]
public sealed class RouteTracing : EnvoyMessage
{
    /// <summary>Replaces the connection manager's <c>client_sampling</c>; default 100 %.</summary>
    [ProtoField(1)]
    public FractionalPercent? ClientSampling { get; set; }

    /// <summary>Replaces the connection manager's <c>random_sampling</c>; default 100 %.</summary>
    [ProtoField(2)]
    public FractionalPercent? RandomSampling { get; set; }

    /// <summary>Replaces the connection manager's <c>overall_sampling</c>; default 100 %.</summary>
    [ProtoField(3)]
    public FractionalPercent? OverallSampling { get; set; }

    /// <summary>Tags added on this route (they win over a connection manager tag of the same name, as Envoy merges them).</summary>
    [ProtoField(4)]
    public List<CustomTag> CustomTags { get; set; } = [];

    /// <summary>The downstream span's name on this route, a substitution format; wins over the connection manager's <c>operation</c> and the decorator.</summary>
    [ProtoField(5)]
    public string? Operation { get; set; }

    /// <summary>The upstream spans' name on this route, a substitution format; wins over the connection manager's <c>upstream_operation</c>.</summary>
    [ProtoField(6)]
    public string? UpstreamOperation { get; set; }
}
