using System.Buffers.Binary;
using Gateway.Tracing.Propagation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing.Zipkin;

/// <summary>The compiled <c>ZipkinConfig</c>: no reference back into the model.</summary>
/// <param name="CollectorCluster">The collector's cluster.</param>
/// <param name="CollectorHostname">The <c>Host</c> of report requests (<c>collector_hostname</c>, else the cluster's name).</param>
/// <param name="CollectorEndpoint">The collector's path.</param>
/// <param name="Proto">True for HTTP_PROTO, false for HTTP_JSON.</param>
/// <param name="TraceId128Bit">New traces get 128-bit ids.</param>
/// <param name="SharedSpanContext">Server spans share the caller's span id.</param>
/// <param name="SplitSpansForRequest">Server span downstream, client span upstream, whatever the direction.</param>
/// <param name="W3CPropagation"><c>USE_B3_WITH_W3C_PROPAGATION</c>.</param>
internal sealed record ZipkinSettings(
    string CollectorCluster,
    string CollectorHostname,
    string CollectorEndpoint,
    bool Proto,
    bool TraceId128Bit,
    bool SharedSpanContext,
    bool SplitSpansForRequest,
    bool W3CPropagation)
{
    /// <summary><c>collector_service.request_headers_to_add</c>: set on every report, replacing a header of the same name (none with the legacy fields).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RequestHeaders { get; init; } = [];
}

/// <summary>
/// Envoy's Zipkin driver and tracer (<c>zipkin_tracer_impl.cc</c>, <c>tracer.cc</c>): reads the caller's context
/// (B3, and W3C when configured), creates root, shared-context and child spans with Envoy's id rules, and reports
/// finished sampled spans through a <see cref="ZipkinReporter"/>. Shared by every request; thread-safe.
/// </summary>
internal sealed partial class ZipkinTracer : ITracer
{
    private readonly ZipkinSettings _settings;
    private readonly Random _random;
    private readonly ILogger _logger;

    public ZipkinTracer(ZipkinSettings settings, TracerContext context)
    {
        _settings = settings;
        _random = context.Random;
        _logger = context.Loggers.CreateLogger("Gateway.Tracing.Zipkin");
        LocalEndpoint = new ZipkinEndpoint(context.ServiceCluster, context.LocalAddress);
        Reporter = new ZipkinReporter(settings, context, new ZipkinTracerStats(context.Stats), LocalEndpoint, _logger);
    }

    internal ZipkinReporter Reporter { get; }

    /// <summary>Where every span of this gateway was recorded (<c>localEndpoint</c>).</summary>
    internal ZipkinEndpoint LocalEndpoint { get; }

    internal bool W3CPropagation => _settings.W3CPropagation;

    public ISpan StartSpan(in SpanStart start)
    {
        var headers = start.Headers;
        // W3C is read only when configured, and used only when the request has no B3 (sampling flag or context).
        W3CTraceParent traceParent = default;
        string? traceState = null;
        var w3cFound = _settings.W3CPropagation && W3CTraceContext.TryExtract(headers, out traceParent, out traceState);
        var b3 = B3Headers.Read(headers);
        var sampled = B3Propagator.ExtractSampled(b3) ?? (w3cFound ? traceParent.Sampled : null);
        var isSampled = sampled ?? start.Decision.Traced;
        var debug = B3Propagator.ExtractDebug(b3);

        switch (B3Propagator.TryExtract(b3, out var incoming, out var error))
        {
            case B3ExtractResult.Malformed:
                // Envoy's ExtractorException: the request is not traced at all.
                LogInvalidContext(_logger, error!);
                return NullSpan.Instance;
            case B3ExtractResult.Found:
                return Continue(start.Direction, start.SpawnUpstreamSpan, start.OperationName, start.StartTime,
                    incoming.TraceIdHigh, incoming.TraceId, incoming.SpanId, incoming.ParentId, isSampled, inner: false, debug, traceState: null);
        }
        if (w3cFound)
        {
            // W3C carries no parent of the caller's span: the caller's span is all there is.
            return Continue(start.Direction, start.SpawnUpstreamSpan, start.OperationName, start.StartTime,
                traceParent.TraceIdHigh, traceParent.TraceIdLow, traceParent.SpanId, 0, isSampled, inner: false, debug, traceState);
        }

        // A new trace: one random number is both the trace id and the span id (the low half with 128 bits).
        var server = _settings.SplitSpansForRequest || start.SpawnUpstreamSpan || start.Direction == SpanDirection.Ingress;
        var id = NextId();
        var span = new ZipkinSpan(this, start.Direction, start.SpawnUpstreamSpan)
        {
            TraceIdLow = id,
            TraceIdHigh = _settings.TraceId128Bit ? NextId() : 0,
            Id = id,
            IsServer = server,
            TimestampMicros = ToMicros(start.StartTime),
            Debug = debug,
            UseLocalDecision = sampled is null,
        };
        span.Initialize(start.OperationName, isSampled);
        return span;
    }

    /// <summary>Envoy's <c>Span::spawnChild</c>: a span continuing <paramref name="parent"/> as an inner (upstream) context.</summary>
    internal ISpan StartChild(ZipkinSpan parent, string operationName, DateTimeOffset startTime)
        => Continue(parent.Direction, parent.SpawnUpstreamSpan, operationName, startTime, parent.TraceIdHigh, parent.TraceIdLow,
            parent.Id, parent.ParentId ?? 0, parent.Sampled, inner: true, parent.Debug, parent.TraceState);

    public ValueTask DisposeAsync() => Reporter.DisposeAsync();

    internal void Report(ZipkinSpan span) => Reporter.Report(span);

    internal static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    // Envoy's Tracer::startSpan with a previous context.
    private ZipkinSpan Continue(SpanDirection direction, bool spawnUpstreamSpan, string name, DateTimeOffset startTime,
        ulong traceIdHigh, ulong traceIdLow, ulong previousId, ulong previousParentId, bool sampled, bool inner, bool debug, string? traceState)
    {
        // With split spans (or spawn_upstream_span) the gateway is a hop of its own: the downstream span serves, an
        // upstream one is a client. Otherwise the traffic direction decides (an inbound sidecar serves).
        var server = _settings.SplitSpansForRequest || spawnUpstreamSpan ? !inner : direction == SpanDirection.Ingress;
        ulong id;
        ulong? parentId;
        if (!server || !_settings.SharedSpanContext)
        {
            id = NextId();
            parentId = previousId;
        }
        else
        {
            // The server span shares the caller's client span: same id, same parent.
            id = previousId;
            parentId = previousParentId != 0 ? previousParentId : null;
        }
        var span = new ZipkinSpan(this, direction, spawnUpstreamSpan)
        {
            TraceIdHigh = traceIdHigh,
            TraceIdLow = traceIdLow,
            Id = id,
            ParentId = parentId,
            IsServer = server,
            TimestampMicros = ToMicros(startTime),
            Debug = debug,
            TraceState = traceState,
            UseLocalDecision = false,
        };
        span.Initialize(name, sampled);
        return span;
    }

    private ulong NextId()
    {
        Span<byte> bytes = stackalloc byte[8];
        _random.NextBytes(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    [LoggerMessage(EventId = LogEvents.ZipkinInvalidContext, Level = LogLevel.Debug, Message = "zipkin: the request's trace context is not valid, no span: {Error}")]
    private static partial void LogInvalidContext(ILogger logger, string error);
}
