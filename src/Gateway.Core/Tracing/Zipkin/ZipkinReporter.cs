using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing.Zipkin;

/// <summary>
/// Envoy's Zipkin <c>ReporterImpl</c>: buffers finished sampled spans and POSTs them to the collector when
/// <see cref="MinFlushSpans"/> are buffered or every <see cref="FlushInterval"/>, whichever comes first. A request
/// only ever adds to the buffer; encoding and sending run on the thread pool, and a collector that is slow, down or
/// missing costs dropped spans (counted), never a request's time or outcome.
/// </summary>
internal sealed partial class ZipkinReporter : IAsyncDisposable
{
    /// <summary>Runtime <c>tracing.zipkin.min_flush_spans</c>'s default: the buffer's size and the count that flushes it.</summary>
    public const int MinFlushSpans = 5;

    /// <summary>Runtime <c>tracing.zipkin.flush_interval_ms</c>'s default.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(5000);

    /// <summary>Runtime <c>tracing.zipkin.request_timeout</c>'s default.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMilliseconds(5000);

    /// <summary>
    /// Reports in flight at most; a flush beyond fails at once (as the collector cluster's default
    /// <c>max_requests</c> circuit breaker, 1024, would fail it in Envoy), so a hung collector cannot pile up memory.
    /// </summary>
    public const int MaxReportsInFlight = 1024;

    private readonly ZipkinSettings _settings;
    private readonly TracerContext _context;
    private readonly ZipkinTracerStats _stats;
    private readonly ZipkinEndpoint _local;
    private readonly ILogger _logger;
    private readonly Uri _uri;
    private readonly MediaTypeHeaderValue _contentType;
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _lock = new();
    private List<ZipkinSpan> _buffer = new(MinFlushSpans);
    private int _inFlight;
    private bool _disposed;
    private TaskCompletionSource? _drained;

    public ZipkinReporter(ZipkinSettings settings, TracerContext context, ZipkinTracerStats stats, ZipkinEndpoint local, ILogger logger)
    {
        _settings = settings;
        _context = context;
        _stats = stats;
        _local = local;
        _logger = logger;
        _uri = CollectorUri(settings.CollectorHostname, settings.CollectorEndpoint);
        _contentType = new MediaTypeHeaderValue(settings.Proto ? "application/x-protobuf" : "application/json");
        _timer = context.Time.CreateTimer(static state => ((ZipkinReporter)state!).OnTimer(), this, FlushInterval, FlushInterval);
    }

    /// <summary>Stats of this reporter (shared with every Zipkin tracer).</summary>
    internal ZipkinTracerStats Stats => _stats;

    /// <summary>The spans buffered now.</summary>
    internal int PendingSpans
    {
        get
        {
            lock (_lock)
            {
                return _buffer.Count;
            }
        }
    }

    /// <summary>Buffers a finished sampled span; the one that fills the buffer flushes it.</summary>
    public void Report(ZipkinSpan span)
    {
        List<ZipkinSpan>? batch = null;
        lock (_lock)
        {
            // Envoy's SpanBuffer: a full buffer refuses the span (it cannot stay full: the span that fills it flushes it).
            if (_disposed || _buffer.Count >= MinFlushSpans)
            {
                return;
            }
            _buffer.Add(span);
            if (_buffer.Count == MinFlushSpans)
            {
                batch = TakeBuffer();
            }
        }
        if (batch is not null)
        {
            Send(batch);
        }
    }

    /// <summary>Sends what is buffered now (the timer's work).</summary>
    internal void Flush()
    {
        List<ZipkinSpan>? batch;
        lock (_lock)
        {
            batch = _buffer.Count > 0 && !_disposed ? TakeBuffer() : null;
        }
        if (batch is not null)
        {
            Send(batch);
        }
    }

    /// <summary>Stops the timer and cancels the reports in flight, waiting for them to end; buffered spans are dropped, as Envoy does.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? drained = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _buffer.Clear();
            if (_inFlight > 0)
            {
                _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                drained = _drained.Task;
            }
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
        _stopping.Cancel();
        if (drained is not null)
        {
            await drained.ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    private void OnTimer()
    {
        _stats.TimerFlushed.Increment();
        Flush();
    }

    private List<ZipkinSpan> TakeBuffer()
    {
        var batch = _buffer;
        _buffer = new List<ZipkinSpan>(MinFlushSpans);
        return batch;
    }

    private void Send(List<ZipkinSpan> batch)
    {
        _stats.SpansSent.Add(batch.Count);
        HttpMessageInvoker? client;
        try
        {
            client = _context.ClusterClient(_settings.CollectorCluster);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            client = null;
        }
        if (client is null)
        {
            LogNoCluster(_logger, _settings.CollectorCluster);
            _stats.ReportsSkippedNoCluster.Increment();
            return;
        }
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            if (_inFlight >= MaxReportsInFlight)
            {
                _stats.ReportsFailed.Increment();
                return;
            }
            _inFlight++;
        }
        _ = Task.Run(() => PostAsync(client, batch));
    }

    private async Task PostAsync(HttpMessageInvoker client, List<ZipkinSpan> batch)
    {
        try
        {
            var body = new ArrayBufferWriter<byte>(256 * batch.Count);
            if (_settings.Proto)
            {
                ZipkinProtoEncoder.Write(body, batch, _local, _settings.SharedSpanContext);
            }
            else
            {
                ZipkinJsonEncoder.Write(body, batch, _local, _settings.SharedSpanContext);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
            request.Content.Headers.ContentType = _contentType;
            request.Headers.TryAddWithoutValidation("Host", _settings.CollectorHostname);
            // After the host and content type, as Envoy's reporter: a configured header replaces them.
            CollectorHttpService.Apply(request, _settings.RequestHeaders);
            using var timeout = new CancellationTokenSource(RequestTimeout, _context.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
            using var response = await client.SendAsync(request, linked.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                _stats.ReportsSent.Increment();
            }
            else
            {
                _stats.ReportsDropped.Increment();
            }
        }
        catch (Exception e)
        {
            // A background send: whatever the client throws is a failed report, never an unobserved task.
            if (!_stopping.IsCancellationRequested)
            {
                LogReportFailed(_logger, _settings.CollectorCluster, e.Message);
                _stats.ReportsFailed.Increment();
            }
        }
        finally
        {
            TaskCompletionSource? drained = null;
            lock (_lock)
            {
                if (--_inFlight == 0)
                {
                    drained = _drained;
                }
            }
            drained?.TrySetResult();
        }
    }

    private static Uri CollectorUri(string hostname, string endpoint)
    {
        // The cluster client replaces the authority with the host it picks; the Host header keeps the configured name.
        var path = endpoint.StartsWith('/') ? endpoint : "/" + endpoint;
        return Uri.TryCreate("http://" + hostname + path, UriKind.Absolute, out var uri) && uri.Host.Length > 0
            ? uri
            : new Uri("http://zipkin-collector" + path, UriKind.Absolute);
    }

    [LoggerMessage(EventId = LogEvents.ZipkinNoCluster, Level = LogLevel.Debug, Message = "collector cluster '{Cluster}' does not exist")]
    private static partial void LogNoCluster(ILogger logger, string cluster);

    [LoggerMessage(EventId = LogEvents.ZipkinReportFailed, Level = LogLevel.Debug, Message = "zipkin: report to collector cluster '{Cluster}' failed: {Reason}")]
    private static partial void LogReportFailed(ILogger logger, string cluster, string reason);
}
