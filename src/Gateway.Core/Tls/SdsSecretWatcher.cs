using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// One file-based SDS subscription (Envoy's FilesystemSubscriptionImpl feeding an SdsApi): what every kind of secret
/// shares. Two watches, as Envoy's:
/// <list type="bullet">
/// <item>the DiscoveryResponse file, for moves into place (<c>watched_directory</c>: any move into that directory, the
/// Kubernetes <c>..data</c> swap): the file is read again, counting <c>sds.&lt;name&gt;.update_attempt</c> and then
/// <c>update_success</c>, <c>update_rejected</c> (read but refused: wrong secret, material that does not load) or
/// <c>update_failure</c> (not readable or not YAML);</item>
/// <item>the data files the secret names (certificate and key, CA bundle and CRL), for moves into place: they are read
/// again (a failure counts <c>key_rotation_failed</c>).</item>
/// </list>
/// A changed secret is used by new handshakes (established connections keep what they verified with) and counts each
/// context's <c>ssl_context_update_by_sds</c>; a refused update keeps the last good secret. Moves, not in-place writes,
/// trigger a reload, as in Envoy (a file is replaced atomically or not at all).
/// </summary>
internal abstract partial class SdsSecretWatcher : IDisposable
{
    protected static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();

    private readonly string _fileName;
    private readonly Counter _attempt;
    private readonly Counter _success;
    private readonly Counter _rejected;
    private readonly Counter _failure;
    private readonly Counter _keyRotationFailed;
    private readonly Gauge _updateTime;
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private Counter[] _contextsUpdated = [];
    private string?[] _dataFiles = [];
    private bool _disposed;

    protected SdsSecretWatcher(SdsWatchPlan plan, StatsStore store, TimeProvider time, ILogger logger)
    {
        Plan = plan;
        _fileName = Path.GetFileName(plan.Path);
        Time = time;
        Logger = logger;
        var prefix = "sds." + plan.SecretName + ".";
        _attempt = store.Counter(prefix + "update_attempt");
        _success = store.Counter(prefix + "update_success");
        _rejected = store.Counter(prefix + "update_rejected");
        _failure = store.Counter(prefix + "update_failure");
        _keyRotationFailed = store.Counter(prefix + "key_rotation_failed");
        _updateTime = store.Gauge(prefix + "update_time");
        // The load read the file once: Envoy's first refresh.
        _attempt.Increment();
        _success.Increment();
        _updateTime.Set(time.GetUtcNow().ToUnixTimeMilliseconds());
        VersionInfo = plan.VersionInfo;
        LastUpdated = time.GetUtcNow();
    }

    /// <summary>The file, directory and secret this subscription reads.</summary>
    public SdsWatchPlan Plan { get; }

    /// <summary>The <c>version_info</c> of the last accepted DiscoveryResponse (for <c>/config_dump</c>).</summary>
    public string? VersionInfo { get; protected set; }

    /// <summary>When the served secret last changed.</summary>
    public DateTimeOffset LastUpdated { get; private set; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    /// <summary>Held while the secret is read or replaced.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>The secret as served, for <c>/config_dump</c>'s <c>dynamic_active_secrets</c> (inline material inline).</summary>
    public abstract Configuration.Secret Secret();

    /// <summary>The <c>ssl_context_update_by_sds</c> counters of the contexts using the secret (set when a configuration is applied).</summary>
    public void ServeContexts(Counter[] contextsUpdated) => Volatile.Write(ref _contextsUpdated, contextsUpdated);

    public void Dispose()
    {
        lock (Gate)
        {
            _disposed = true;
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
            _watchers.Clear();
        }
    }

    /// <summary>
    /// Takes a secret read from the file (under <see cref="Gate"/>): false, with why, when it is refused
    /// (<c>update_rejected</c>, the served secret kept).
    /// </summary>
    protected abstract bool TryAccept(Configuration.Secret secret, out string error);

    /// <summary>Reads the secret's data files again (under <see cref="Gate"/>): false, with why, when they do not load (<c>key_rotation_failed</c>).</summary>
    protected abstract bool TryReloadFiles(out string path, out string error);

    /// <summary>A new secret is served: its contexts' <c>ssl_context_update_by_sds</c> are counted and the change logged.</summary>
    protected void Updated(string path, string what)
    {
        LastUpdated = Time.GetUtcNow();
        foreach (var counter in Volatile.Read(ref _contextsUpdated))
        {
            counter.Increment();
        }
        LogUpdated(Logger, Plan.SecretName, path, what);
    }

    /// <summary>Envoy's FilesystemSubscriptionImpl::refresh: the DiscoveryResponse read again, the secret replaced only by a complete, valid one.</summary>
    internal void Refresh()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }
            _attempt.Increment();
            var errors = new List<ConfigError>();
            var content = SdsFile.Read(Plan.Path, Plan.SecretName, Types, errors);
            if (content.Secret is not { } secret)
            {
                (content.Parsed ? _rejected : _failure).Increment();
                LogRejected(Logger, Plan.SecretName, Plan.Path, errors.Count == 0 ? "unreadable" : errors[0].ToString());
                return;
            }
            if (!TryAccept(secret, out var error))
            {
                _rejected.Increment();
                LogRejected(Logger, Plan.SecretName, Plan.Path, error);
                return;
            }
            _success.Increment();
            _updateTime.Set(Time.GetUtcNow().ToUnixTimeMilliseconds());
            VersionInfo = content.VersionInfo;
        }
    }

    /// <summary>Envoy's SdsApi::onWatchUpdate: the secret's data files read again.</summary>
    private void ReloadFiles()
    {
        lock (Gate)
        {
            if (!_disposed && !TryReloadFiles(out var path, out var error))
            {
                _keyRotationFailed.Increment();
                LogRejected(Logger, Plan.SecretName, path, error);
            }
        }
    }

    private void OnMoved(string directory, string? name)
    {
        if (directory == Plan.Directory && (Plan.WholeDirectory || name == _fileName))
        {
            Refresh();
        }
        else if (name is not null && IsDataFile(Path.Combine(directory, name)))
        {
            ReloadFiles();
        }
    }

    /// <summary>Watches the subscription's directory and those of the data files the secret names (one watcher per directory; null: inline).</summary>
    protected void SetDataFiles(params string?[] files)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal) { Plan.Directory };
        var full = new string?[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            full[i] = files[i] is { } file ? Path.GetFullPath(file) : null;
            if (full[i] is { } path && Path.GetDirectoryName(path) is { } directory)
            {
                wanted.Add(directory);
            }
        }
        _dataFiles = full;
        foreach (var directory in wanted)
        {
            if (!_watchers.ContainsKey(directory) && Directory.Exists(directory))
            {
                _watchers.Add(directory, Watch(directory));
            }
        }
        foreach (var (directory, watcher) in _watchers)
        {
            if (!wanted.Contains(directory))
            {
                watcher.Dispose();
                _watchers.Remove(directory);
            }
        }
    }

    /// <summary>The full path of data file <paramref name="index"/> as last set, or null (inline).</summary>
    protected string? DataFile(int index) => index < _dataFiles.Length ? _dataFiles[index] : null;

    private FileSystemWatcher Watch(string directory)
    {
        // Created covers a file moved in from another directory (inotify's unpaired IN_MOVED_TO), Renamed a move within it.
        var watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName,
            IncludeSubdirectories = false,
        };
        watcher.Created += (_, e) => OnMoved(directory, e.Name);
        watcher.Renamed += (_, e) => OnMoved(directory, e.Name);
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private bool IsDataFile(string path)
    {
        lock (Gate)
        {
            return Array.IndexOf(_dataFiles, path) >= 0;
        }
    }

    protected static DataSource Inline(byte[] material) => new() { InlineString = System.Text.Encoding.UTF8.GetString(material) };

    [LoggerMessage(EventId = LogEvents.SecretUpdated, Level = LogLevel.Information, Message = "secret {Name} updated from {Path}: {What}")]
    private static partial void LogUpdated(ILogger logger, string name, string path, string what);

    [LoggerMessage(EventId = LogEvents.SecretUpdateRejected, Level = LogLevel.Warning, Message = "secret {Name} update from {Path} rejected, keeping the last good one: {Reason}")]
    private static partial void LogRejected(ILogger logger, string name, string path, string reason);
}
