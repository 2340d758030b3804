using System.Security.Cryptography;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tls;

/// <summary>
/// One file-based SDS subscription to a <c>tls_certificate</c> secret (Envoy's FilesystemSubscriptionImpl feeding a
/// TlsCertificateSdsApi), owning the <see cref="ServerCertificate"/> every context naming the secret serves. Two watches,
/// as Envoy's:
/// <list type="bullet">
/// <item>the DiscoveryResponse file, for moves into place (<c>watched_directory</c>: any move into that directory, the
/// Kubernetes <c>..data</c> swap): the file is read again, counting <c>sds.&lt;name&gt;.update_attempt</c> and then
/// <c>update_success</c>, <c>update_rejected</c> (read but refused: wrong secret, material that does not load) or
/// <c>update_failure</c> (not readable or not YAML);</item>
/// <item>the certificate and key files the secret names, for moves into place: they are read again (a failure counts
/// <c>key_rotation_failed</c>).</item>
/// </list>
/// A changed certificate replaces the served one for new handshakes (established connections keep theirs) and counts
/// each context's <c>ssl_context_update_by_sds</c>; a refused update keeps the last good certificate. Moves, not in-place
/// writes, trigger a reload, as in Envoy (a file is replaced atomically or not at all).
/// </summary>
internal sealed partial class SdsCertificateWatcher : IDisposable
{
    private static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();

    private readonly SdsWatchPlan _plan;
    private readonly string _fileName;
    private readonly Counter _attempt;
    private readonly Counter _success;
    private readonly Counter _rejected;
    private readonly Counter _failure;
    private readonly Counter _keyRotationFailed;
    private readonly Gauge _updateTime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private Counter[] _contextsUpdated = [];
    private byte[] _hash;
    private byte[] _chain;
    private byte[] _key;
    private string? _chainFile;
    private string? _keyFile;
    private bool _disposed;

    public SdsCertificateWatcher(SdsWatchPlan plan, TlsCertificatePlan initial, string? versionInfo, StatsStore store, TimeProvider time, ILogger logger)
    {
        _plan = plan;
        _fileName = Path.GetFileName(plan.Path);
        _time = time;
        _logger = logger;
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
        Certificate = ServerCertificate.Load(initial);
        _hash = Hash(initial.CertificateChain, initial.PrivateKey);
        _chain = initial.CertificateChain;
        _key = initial.PrivateKey;
        VersionInfo = versionInfo;
        LastUpdated = time.GetUtcNow();
        SetDataFiles(FileOf(initial.CertificateChainPath), FileOf(initial.PrivateKeyPath));
    }

    /// <summary>The file, directory and secret this subscription reads.</summary>
    public SdsWatchPlan Plan => _plan;

    /// <summary>The certificate served for the secret: replaced in place by each good update.</summary>
    public ServerCertificate Certificate { get; }

    /// <summary>The <c>version_info</c> of the last accepted DiscoveryResponse (for <c>/config_dump</c>).</summary>
    public string? VersionInfo { get; private set; }

    /// <summary>When the served certificate was last loaded.</summary>
    public DateTimeOffset LastUpdated { get; private set; }

    /// <summary>
    /// The secret as served, for <c>/config_dump</c>'s <c>dynamic_active_secrets</c>: its name and files (inline material
    /// inline; the private key is redacted by the dump).
    /// </summary>
    public Configuration.Secret Secret()
    {
        lock (_lock)
        {
            return new Configuration.Secret
            {
                Name = _plan.SecretName,
                TlsCertificate = new TlsCertificate
                {
                    CertificateChain = _chainFile is null ? Inline(_chain) : new DataSource { Filename = _chainFile },
                    PrivateKey = _keyFile is null ? Inline(_key) : new DataSource { Filename = _keyFile },
                },
            };
        }
    }

    /// <summary>The <c>ssl_context_update_by_sds</c> counters of the contexts serving the secret (set when a configuration is applied).</summary>
    public void ServeContexts(Counter[] contextsUpdated) => Volatile.Write(ref _contextsUpdated, contextsUpdated);

    /// <summary>A configuration applied again read the file itself: its material wins if it differs (an event may have been missed).</summary>
    public void Adopt(TlsCertificatePlan plan, string? versionInfo)
    {
        lock (_lock)
        {
            var hash = Hash(plan.CertificateChain, plan.PrivateKey);
            VersionInfo = versionInfo;
            if (!hash.AsSpan().SequenceEqual(_hash))
            {
                Replace(new Material(ServerCertificate.Load(plan).Context, hash, plan.CertificateChain, plan.PrivateKey), plan.CertificateChainPath);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
            _watchers.Clear();
        }
    }

    private void OnMoved(string directory, string? name)
    {
        if (directory == _plan.Directory && (_plan.WholeDirectory || name == _fileName))
        {
            Refresh();
        }
        else if (name is not null && IsDataFile(Path.Combine(directory, name)))
        {
            RotateKeys();
        }
    }

    /// <summary>Envoy's FilesystemSubscriptionImpl::refresh: the DiscoveryResponse read again, the certificate replaced only by a complete, valid, different secret.</summary>
    internal void Refresh()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _attempt.Increment();
            var errors = new List<ConfigError>();
            var content = SdsFile.Read(_plan.Path, _plan.SecretName, Types, errors);
            if (content.Secret is not { } secret)
            {
                (content.Parsed ? _rejected : _failure).Increment();
                LogRejected(_logger, _plan.SecretName, _plan.Path, errors.Count == 0 ? "unreadable" : errors[0].ToString());
                return;
            }
            if (secret.TlsCertificate is not { CertificateChain: { } chainSource, PrivateKey: { } keySource })
            {
                _rejected.Increment();
                LogRejected(_logger, _plan.SecretName, _plan.Path, $"secret {_plan.SecretName} is not a tls_certificate with certificate_chain and private_key");
                return;
            }
            if (!TryRead(chainSource, keySource, out var material, out var error))
            {
                _rejected.Increment();
                LogRejected(_logger, _plan.SecretName, _plan.Path, error);
                return;
            }
            _success.Increment();
            _updateTime.Set(_time.GetUtcNow().ToUnixTimeMilliseconds());
            VersionInfo = content.VersionInfo;
            SetDataFiles(chainSource.Filename, keySource.Filename);
            // The same material again (another file of the directory moved) changes nothing: Envoy's hash check.
            if (material.Context is not null)
            {
                Replace(material, TlsMaterial.PathOf(chainSource));
            }
        }
    }

    /// <summary>Envoy's SdsApi::onWatchUpdate: the secret's certificate and key files read again.</summary>
    private void RotateKeys()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            // The files of the secret as last accepted; inline material stays as it was.
            var chainSource = _chainFile is null ? Inline(_chain) : new DataSource { Filename = _chainFile };
            var keySource = _keyFile is null ? Inline(_key) : new DataSource { Filename = _keyFile };
            if (!TryRead(chainSource, keySource, out var material, out var error))
            {
                _keyRotationFailed.Increment();
                LogRejected(_logger, _plan.SecretName, TlsMaterial.PathOf(chainSource), error);
                return;
            }
            if (material.Context is not null)
            {
                Replace(material, TlsMaterial.PathOf(chainSource));
            }
        }
    }

    /// <summary>
    /// Reads the material; a context is loaded only when it differs from what is served (else <see cref="Material.Context"/>
    /// is null). False, with Envoy's error, when it does not read or load.
    /// </summary>
    private bool TryRead(DataSource chainSource, DataSource keySource, out Material material, out string error)
    {
        material = default;
        var chain = TlsMaterial.Read(chainSource, out var readError);
        var key = chain is null ? null : TlsMaterial.Read(keySource, out readError);
        if (chain is null || key is null)
        {
            error = readError ?? "the certificate does not read";
            return false;
        }
        var hash = Hash(chain, key);
        if (hash.AsSpan().SequenceEqual(_hash))
        {
            error = string.Empty;
            return true;
        }
        var context = TlsMaterial.LoadServerCertificate(chain, TlsMaterial.PathOf(chainSource), key, TlsMaterial.PathOf(keySource), out readError);
        if (context is null)
        {
            error = readError ?? "the certificate does not load";
            return false;
        }
        material = new Material(context, hash, chain, key);
        error = string.Empty;
        return true;
    }

    private void Replace(Material material, string chainPath)
    {
        _hash = material.Hash;
        _chain = material.Chain;
        _key = material.Key;
        Certificate.Replace(material.Context!, chainPath);
        LastUpdated = _time.GetUtcNow();
        foreach (var counter in Volatile.Read(ref _contextsUpdated))
        {
            counter.Increment();
        }
        LogUpdated(_logger, _plan.SecretName, _plan.Path, Certificate.Leaf.SerialNumber);
    }

    /// <summary>Watches the subscription's directory and those of the files the secret names (one watcher per directory).</summary>
    private void SetDataFiles(string? chainFile, string? keyFile)
    {
        _chainFile = chainFile is null ? null : Path.GetFullPath(chainFile);
        _keyFile = keyFile is null ? null : Path.GetFullPath(keyFile);
        var wanted = new HashSet<string>(StringComparer.Ordinal) { _plan.Directory };
        foreach (var file in (ReadOnlySpan<string?>)[_chainFile, _keyFile])
        {
            if (file is not null && Path.GetDirectoryName(file) is { } directory)
            {
                wanted.Add(directory);
            }
        }
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
        lock (_lock)
        {
            return path == _chainFile || path == _keyFile;
        }
    }

    private static string? FileOf(string path) => path == "<inline>" ? null : path;

    private static byte[] Hash(byte[] chain, byte[] key)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(chain);
        sha.AppendData(key);
        return sha.GetHashAndReset();
    }

    // New material: its loaded context and the hash it is known by.
    private readonly record struct Material(System.Net.Security.SslStreamCertificateContext? Context, byte[] Hash, byte[] Chain, byte[] Key);

    private static DataSource Inline(byte[] material) => new() { InlineString = System.Text.Encoding.UTF8.GetString(material) };

    [LoggerMessage(EventId = LogEvents.SecretUpdated, Level = LogLevel.Information, Message = "secret {Name} updated from {Path}: serving certificate serial {Serial}")]
    private static partial void LogUpdated(ILogger logger, string name, string path, string serial);

    [LoggerMessage(EventId = LogEvents.SecretUpdateRejected, Level = LogLevel.Warning, Message = "secret {Name} update from {Path} rejected, keeping the last good one: {Reason}")]
    private static partial void LogRejected(ILogger logger, string name, string path, string reason);
}
