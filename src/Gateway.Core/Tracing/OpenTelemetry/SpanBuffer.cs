using System.Diagnostics;
using Gateway.Stats;
using global::OpenTelemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// Envoy's span buffer (tracer.cc <c>sendSpan</c>/<c>flushSpans</c>) as an OpenTelemetry SDK export processor: the
/// tracer's finished, sampled activities are held until <see cref="MinFlushSpans"/> of them are waiting or the
/// <see cref="FlushInterval"/> timer fires (<c>tracing.opentelemetry.timer_flushed</c>), then handed to the OTLP
/// exporter in one batch (<c>spans_sent</c>); past <c>max_cache_size</c> a span is dropped (<c>spans_dropped</c>).
/// Exports run on the buffer's own thread, so a slow or dead collector never holds up a request: spans pile up to the
/// cache size and the rest are dropped. Being a <see cref="BaseExportProcessor{T}"/>, the SDK hands the exporter its
/// provider (and so the resource).
/// </summary>
internal sealed partial class SpanBuffer : BaseExportProcessor<Activity>
{
    /// <summary>Envoy's <c>tracing.opentelemetry.min_flush_spans</c> default.</summary>
    public const int MinFlushSpans = 5;

    /// <summary>Envoy's <c>tracing.opentelemetry.flush_interval_ms</c> default.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(5000);

    private readonly ActivitySource _source;
    private readonly int _maxCacheSize;
    private readonly Counter _spansSent;
    private readonly Counter _timerFlushed;
    private readonly Counter _spansDropped;
    private readonly ILogger _logger;
    private readonly List<Activity> _pending;
    private readonly AutoResetEvent _wake = new(false);
    private readonly Lock _exporting = new();
    private readonly Thread _worker;
    private readonly ITimer _timer;
    private int _timerFired;
    private volatile bool _stopping;

    public SpanBuffer(BaseExporter<Activity> exporter, ActivitySource source, int maxCacheSize, StatsStore stats, TimeProvider time, ILogger logger)
        : base(exporter)
    {
        _source = source;
        _maxCacheSize = maxCacheSize;
        (_spansSent, _timerFlushed, _spansDropped) = CreateStats(stats);
        _logger = logger;
        _pending = new List<Activity>(Math.Min(maxCacheSize, 64));
        _worker = new Thread(Run) { IsBackground = true, Name = "Gateway OpenTelemetry export" };
        _worker.Start();
        _timer = time.CreateTimer(static state => ((SpanBuffer)state!).OnTimer(), this, FlushInterval, FlushInterval);
    }

    /// <summary>Spans waiting for the next flush.</summary>
    internal int PendingCount
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Envoy's OpenTelemetry tracer counters (tracer.h <c>OPENTELEMETRY_TRACER_STATS</c>).</summary>
    public static (Counter SpansSent, Counter TimerFlushed, Counter SpansDropped) CreateStats(StatsStore stats)
        => (stats.Counter("tracing.opentelemetry.spans_sent"), stats.Counter("tracing.opentelemetry.timer_flushed"), stats.Counter("tracing.opentelemetry.spans_dropped"));

    /// <summary>Whether the export thread still runs (it ends when the provider shuts down).</summary>
    internal bool IsRunning => _worker.IsAlive;

    /// <inheritdoc />
    protected override void OnExport(Activity data)
    {
        // Every provider listening to the gateway's source name sees every tracer's activities: keep only ours, and
        // only those still sampled (setSampled(false) after the start clears the flag).
        if (!ReferenceEquals(data.Source, _source) || !data.Recorded || _stopping)
        {
            return;
        }
        bool wake;
        lock (_pending)
        {
            if (_pending.Count >= _maxCacheSize)
            {
                _spansDropped.Increment();
                wake = true;
            }
            else
            {
                _pending.Add(data);
                wake = _pending.Count >= MinFlushSpans;
            }
        }
        if (wake)
        {
            _wake.Set();
        }
    }

    /// <inheritdoc />
    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        Flush();
        return base.OnForceFlush(timeoutMilliseconds);
    }

    /// <inheritdoc />
    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        var started = Stopwatch.GetTimestamp();
        _stopping = true;
        _timer.Dispose();
        _wake.Set();
        // The worker flushes what is left before it ends; bounded, so a dead collector cannot hold up a reload.
        var joined = timeoutMilliseconds < 0 ? _worker.Join(Timeout.Infinite) : _worker.Join(timeoutMilliseconds);
        var remaining = timeoutMilliseconds < 0 ? Timeout.Infinite : Math.Max(0, timeoutMilliseconds - (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return base.OnShutdown(remaining) && joined;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_stopping)
            {
                OnShutdown(0);
            }
            if (!_worker.IsAlive)
            {
                _wake.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    private void OnTimer()
    {
        Interlocked.Exchange(ref _timerFired, 1);
        _wake.Set();
    }

    private void Run()
    {
        while (!_stopping)
        {
            _wake.WaitOne();
            if (Interlocked.Exchange(ref _timerFired, 0) != 0)
            {
                _timerFlushed.Increment();
            }
            Flush();
        }
        Flush();
    }

    // The worker thread exports (ForceFlush too, one export at a time); the buffer's lock is held just to take the batch.
    private void Flush()
    {
        lock (_exporting)
        {
            FlushLocked();
        }
    }

    private void FlushLocked()
    {
        Activity[] batch;
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                return;
            }
            batch = _pending.ToArray();
            _pending.Clear();
        }
        _spansSent.Add(batch.Length);
        try
        {
            if (exporter.Export(new Batch<Activity>(batch, batch.Length)) != ExportResult.Success)
            {
                Log.ExportFailed(_logger, batch.Length);
            }
        }
        catch (Exception e)
        {
            // The exporter reports failures by its result; anything thrown must still not end the worker.
            Log.ExportThrew(_logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.OpenTelemetryExportFailed, Level = LogLevel.Debug, Message = "Unsuccessful log request to OpenTelemetry trace collector ({Count} spans).")]
        public static partial void ExportFailed(ILogger logger, int count);

        [LoggerMessage(EventId = LogEvents.OpenTelemetryExportThrew, Level = LogLevel.Debug, Message = "OpenTelemetry trace export failed.")]
        public static partial void ExportThrew(ILogger logger, Exception exception);
    }
}
