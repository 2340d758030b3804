using System.Text;
using Gateway.Stats;

namespace Gateway.AccessLog;

/// <summary>
/// One access log destination (Envoy's AccessLogFileImpl): the request path appends formatted lines to an in-memory
/// buffer under a short lock and never touches the disk; a flush task writes the buffer out when it passes
/// <see cref="AccessLogManager.MinFlushSize"/>, when the flush timer fires, on <c>/reopen_logs</c> and at shutdown.
/// Shared by every logger naming the same path (<see cref="AccessLogManager"/>).
/// </summary>
internal sealed class AccessLogFile : IAsyncDisposable
{
    private readonly AccessLogManager _manager;
    // _writeLock guards the buffer (held briefly by requests); _flushLock serialises flushes and the file (Envoy's two locks).
    private readonly Lock _writeLock = new();
    private readonly Lock _flushLock = new();
    private readonly SemaphoreSlim _signal = new(0, 1);
    private byte[] _buffer = new byte[4096];
    private int _length;
    private byte[] _spare = new byte[4096];
    private Stream? _stream;
    private ITimer? _timer;
    private Task? _flusher;
    private bool _reopen;
    private bool _closing;

    internal AccessLogFile(AccessLogManager manager, AccessLogDestination destination, Stream stream)
    {
        _manager = manager;
        Destination = destination;
        _stream = stream;
    }

    /// <summary>Where the lines go.</summary>
    public AccessLogDestination Destination { get; }

    /// <summary>
    /// Buffers one line, UTF-8 encoded; never waits on the disk (the flush writes outside this lock). A line past the
    /// memory bound (<see cref="AccessLogManager.MaxBufferedBytes"/>) is dropped and counted as <c>write_failed</c>.
    /// </summary>
    public void Write(ReadOnlySpan<char> line) => Write(line, null);

    /// <summary>Buffers the builder's text as one line (encoded chunk by chunk: no copy of the formatted entry).</summary>
    public void Write(StringBuilder line) => Write(default, line);

    private void Write(ReadOnlySpan<char> text, StringBuilder? builder)
    {
        var stats = _manager.Stats;
        var max = Encoding.UTF8.GetMaxByteCount(builder?.Length ?? text.Length);
        bool signal;
        lock (_writeLock)
        {
            if (_closing)
            {
                return;
            }
            if (_length + max > _buffer.Length)
            {
                var needed = _length + max;
                if (needed > _manager.MaxBufferedBytes)
                {
                    // The disk is not keeping up: Envoy would grow without bound; this gateway keeps memory bounded.
                    stats.WriteFailed.Increment();
                    return;
                }
                Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
            }
            int written;
            if (builder is null)
            {
                written = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
            }
            else
            {
                // One chunk is the usual case (the per-thread builder keeps its capacity); with several, an encoder
                // carries a surrogate pair split across two chunks.
                written = 0;
                Encoder? encoder = null;
                foreach (var chunk in builder.GetChunks())
                {
                    if (encoder is null && chunk.Length == builder.Length)
                    {
                        written = Encoding.UTF8.GetBytes(chunk.Span, _buffer.AsSpan(_length));
                        break;
                    }
                    encoder ??= Encoding.UTF8.GetEncoder();
                    written += encoder.GetBytes(chunk.Span, _buffer.AsSpan(_length + written), flush: false);
                }
                if (encoder is not null)
                {
                    written += encoder.GetBytes([], _buffer.AsSpan(_length + written), flush: true);
                }
            }
            _length += written;
            stats.WriteBuffered.Increment();
            stats.WriteTotalBuffered.Add(written);
            if (_flusher is null)
            {
                // As Envoy: the flush machinery starts with the first write.
                _flusher = Task.Run(FlushLoopAsync);
                _timer = _manager.Time.CreateTimer(static state => ((AccessLogFile)state!).OnTimer(), this, _manager.FlushInterval, _manager.FlushInterval);
            }
            signal = _length > AccessLogManager.MinFlushSize;
        }
        if (signal)
        {
            Signal();
        }
    }

    /// <summary>Asks for the file to be closed and opened again at its path before the next write (logrotate).</summary>
    public void Reopen()
    {
        lock (_writeLock)
        {
            _reopen = true;
            if (_flusher is null)
            {
                _flusher = Task.Run(FlushLoopAsync);
            }
        }
        Signal();
    }

    /// <summary>Writes what is buffered now (tests, shutdown); returns once it is on the file.</summary>
    public Task FlushAsync()
    {
        FlushBuffered();
        return Task.CompletedTask;
    }

    private void OnTimer()
    {
        _manager.Stats.FlushedByTimer.Increment();
        Signal();
    }

    private void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // Closed.
        }
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            try
            {
                await _signal.WaitAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (Volatile.Read(ref _closing))
            {
                return;
            }
            FlushBuffered();
        }
    }

    /// <summary>
    /// Swaps the buffers under the write lock and writes the full one outside it, under the flush lock, which also
    /// keeps the spare buffer from being reused before it is written.
    /// </summary>
    private void FlushBuffered()
    {
        var stats = _manager.Stats;
        lock (_flushLock)
        {
            bool reopen;
            byte[] full;
            int length;
            lock (_writeLock)
            {
                reopen = _reopen;
                _reopen = false;
                full = _buffer;
                length = _length;
                if (length != 0)
                {
                    _buffer = _spare;
                    _spare = full;
                    _length = 0;
                }
            }
            if (reopen)
            {
                try
                {
                    _stream?.Dispose();
                    _stream = null;
                    _stream = _manager.Open(Destination);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stats.ReopenFailed.Increment();
                }
            }
            if (length == 0)
            {
                return;
            }
            if (_stream is { } stream)
            {
                try
                {
                    stream.Write(full, 0, length);
                    stream.Flush();
                    stats.WriteCompleted.Increment();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    // Probably disk full (as Envoy's comment says).
                    stats.WriteFailed.Increment();
                }
            }
            else
            {
                // The reopen failed: the lines are lost, as Envoy loses them on a file it could not open.
                stats.WriteFailed.Increment();
            }
            stats.WriteTotalBuffered.Add(-length);
        }
    }

    /// <summary>Flushes what is buffered and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? flusher;
        lock (_writeLock)
        {
            if (_closing)
            {
                return;
            }
            _closing = true;
            flusher = _flusher;
        }
        FlushBuffered();
        lock (_flushLock)
        {
            _stream?.Dispose();
            _stream = null;
        }
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        Signal();
        if (flusher is not null)
        {
            await flusher.ConfigureAwait(false);
        }
        _signal.Dispose();
    }
}
