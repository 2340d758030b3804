namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.trace.v3.ZipkinConfig</c>: the Zipkin tracer (<c>envoy.tracers.zipkin</c>). Spans are POSTed to
/// <see cref="CollectorEndpoint"/> on <see cref="CollectorCluster"/>, or, when <see cref="CollectorService"/> is set,
/// to its <c>http_uri</c> (which then replaces the legacy fields, as in Envoy).
/// </summary>
[EnvoyType("envoy.config.trace.v3.ZipkinConfig")]
public sealed class ZipkinConfig : EnvoyMessage
{
    /// <summary>The cluster that hosts the Zipkin collectors (required).</summary>
    [ProtoField(1)]
    public string? CollectorCluster { get; set; }

    /// <summary>The collector's API path, e.g. <c>/api/v2/spans</c> (required).</summary>
    [ProtoField(2)]
    public string? CollectorEndpoint { get; set; }

    /// <summary>New traces get 128-bit trace ids; default false (64-bit).</summary>
    [ProtoField(3)]
    [EnvoyField("trace_id_128bit")]
    public bool TraceId128Bit { get; set; }

    /// <summary>The server span shares the caller's span id instead of being its child; default true.</summary>
    [ProtoField(4)]
    public bool? SharedSpanContext { get; set; }

    /// <summary>The payload format: HTTP_JSON or HTTP_PROTO (Zipkin v2). It must be set: the default is the removed v1 format.</summary>
    [ProtoField(5)]
    public ZipkinCollectorEndpointVersion CollectorEndpointVersion { get; set; }

    /// <summary>The <c>Host</c> of the requests to the collector; default the cluster's name.</summary>
    [ProtoField(6)]
    public string? CollectorHostname { get; set; }

    /// <summary>The gateway is its own hop: a server span for the downstream request, a client span for each upstream one (deprecated in Envoy for <c>spawn_upstream_span</c>).</summary>
    [ProtoField(7)]
    public bool SplitSpansForRequest { get; set; }

    /// <summary>Which trace headers are read and written: B3 only (default), or B3 with W3C <c>traceparent</c>.</summary>
    [ProtoField(8)]
    public ZipkinTraceContextOption TraceContextOption { get; set; }

    /// <summary>
    /// The collector as an <c>HttpService</c>: <c>http_uri.cluster</c>, <c>http_uri.uri</c> (a path, or a full URI
    /// whose host is the <c>Host</c> and whose path is the request's path), <c>request_headers_to_add</c>. When set,
    /// <c>collector_cluster</c>, <c>collector_endpoint</c> and <c>collector_hostname</c> are not used.
    /// </summary>
    [ProtoField(9)]
    public HttpService? CollectorService { get; set; }
}

/// <summary><c>ZipkinConfig.CollectorEndpointVersion</c>.</summary>
public enum ZipkinCollectorEndpointVersion
{
    /// <summary>Zipkin v1 JSON: removed from Envoy; refused, and so is leaving the field unset.</summary>
    DeprecatedAndUnavailableDoNotUse = 0,

    /// <summary>Zipkin v2 JSON over HTTP (<c>application/json</c>).</summary>
    HttpJson = 1,

    /// <summary>Zipkin v2 protobuf <c>ListOfSpans</c> over HTTP (<c>application/x-protobuf</c>).</summary>
    HttpProto = 2,

    /// <summary>gRPC: not implemented in Envoy either; refused.</summary>
    Grpc = 3,
}

/// <summary><c>ZipkinConfig.TraceContextOption</c>.</summary>
public enum ZipkinTraceContextOption
{
    /// <summary>B3 headers only.</summary>
    UseB3 = 0,

    /// <summary>Read B3, else W3C <c>traceparent</c>; write both.</summary>
    UseB3WithW3cPropagation = 1,
}
