using System.Net.Http.Headers;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing;

/// <summary>Which side of the gateway a span stands for (Envoy's <c>Tracing::OperationName</c> / traffic direction).</summary>
internal enum SpanDirection
{
    /// <summary>The downstream request, as a server span (<c>ingress</c>, Envoy's default for an HCM).</summary>
    Ingress,

    /// <summary>An outbound request (<c>egress</c>: the HCM's traffic direction OUTBOUND, or an upstream/child span, a client span).</summary>
    Egress,
}

/// <summary>Why a request is or is not traced (Envoy's <c>Tracing::Reason</c>, packed into <c>x-request-id</c>).</summary>
internal enum TraceReason
{
    /// <summary>Not traced.</summary>
    NotTraceable,

    /// <summary>A health check (never traced).</summary>
    HealthCheck,

    /// <summary>Chosen by <c>random_sampling</c>.</summary>
    Sampling,

    /// <summary>Forced by <c>x-envoy-force-trace</c>.</summary>
    ServiceForced,

    /// <summary>Asked for by the client's <c>x-client-trace-id</c> (<c>client_sampling</c>).</summary>
    ClientForced,
}

/// <summary>Envoy's <c>Tracing::Decision</c>: the connection manager's verdict, before any propagated sampling flag.</summary>
internal readonly record struct TracingDecision(TraceReason Reason, bool Traced);

/// <summary>What a tracer needs to start the downstream span of one request (Envoy's Driver::startSpan arguments).</summary>
/// <param name="Headers">The downstream request headers: the incoming trace context is read from them.</param>
/// <param name="OperationName">The span's name (the request's Host, the route decorator, or <c>x-envoy-decorator-operation</c>).</param>
/// <param name="StartTime">When the request arrived, on the gateway's clock.</param>
/// <param name="Decision">The connection manager's tracing decision.</param>
/// <param name="Direction">Ingress (server span) or egress (client span).</param>
internal readonly record struct SpanStart(IHeaderDictionary Headers, string OperationName, DateTimeOffset StartTime, TracingDecision Decision, SpanDirection Direction);

/// <summary>
/// One span (Envoy's <c>Tracing::Span</c>). Tags and logs are added by the connection manager and the router;
/// <see cref="Finish"/> hands it to the tracer's batching exporter (never blocking the request).
/// </summary>
internal interface ISpan
{
    /// <summary>Renames the span (route decorator).</summary>
    void SetOperation(string operation);

    /// <summary>Adds or replaces a tag.</summary>
    void SetTag(string name, string value);

    /// <summary>Adds a timestamped event (Envoy's span log / Zipkin annotation).</summary>
    void Log(DateTimeOffset timestamp, string eventName);

    /// <summary>Ends the span at <paramref name="endTime"/> and queues it for export when sampled.</summary>
    void Finish(DateTimeOffset endTime);

    /// <summary>
    /// Writes this span's context into the upstream request (B3 headers for Zipkin, <c>traceparent</c>/<c>tracestate</c>
    /// for OpenTelemetry), replacing any the downstream request carried, so the upstream sees one copy.
    /// </summary>
    void InjectContext(HttpRequestHeaders upstreamHeaders);

    /// <summary>A child span (the router's <c>start_child_span</c> / <c>spawn_upstream_span</c>), an egress span of the same trace.</summary>
    ISpan SpawnChild(string operationName, DateTimeOffset startTime);

    /// <summary>Overrides the sampling decision (Envoy's setSampled: the HCM's overall_sampling, the route's tracing).</summary>
    void SetSampled(bool sampled);

    /// <summary>Whether the span will be exported.</summary>
    bool Sampled { get; }

    /// <summary>The trace id as lowercase hex (16 or 32 characters), or empty for a null span.</summary>
    string TraceId { get; }

    /// <summary>The span id as lowercase hex (16 characters), or empty for a null span.</summary>
    string SpanId { get; }
}

/// <summary>Envoy's <c>NullSpan</c>: a request that is not traced, or whose incoming context could not be read.</summary>
internal sealed class NullSpan : ISpan
{
    public static readonly NullSpan Instance = new();

    private NullSpan()
    {
    }

    public void SetOperation(string operation)
    {
    }

    public void SetTag(string name, string value)
    {
    }

    public void Log(DateTimeOffset timestamp, string eventName)
    {
    }

    public void Finish(DateTimeOffset endTime)
    {
    }

    public void InjectContext(HttpRequestHeaders upstreamHeaders)
    {
    }

    public ISpan SpawnChild(string operationName, DateTimeOffset startTime) => this;

    public void SetSampled(bool sampled)
    {
    }

    public bool Sampled => false;

    public string TraceId => string.Empty;

    public string SpanId => string.Empty;
}

/// <summary>Envoy's <c>Tracing::Driver</c>: one per tracer configuration, shared by every connection manager that names it.</summary>
internal interface ITracer : IAsyncDisposable
{
    /// <summary>The downstream span of a request; <see cref="NullSpan.Instance"/> when the incoming context is malformed.</summary>
    ISpan StartSpan(in SpanStart start);
}

/// <summary>What a tracer is built with when a configuration is applied.</summary>
/// <param name="Stats">The stats store (tracers' stats are global: <c>tracing.zipkin.*</c>, <c>tracing.opentelemetry.*</c>).</param>
/// <param name="Time">The gateway's clock (flush timers).</param>
/// <param name="Random">The gateway's random source (span and trace ids).</param>
/// <param name="Loggers">Loggers (Envoy's <c>tracing</c> logger).</param>
/// <param name="ClusterClient">
/// An HTTP client for one of the gateway's own clusters by name (Envoy's async client: the cluster's hosts, load
/// balancing, circuit breakers and stats apply); the request URI's authority is replaced by the chosen host.
/// </param>
/// <param name="ServiceCluster">The local service name (<c>node.cluster</c> / <c>--service-cluster</c>).</param>
/// <param name="NodeId">The node id (<c>node.id</c> / <c>--service-node</c>).</param>
internal sealed record TracerContext(
    StatsStore Stats,
    TimeProvider Time,
    Random Random,
    ILoggerFactory Loggers,
    Func<string, HttpMessageInvoker> ClusterClient,
    string ServiceCluster,
    string NodeId);

/// <summary>
/// Builds the tracer of one provider configuration (<c>tracing.provider.typed_config</c>): Zipkin's
/// <c>envoy.config.trace.v3.ZipkinConfig</c>, OpenTelemetry's <c>envoy.config.trace.v3.OpenTelemetryConfig</c>.
/// </summary>
internal interface ITracerFactory
{
    /// <summary>Envoy's extension name, e.g. <c>envoy.tracers.zipkin</c>.</summary>
    string Name { get; }

    /// <summary>The model class of the provider's configuration (registered under <see cref="Configuration.EnvoyTypeCategory.Tracer"/>).</summary>
    Type ConfigType { get; }

    /// <summary>
    /// Further model classes the configuration's <c>typed_config</c> fields may hold (OpenTelemetry's resource detectors
    /// and samplers), registered with the tracer (category <see cref="Configuration.EnvoyTypeCategory.Other"/>).
    /// </summary>
    IReadOnlyList<Type> ExtensionConfigTypes => [];

    /// <summary>Reports every error of a configuration (with paths), e.g. a <c>collector_cluster</c> that is not a static cluster.</summary>
    void Validate(Configuration.EnvoyMessage config, Validation.ValidationContext context);

    /// <summary>Builds the tracer of a validated configuration.</summary>
    ITracer Create(Configuration.EnvoyMessage config, TracerContext context);
}
