using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Gateway.Configuration;
using Gateway.Tracing;
using Gateway.Validation;

namespace Gateway.Tests.Tracing;

/// <summary>The recording tracer's configuration (a test-only provider type).</summary>
[EnvoyType("gateway.tests.RecordingTracerConfig")]
public sealed class RecordingTracerConfig : EnvoyMessage
{
    /// <summary>A setting, so that two providers can differ.</summary>
    [ProtoField(1)]
    public string? Label { get; set; }

    /// <summary>When set, validation reports it as an error at this field.</summary>
    [ProtoField(2)]
    public string? Invalid { get; set; }
}

/// <summary>
/// A tracer of the tests: spans are recorded (name, tags, logs, parent, times); the injected context is one header,
/// <c>x-test-trace: {trace}-{span}</c>, replacing any the request had, as a real propagator must.
/// </summary>
internal sealed class RecordingTracerFactory : ITracerFactory
{
    public const string Header = "x-test-trace";

    public string Name => "gateway.tests.recording";

    public Type ConfigType => typeof(RecordingTracerConfig);

    public ConcurrentQueue<RecordingTracer> Created { get; } = new();

    public TracerContext? Context { get; private set; }

    public void Validate(EnvoyMessage config, ValidationContext context)
    {
        if (((RecordingTracerConfig)config).Invalid is { } invalid)
        {
            context.Error(config, "invalid", "recording tracer: " + invalid);
        }
    }

    public ITracer Create(EnvoyMessage config, TracerContext context)
    {
        Context = context;
        var tracer = new RecordingTracer(((RecordingTracerConfig)config).Label);
        Created.Enqueue(tracer);
        return tracer;
    }
}

internal sealed class RecordingTracer(string? label) : ITracer
{
    private long _ids;

    public string? Label { get; } = label;

    public ConcurrentQueue<RecordedSpan> Started { get; } = new();

    public BlockingCollection<RecordedSpan> Finished { get; } = [];

    public bool Disposed { get; private set; }

    public ISpan StartSpan(in SpanStart start)
    {
        var incoming = start.Headers[RecordingTracerFactory.Header];
        string trace;
        string? parent = null;
        if (incoming.Count > 0 && incoming[0]!.Split('-') is [var t, var s])
        {
            trace = t;
            parent = s;
        }
        else
        {
            trace = NextId();
        }
        var span = new RecordedSpan(this, start.OperationName, trace, NextId(), parent, start.Decision.Traced, start.Direction, start.Decision);
        Started.Enqueue(span);
        return span;
    }

    internal string NextId() => Interlocked.Increment(ref _ids).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The next finished span, waiting up to 5 s.</summary>
    public RecordedSpan NextFinished()
        => Finished.TryTake(out var span, TimeSpan.FromSeconds(5)) ? span : throw new TimeoutException("no span finished");

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return default;
    }
}

internal sealed class RecordedSpan(RecordingTracer tracer, string operation, string traceId, string spanId, string? parentId, bool sampled, SpanDirection direction, TracingDecision decision) : ISpan
{
    public string Operation { get; private set; } = operation;

    public string? ParentId { get; } = parentId;

    public SpanDirection Direction { get; } = direction;

    public TracingDecision Decision { get; } = decision;

    public ConcurrentDictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<(DateTimeOffset At, string Name)> Logs { get; } = new();

    public DateTimeOffset? End { get; private set; }

    public void SetOperation(string operation) => Operation = operation;

    public void SetTag(string name, string value) => Tags[name] = value;

    public void Log(DateTimeOffset timestamp, string eventName) => Logs.Enqueue((timestamp, eventName));

    public void Finish(DateTimeOffset endTime)
    {
        Assert.Null(End);
        End = endTime;
        tracer.Finished.Add(this);
    }

    public void InjectContext(HttpRequestHeaders upstreamHeaders)
    {
        upstreamHeaders.Remove(RecordingTracerFactory.Header);
        upstreamHeaders.TryAddWithoutValidation(RecordingTracerFactory.Header, TraceId + "-" + SpanId);
    }

    public ISpan SpawnChild(string operationName, DateTimeOffset startTime)
    {
        var child = new RecordedSpan(tracer, operationName, TraceId, tracer.NextId(), SpanId, Sampled, SpanDirection.Egress, Decision);
        tracer.Started.Enqueue(child);
        return child;
    }

    public void SetSampled(bool sampled) => Sampled = sampled;

    public bool Sampled { get; private set; } = sampled;

    public string TraceId { get; } = traceId;

    public string SpanId { get; } = spanId;
}
