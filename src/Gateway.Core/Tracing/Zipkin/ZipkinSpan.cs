using System.Net.Http.Headers;
using Gateway.Tracing.Propagation;

namespace Gateway.Tracing.Zipkin;

/// <summary>A timestamped event of a span (a Zipkin v2 annotation): a span log, or the closing <c>ss</c>/<c>cr</c>.</summary>
internal readonly record struct ZipkinAnnotation(long TimestampMicros, string Value);

/// <summary>
/// One Zipkin span (Envoy's <c>Zipkin::Span</c>). It starts as a server span (v1 <c>sr</c>) or a client span
/// (<c>cs</c>); <see cref="Finish"/> adds the closing <c>ss</c>/<c>cr</c> annotation and the duration, and hands a
/// sampled span to the reporter. Used by one request at a time; immutable once finished.
/// </summary>
internal sealed class ZipkinSpan : ISpan
{
    private readonly ZipkinTracer _tracer;
    private List<KeyValuePair<string, string>>? _tags;
    private List<ZipkinAnnotation>? _annotations;
    private int _finished;

    internal ZipkinSpan(ZipkinTracer tracer, SpanDirection direction, bool spawnUpstreamSpan)
    {
        _tracer = tracer;
        Direction = direction;
        SpawnUpstreamSpan = spawnUpstreamSpan;
    }

    /// <summary>The connection manager's direction, which a child span inherits.</summary>
    internal SpanDirection Direction { get; }

    /// <summary>The connection manager's <c>spawn_upstream_span</c>, which a child span inherits.</summary>
    internal bool SpawnUpstreamSpan { get; }

    internal ulong TraceIdHigh { get; init; }

    internal ulong TraceIdLow { get; init; }

    internal ulong Id { get; init; }

    /// <summary>The parent span id, or null for a root span.</summary>
    internal ulong? ParentId { get; init; }

    /// <summary>True for a server span (<c>sr</c>, kind SERVER), false for a client span (<c>cs</c>, kind CLIENT).</summary>
    internal bool IsServer { get; init; }

    /// <summary>The start, in microseconds since the Unix epoch (the <c>sr</c>/<c>cs</c> annotation's timestamp).</summary>
    internal long TimestampMicros { get; init; }

    /// <summary>Set when the caller asked for debug tracing (<c>x-b3-flags: 1</c>, <c>b3</c> flag <c>d</c>).</summary>
    internal bool Debug { get; init; }

    /// <summary>The incoming <c>tracestate</c> when the context came from <c>traceparent</c>, passed on unchanged.</summary>
    internal string? TraceState { get; init; }

    internal string Name { get; private set; } = string.Empty;

    /// <summary>The duration in microseconds, set by <see cref="Finish"/>.</summary>
    internal long? DurationMicros { get; private set; }

    internal IReadOnlyList<KeyValuePair<string, string>> Tags => (IReadOnlyList<KeyValuePair<string, string>>?)_tags ?? [];

    /// <summary>The annotations besides the opening one: span logs, then the closing <c>ss</c>/<c>cr</c>.</summary>
    internal IReadOnlyList<ZipkinAnnotation> Annotations => (IReadOnlyList<ZipkinAnnotation>?)_annotations ?? [];

    public bool Sampled { get; private set; }

    public bool UseLocalDecision { get; internal set; }

    public string TraceId => HexId.FormatTraceId(TraceIdHigh, TraceIdLow);

    public string SpanId => HexId.Format(Id);

    internal void Initialize(string name, bool sampled)
    {
        Name = name;
        Sampled = sampled;
    }

    public void SetOperation(string operation) => Name = operation;

    public void SetTag(string name, string value)
    {
        // As Envoy: an empty name or value adds nothing. An unsampled span is never reported, so its tags would be built
        // for nobody (most requests at a low sampling rate); the one caller that samples a span later (a mirror's
        // trace_sampled) does it right after creating the span, before any tag.
        if (!Sampled || string.IsNullOrEmpty(name) || string.IsNullOrEmpty(value))
        {
            return;
        }
        _tags ??= new List<KeyValuePair<string, string>>(12);
        for (var i = 0; i < _tags.Count; i++)
        {
            if (string.Equals(_tags[i].Key, name, StringComparison.Ordinal))
            {
                _tags[i] = new(name, value);
                return;
            }
        }
        _tags.Add(new(name, value));
    }

    public void Log(DateTimeOffset timestamp, string eventName)
    {
        if (Sampled)
        {
            (_annotations ??= new List<ZipkinAnnotation>(2)).Add(new ZipkinAnnotation(ZipkinTracer.ToMicros(timestamp), eventName));
        }
    }

    public void Finish(DateTimeOffset endTime)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        if (!Sampled)
        {
            // Never reported: the closing annotation and the duration would be built for nobody.
            return;
        }
        var end = ZipkinTracer.ToMicros(endTime);
        (_annotations ??= new List<ZipkinAnnotation>(1)).Add(new ZipkinAnnotation(end, IsServer ? "ss" : "cr"));
        DurationMicros = end - TimestampMicros;
        _tracer.Report(this);
    }

    public void InjectContext(HttpRequestHeaders upstreamHeaders)
    {
        B3Propagator.Inject(upstreamHeaders, TraceIdHigh, TraceIdLow, Id, ParentId, Sampled);
        if (_tracer.W3CPropagation)
        {
            W3CTraceContext.Inject(upstreamHeaders, TraceIdHigh, TraceIdLow, Id, Sampled, TraceState);
        }
    }

    public ISpan SpawnChild(string operationName, DateTimeOffset startTime) => _tracer.StartChild(this, operationName, startTime);

    public void SetSampled(bool sampled) => Sampled = sampled;
}
