using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// A span of the OpenTelemetry tracer (Envoy's <c>OpenTelemetry::Span</c>). A sampled span is an
/// <see cref="Activity"/> of the tracer's source (what the SDK exports, and what an embedding app's own
/// OpenTelemetry setup sees); an unsampled one has no activity at all and only carries the ids it propagates, so a
/// request that is not traced costs this object and, when injected, its <c>traceparent</c>.
/// </summary>
internal sealed class OpenTelemetrySpan : ISpan
{
    private const string TraceParentHeader = "traceparent";
    private const string TraceStateHeader = "tracestate";

    private readonly OpenTelemetryTracer _tracer;
    private readonly ActivityKind _kind;
    private readonly DateTimeOffset _startTime;
    private readonly SpanParent? _parent;
    private readonly string _traceState;
    private string _name;
    private Activity? _activity;
    private ActivityTraceId _traceId;
    private ActivitySpanId _spanId;
    private bool _sampled;
    private bool _finished;

    /// <param name="tracer">The tracer (its source, and the sampler of children).</param>
    /// <param name="name">The operation name.</param>
    /// <param name="kind">Server for the downstream request, client for an egress span or a child.</param>
    /// <param name="startTime">The span's start.</param>
    /// <param name="parent">The parent (the incoming <c>traceparent</c>, or the span a child is spawned from); null for a new trace.</param>
    /// <param name="sampled">Whether the span is exported.</param>
    public OpenTelemetrySpan(OpenTelemetryTracer tracer, string name, ActivityKind kind, DateTimeOffset startTime, SpanParent? parent, bool sampled)
    {
        _tracer = tracer;
        _name = name;
        _kind = kind;
        _startTime = startTime;
        _sampled = sampled;
        _parent = parent;
        _traceId = parent?.TraceId ?? default;
        _traceState = parent?.TraceState ?? string.Empty;
        if (sampled)
        {
            StartActivity();
        }
    }

    /// <summary>The activity of a sampled span (null when unsampled, or when no provider listens).</summary>
    internal Activity? Activity => _activity;

    /// <inheritdoc />
    public bool Sampled => _sampled;

    /// <inheritdoc />
    public string TraceId => EnsureTraceId().ToHexString();

    /// <inheritdoc />
    public string SpanId => EnsureSpanId().ToHexString();

    /// <summary>The tracestate carried from the parent (Envoy keeps it and forwards it unchanged).</summary>
    internal string TraceState => _traceState;

    /// <inheritdoc />
    public void SetOperation(string operation)
    {
        _name = operation;
        if (_activity is not null)
        {
            _activity.DisplayName = operation;
        }
    }

    /// <inheritdoc />
    public void SetTag(string name, string value)
    {
        // As Envoy: an empty key is not an attribute; the same key again replaces the value.
        if (_activity is null || name.Length == 0)
        {
            return;
        }
        if (string.Equals(name, "http.status_code", StringComparison.Ordinal))
        {
            // OpenTelemetry's HTTP semantic conventions, as Envoy applies them: 5xx is an error, 4xx only for a client span.
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var status)
                && (status >= 500 || (status >= 400 && _kind == ActivityKind.Client)))
            {
                _activity.SetStatus(ActivityStatusCode.Error);
            }
        }
        else if (string.Equals(name, "grpc.status_code", StringComparison.Ordinal))
        {
            _activity.SetStatus(GrpcStatus(value));
        }
        _activity.SetTag(name, value);
    }

    /// <summary>Envoy's OpenTelemetry span drops span logs (its <c>log</c> is empty), so no event is added.</summary>
    public void Log(DateTimeOffset timestamp, string eventName)
    {
    }

    /// <inheritdoc />
    public void Finish(DateTimeOffset endTime)
    {
        if (_finished)
        {
            return;
        }
        _finished = true;
        if (_activity is null)
        {
            return;
        }
        // A zero duration would make Stop take the wall clock instead of the gateway's.
        var end = endTime.UtcDateTime;
        if (end <= _activity.StartTimeUtc)
        {
            end = _activity.StartTimeUtc.AddTicks(1);
        }
        _activity.SetEndTime(end);
        var current = Activity.Current;
        _activity.Stop();
        // Stop restores the activity that was current at Start (none, see StartActivity); the request's own stays.
        Activity.Current = current;
    }

    /// <inheritdoc />
    public void InjectContext(HttpRequestHeaders upstreamHeaders)
    {
        upstreamHeaders.Remove(TraceParentHeader);
        upstreamHeaders.TryAddWithoutValidation(TraceParentHeader, TraceParent.Format(EnsureTraceId(), EnsureSpanId(), _sampled));
        // Envoy always sets tracestate, to the parent's (empty when there was none).
        upstreamHeaders.Remove(TraceStateHeader);
        upstreamHeaders.TryAddWithoutValidation(TraceStateHeader, _traceState);
    }

    /// <inheritdoc />
    public ISpan SpawnChild(string operationName, DateTimeOffset startTime)
        => new OpenTelemetrySpan(_tracer, operationName, ActivityKind.Client, startTime, new SpanParent(EnsureTraceId(), EnsureSpanId(), _sampled, _traceState, IsRemote: false), _tracer.Sample(_sampled));

    /// <inheritdoc />
    public void SetSampled(bool sampled)
    {
        if (_sampled == sampled)
        {
            return;
        }
        _sampled = sampled;
        if (_activity is not null)
        {
            // The span buffer exports only recorded activities; the flag is also what an app's own exporter honours.
            _activity.ActivityTraceFlags = sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None;
        }
        else if (sampled && !_finished)
        {
            // Sampled after the start: the activity starts now (tags set before were not kept; see compatibility.md).
            StartActivity();
        }
    }

    private void StartActivity()
    {
        var source = _tracer.Source;
        if (!source.HasListeners())
        {
            return;
        }
        var parent = _parent is { } p
            ? new ActivityContext(p.TraceId, p.SpanId, p.Sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, p.TraceState.Length == 0 ? null : p.TraceState, p.IsRemote)
            : default;
        // The gateway's span continues the request's own context only (the incoming traceparent), never whatever
        // activity ASP.NET Core or the embedding app made current; nor does it become the current one.
        var current = Activity.Current;
        Activity.Current = null;
        OwnedSampler.Creating = _tracer;
        try
        {
            var activity = source.CreateActivity(_name, _kind, parent);
            if (activity is not null)
            {
                activity.SetStartTime(_startTime.UtcDateTime);
                if (_traceState.Length != 0)
                {
                    activity.TraceStateString = _traceState;
                }
                activity.Start();
                _activity = activity;
                _traceId = activity.TraceId;
                _spanId = activity.SpanId;
            }
        }
        finally
        {
            OwnedSampler.Creating = null;
            Activity.Current = current;
        }
    }

    private ActivityTraceId EnsureTraceId()
    {
        if (_traceId == default)
        {
            _traceId = ActivityTraceId.CreateRandom();
        }
        return _traceId;
    }

    private ActivitySpanId EnsureSpanId()
    {
        if (_spanId == default)
        {
            _spanId = ActivitySpanId.CreateRandom();
        }
        return _spanId;
    }

    // https://opentelemetry.io/docs/specs/semconv/rpc/grpc/#grpc-status, as Envoy maps it (tracer.cc).
    private ActivityStatusCode GrpcStatus(string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return ActivityStatusCode.Unset;
        }
        if (_kind == ActivityKind.Client)
        {
            return code == 0 ? ActivityStatusCode.Unset : ActivityStatusCode.Error;
        }
        // Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss.
        return code is 2 or 4 or 12 or 13 or 14 or 15 ? ActivityStatusCode.Error : ActivityStatusCode.Unset;
    }
}

/// <summary>The context a span continues: the incoming <c>traceparent</c> (remote) or the span a child is spawned from.</summary>
internal readonly record struct SpanParent(ActivityTraceId TraceId, ActivitySpanId SpanId, bool Sampled, string TraceState, bool IsRemote);
