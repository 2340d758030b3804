using Gateway.Stats;

namespace Gateway.AccessLog;

/// <summary>Where an access log writes: a file path, or the process's standard output or error.</summary>
/// <param name="Kind">The kind of destination.</param>
/// <param name="Path">The file path (empty for the standard streams).</param>
internal readonly record struct AccessLogDestination(AccessLogDestinationKind Kind, string Path)
{
    /// <summary>The process's standard output (<c>StdoutAccessLog</c>).</summary>
    public static AccessLogDestination Stdout => new(AccessLogDestinationKind.Stdout, string.Empty);

    /// <summary>The process's standard error (<c>StderrAccessLog</c>).</summary>
    public static AccessLogDestination Stderr => new(AccessLogDestinationKind.Stderr, string.Empty);

    /// <summary>A file; <c>/dev/stdout</c> and <c>/dev/stderr</c> are the standard streams, as the OS makes them.</summary>
    public static AccessLogDestination File(string path) => new(AccessLogDestinationKind.File, path);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AccessLogDestinationKind.Stdout => "/dev/stdout",
        AccessLogDestinationKind.Stderr => "/dev/stderr",
        _ => Path,
    };
}

/// <summary>The kinds of <see cref="AccessLogDestination"/>.</summary>
internal enum AccessLogDestinationKind
{
    /// <summary>A file.</summary>
    File,

    /// <summary>Standard output.</summary>
    Stdout,

    /// <summary>Standard error.</summary>
    Stderr,
}

/// <summary>Envoy's file access log stats (<c>filesystem.*</c>, shared by every file).</summary>
internal sealed class AccessLogFileStats(StatsStore store)
{
    /// <summary><c>filesystem.write_buffered</c>: lines moved into a flush buffer.</summary>
    public Counter WriteBuffered { get; } = store.Counter("filesystem.write_buffered");

    /// <summary><c>filesystem.write_completed</c>: buffer writes that succeeded.</summary>
    public Counter WriteCompleted { get; } = store.Counter("filesystem.write_completed");

    /// <summary><c>filesystem.write_failed</c>: buffer writes that failed (and, here, lines dropped over the memory bound).</summary>
    public Counter WriteFailed { get; } = store.Counter("filesystem.write_failed");

    /// <summary><c>filesystem.flushed_by_timer</c>: flush timer ticks.</summary>
    public Counter FlushedByTimer { get; } = store.Counter("filesystem.flushed_by_timer");

    /// <summary><c>filesystem.reopen_failed</c>: files that could not be opened again.</summary>
    public Counter ReopenFailed { get; } = store.Counter("filesystem.reopen_failed");

    /// <summary><c>filesystem.write_total_buffered</c>: bytes waiting in flush buffers.</summary>
    public Gauge WriteTotalBuffered { get; } = store.Gauge("filesystem.write_total_buffered");
}

/// <summary>
/// Envoy's AccessLogManager: one <see cref="AccessLogFile"/> per destination however many loggers (and listeners)
/// name it, the flush settings (Envoy's <c>--file-flush-interval-msec</c>, default 10 s, and the 64 KiB flush size),
/// <c>/reopen_logs</c>, and the final flush at shutdown.
/// </summary>
internal sealed class AccessLogManager : IAsyncDisposable
{
    /// <summary>Envoy's default <c>--file-flush-interval-msec</c>.</summary>
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(10);

    /// <summary>A buffer larger than this is written without waiting for the timer (Envoy's MIN_FLUSH_SIZE, 64 KiB).</summary>
    public const int MinFlushSize = 64 * 1024;

    /// <summary>The default bound on one file's buffered bytes.</summary>
    public const int DefaultMaxBufferedBytes = 64 * 1024 * 1024;

    private readonly Dictionary<AccessLogDestination, AccessLogFile> _files = [];
    private readonly Func<AccessLogDestination, Stream>? _opener;

    /// <summary>Creates the manager.</summary>
    /// <param name="stats">Where the <c>filesystem.*</c> stats live.</param>
    /// <param name="time">The clock of the flush timer.</param>
    /// <param name="flushInterval">How often buffered lines are written at the latest; default 10 s.</param>
    /// <param name="opener">Opens a destination (tests); the file system and the console streams otherwise.</param>
    public AccessLogManager(StatsStore stats, TimeProvider time, TimeSpan? flushInterval = null, Func<AccessLogDestination, Stream>? opener = null)
    {
        Stats = new AccessLogFileStats(stats);
        Time = time;
        FlushInterval = flushInterval ?? DefaultFlushInterval;
        if (FlushInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(flushInterval), flushInterval, "the access log flush interval must be positive");
        }
        _opener = opener;
    }

    /// <summary>The <c>filesystem.*</c> stats.</summary>
    public AccessLogFileStats Stats { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>The flush interval.</summary>
    public TimeSpan FlushInterval { get; }

    /// <summary>Bytes one file may hold in memory before lines are dropped.</summary>
    public int MaxBufferedBytes { get; init; } = DefaultMaxBufferedBytes;

    /// <summary>
    /// The file for <paramref name="destination"/>, opened (create, append) on first use and shared afterwards.
    /// Throws <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>) when it cannot be opened, as
    /// Envoy fails the configuration with <c>unable to open file '…'</c>.
    /// </summary>
    public AccessLogFile GetOrOpen(AccessLogDestination destination)
    {
        lock (_files)
        {
            if (!_files.TryGetValue(destination, out var file))
            {
                file = new AccessLogFile(this, destination, Open(destination));
                _files[destination] = file;
            }
            return file;
        }
    }

    /// <summary>Opens a destination for appending.</summary>
    internal Stream Open(AccessLogDestination destination)
    {
        if (_opener is not null)
        {
            return _opener(destination);
        }
        return destination.Kind switch
        {
            // The standard streams, also when a file access log names them by path (fd 1 and 2, as opening /dev/stdout gives).
            AccessLogDestinationKind.Stdout => Console.OpenStandardOutput(),
            AccessLogDestinationKind.Stderr => Console.OpenStandardError(),
            _ when destination.Path == "/dev/stdout" => Console.OpenStandardOutput(),
            _ when destination.Path == "/dev/stderr" => Console.OpenStandardError(),
            _ => new FileStream(destination.Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0),
        };
    }

    /// <summary><c>POST /reopen_logs</c>: every file is closed and opened again at its path before its next write.</summary>
    public void Reopen()
    {
        foreach (var file in Snapshot())
        {
            file.Reopen();
        }
    }

    /// <summary>Writes everything buffered (tests; shutdown does it too).</summary>
    public async Task FlushAsync()
    {
        foreach (var file in Snapshot())
        {
            await file.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Flushes and closes every file.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var file in Snapshot())
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
    }

    private AccessLogFile[] Snapshot()
    {
        lock (_files)
        {
            return [.. _files.Values];
        }
    }
}
