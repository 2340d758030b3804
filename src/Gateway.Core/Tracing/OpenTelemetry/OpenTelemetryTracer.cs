using System.Diagnostics;
using global::OpenTelemetry;
using global::OpenTelemetry.Exporter;
using global::OpenTelemetry.Resources;
using global::OpenTelemetry.Trace;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// Envoy's OpenTelemetry tracer (<c>envoy.tracers.opentelemetry</c>, opentelemetry_tracer_impl.cc and tracer.cc) on
/// <see cref="System.Diagnostics.ActivitySource"/> and the OpenTelemetry SDK. Spans are activities of a source named
/// <see cref="SourceName"/>, so an embedding app's own OpenTelemetry setup (<c>.AddSource("Gateway")</c>) sees them
/// too; exporting does not depend on that: the tracer owns a <see cref="TracerProvider"/> whose OTLP exporter sends
/// to the configured collector (gRPC for <c>grpc_service</c>, HTTP/protobuf for <c>http_service</c>) through the
/// collector's cluster, batched as Envoy batches (<see cref="SpanBuffer"/>).
/// </summary>
internal sealed partial class OpenTelemetryTracer : ITracer
{
    /// <summary>The name of the gateway's activity source (what an app's <c>AddSource</c> names).</summary>
    public const string SourceName = "Gateway";

    /// <summary>How long disposing waits for the last spans to be exported.</summary>
    internal const int ShutdownTimeoutMilliseconds = 5000;

    private const string TraceParentHeader = "traceparent";
    private const string TraceStateHeader = "tracestate";

    private static readonly string? SourceVersion = typeof(OpenTelemetryTracer).Assembly.GetName().Version?.ToString();

    private readonly bool _alwaysOn;
    private readonly TracerProvider? _provider;
    private readonly ILogger _logger;
    private int _disposed;

    public OpenTelemetryTracer(OpenTelemetryPlan plan, TracerContext context)
    {
        _alwaysOn = plan.AlwaysOnSampler;
        _logger = context.Loggers.CreateLogger("Gateway.Tracing.OpenTelemetry");
        // One source per tracer (all named alike): each provider keeps only its own tracer's activities.
        Source = new ActivitySource(SourceName, SourceVersion);
        // Envoy's driver makes its counters whether or not a collector is configured: /stats lists them from the start.
        SpanBuffer.CreateStats(context.Stats);
        if (plan.Exporter is not { } exporterPlan)
        {
            // Envoy: no collector configured, spans are made (and propagated) but not sent.
            return;
        }
        var cluster = context.ClusterClient(exporterPlan.Cluster);
        var options = new OtlpExporterOptions
        {
            Protocol = exporterPlan.Protocol,
            Endpoint = exporterPlan.Endpoint,
            TimeoutMilliseconds = (int)exporterPlan.Timeout.TotalMilliseconds,
            // Headers go through the cluster handler as given, not through the SDK's comma-separated, URL-decoded form.
            Headers = null,
            HttpClientFactory = () => new HttpClient(new ClusterHandler(cluster, exporterPlan.Authority, exporterPlan.Headers), disposeHandler: true)
            {
                Timeout = exporterPlan.Timeout,
            },
        };
        var buffer = new SpanBuffer(new OtlpTraceExporter(options), Source, plan.MaxCacheSize, context.Stats, context.Time, _logger);
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(SourceName)
            .SetSampler(new OwnedSampler(this))
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddAttributes(plan.Resource))
            .AddProcessor(buffer)
            .Build();
        Buffer = buffer;
    }

    /// <summary>This tracer's activity source.</summary>
    internal ActivitySource Source { get; }

    /// <summary>The span buffer (null without a collector).</summary>
    internal SpanBuffer? Buffer { get; }

    /// <inheritdoc />
    public ISpan StartSpan(in SpanStart start)
    {
        var kind = start.Direction == SpanDirection.Ingress ? ActivityKind.Server : ActivityKind.Client;
        var traceParent = start.Headers[TraceParentHeader];
        if (traceParent.Count == 0)
        {
            // No context: a new trace, sampled as the connection manager decided.
            return new OpenTelemetrySpan(this, start.OperationName, kind, start.StartTime, null, Sample(start.Decision.Traced));
        }
        if (!TraceParent.TryParse(traceParent[0], out var traceId, out var parentId, out var sampled))
        {
            Log.SpanContextInvalid(_logger, traceParent[0]);
            return NullSpan.Instance;
        }
        var traceState = start.Headers[TraceStateHeader];
        var parent = new SpanParent(traceId, parentId, sampled, traceState.Count == 0 ? string.Empty : traceState[0] ?? string.Empty, IsRemote: true);
        // With a context, the caller's sampled flag decides (Envoy ignores its own decision then).
        return new OpenTelemetrySpan(this, start.OperationName, kind, start.StartTime, parent, Sample(sampled));
    }

    /// <summary>The sampling of a span whose parent (or decision) says <paramref name="inherited"/>: the <c>always_on</c> sampler samples all.</summary>
    internal bool Sample(bool inherited) => _alwaysOn || inherited;

    /// <summary>Shuts the provider down, exporting what is buffered for at most <see cref="ShutdownTimeoutMilliseconds"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_provider is { } provider)
        {
            // Shutting down waits (bounded) for the export thread: not on the caller's thread.
            await Task.Run(() =>
            {
                provider.Shutdown(ShutdownTimeoutMilliseconds);
                provider.Dispose();
            }).ConfigureAwait(false);
        }
        Source.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.OpenTelemetrySpanContextInvalid, Level = LogLevel.Trace, Message = "Unable to extract span context: invalid traceparent '{TraceParent}'")]
        public static partial void SpanContextInvalid(ILogger logger, string? traceParent);
    }
}

/// <summary>The compiled configuration of one OpenTelemetry tracer (no references into the model).</summary>
/// <param name="Exporter">Where spans are sent; null when neither service is configured.</param>
/// <param name="Resource">The resource's attributes: <c>service.name</c>, then the detectors' in order.</param>
/// <param name="AlwaysOnSampler">The <c>always_on</c> sampler replaces the connection manager's decision and the parent's flag.</param>
/// <param name="MaxCacheSize">Spans held between flushes (<c>max_cache_size</c>, default 1024).</param>
internal sealed record OpenTelemetryPlan(OtlpPlan? Exporter, IReadOnlyList<KeyValuePair<string, object>> Resource, bool AlwaysOnSampler, int MaxCacheSize);

/// <summary>The collector: protocol, cluster, the request's URI and authority, the timeout (positive, at most <see cref="int.MaxValue"/> ms) and the headers.</summary>
internal sealed record OtlpPlan(OtlpExportProtocol Protocol, string Cluster, Uri Endpoint, string Authority, TimeSpan Timeout, IReadOnlyList<KeyValuePair<string, string>> Headers);
