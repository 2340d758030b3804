using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Xds;

/// <summary>
/// Envoy's FilesystemSubscriptionImpl: a <c>DiscoveryResponse</c> file read when the subscription starts and again each
/// time a file is moved onto its path (or, with <c>watched_directory</c>, into that directory): Envoy's atomic-rename
/// convention, so a half-written file is never read. Each read counts <c>update_attempt</c>, then
/// <c>update_success</c> (version, version_text and update_time set), <c>update_rejected</c> (the file parsed but the
/// update was refused: what the callback returns) or <c>update_failure</c> (not readable, not YAML or JSON).
/// Reads are serialized by the caller's lock; the callback runs on the thread that read the file.
/// </summary>
internal sealed partial class FilesystemSubscription : IXdsSubscription
{
    private readonly string _path;
    private readonly string _directory;
    private readonly string _fileName;
    private readonly bool _wholeDirectory;
    private readonly EnvoyTypeRegistry _types;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<DiscoveryResponse, string?> _onUpdate;
    private readonly Lock _gate;
    private readonly DirectoryWatchers _watchers;
    private readonly Action<FilesystemSubscription>? _defer;
    private IDisposable? _watch;
    private bool _disposed;

    /// <param name="source">A file source (<c>path</c> or <c>path_config_source</c>), validated.</param>
    /// <param name="stats">The subscription's stats.</param>
    /// <param name="gate">Held while the file is read and the update applied: shared by every subscription of a configuration manager, so updates are processed one at a time.</param>
    /// <param name="onUpdate">Takes a parsed response; returns null when it was accepted, else why it was rejected.</param>
    /// <param name="watchers">The directory watchers the manager's subscriptions share.</param>
    /// <param name="defer">When set, a moved file is handed to it instead of being read at once (the manager batches EDS reads).</param>
    public FilesystemSubscription(EnvoyConfigSource source, SubscriptionStats stats, EnvoyTypeRegistry types, TimeProvider time, ILogger logger, Lock gate, DirectoryWatchers watchers, Func<DiscoveryResponse, string?> onUpdate, Action<FilesystemSubscription>? defer = null)
    {
        _defer = defer;
        _gate = gate;
        _watchers = watchers;
        _path = Path.GetFullPath(DiscoveryFile.PathOf(source)!);
        _directory = DiscoveryFile.DirectoryOf(source);
        _wholeDirectory = DiscoveryFile.WatchesWholeDirectory(source);
        _fileName = Path.GetFileName(_path);
        Stats = stats;
        _types = types;
        _time = time;
        _logger = logger;
        _onUpdate = onUpdate;
    }

    /// <summary>The file read.</summary>
    public string FilePath => _path;

    public SubscriptionStats Stats { get; }

    /// <summary>The <c>version_info</c> of the last accepted response; null before one.</summary>
    public string? VersionInfo { get; private set; }

    /// <summary>The error of the last rejected or failed read; null when the last read was accepted.</summary>
    public string? LastError { get; private set; }

    /// <summary>A file is read when the subscription starts: nothing to wait for.</summary>
    public Task Initialized => Task.CompletedTask;

    /// <summary>Watches the directory, then reads the file once (Envoy's start: "in case there is a file there already").</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_disposed || _watch is not null)
            {
                return;
            }
            _watch = _watchers.Subscribe(_directory, OnMoved);
        }
        Refresh();
    }

    private void OnMoved(string? name)
    {
        if (_wholeDirectory || name == _fileName)
        {
            if (_defer is { } defer)
            {
                defer(this);
            }
            else
            {
                Refresh();
            }
        }
    }

    /// <summary>Reads the file and hands a parsed response to the callback (Envoy's refresh).</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            Stats.UpdateAttempt.Increment();
            var file = DiscoveryFile.Read(_path, _types);
            if (file.Response is not { } response)
            {
                var error = Describe(file.Errors);
                LastError = error;
                if (file.Parsed)
                {
                    Stats.UpdateRejected.Increment();
                    LogRejected(_logger, _path, error);
                }
                else
                {
                    Stats.UpdateFailure.Increment();
                    LogFailed(_logger, _path, error);
                }
                return;
            }
            string? rejected;
            try
            {
                rejected = _onUpdate(response);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Never a crash from a bad update: the last good configuration stays.
                rejected = e.Message;
            }
            if (rejected is not null)
            {
                LastError = rejected;
                Stats.UpdateRejected.Increment();
                LogRejected(_logger, _path, rejected);
                return;
            }
            LastError = null;
            VersionInfo = response.VersionInfo ?? string.Empty;
            Stats.Accepted(VersionInfo, _time.GetUtcNow());
        }
    }

    /// <summary>Errors as one line each, the way the loader prints them.</summary>
    internal static string Describe(IReadOnlyList<ConfigError> errors)
        => errors.Count == 0 ? "unknown error" : string.Join("\n", errors);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _watch?.Dispose();
            _watch = null;
        }
    }

    [LoggerMessage(EventId = LogEvents.XdsFileRejected, Level = LogLevel.Warning, Message = "Filesystem config update rejected: {Path}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = LogEvents.XdsFileFailed, Level = LogLevel.Warning, Message = "Filesystem config update failure: in {Path}, {Reason}")]
    private static partial void LogFailed(ILogger logger, string path, string reason);
}
