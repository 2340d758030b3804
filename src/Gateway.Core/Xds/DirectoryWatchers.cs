namespace Gateway.Xds;

/// <summary>
/// One <see cref="FileSystemWatcher"/> per directory, shared by every subscription reading a file there: on Linux each
/// watcher is an inotify instance (128 per user by default), and an EDS subscription per cluster would otherwise need
/// one each. A move into the directory (a rename within it, or a file moved in from elsewhere, inotify's unpaired
/// IN_MOVED_TO) is handed to every subscriber with the moved file's name.
/// </summary>
internal sealed class DirectoryWatchers : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Watched> _directories = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Calls <paramref name="onMoved"/> with the name of each file moved into <paramref name="directory"/> until disposed; null when the directory does not exist.</summary>
    public IDisposable? Subscribe(string directory, Action<string?> onMoved)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_directories.TryGetValue(directory, out var watched))
            {
                if (!Directory.Exists(directory))
                {
                    return null;
                }
                watched = new Watched(this, directory);
                _directories.Add(directory, watched);
            }
            return watched.Add(onMoved);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var watched in _directories.Values)
            {
                watched.Watcher.Dispose();
            }
            _directories.Clear();
        }
    }

    private void Release(Watched watched)
    {
        lock (_lock)
        {
            if (watched.Count == 0 && _directories.Remove(watched.Directory))
            {
                watched.Watcher.Dispose();
            }
        }
    }

    private sealed class Watched
    {
        private readonly DirectoryWatchers _owner;
        private Action<string?>[] _subscribers = [];

        public Watched(DirectoryWatchers owner, string directory)
        {
            _owner = owner;
            Directory = directory;
            Watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName, IncludeSubdirectories = false };
            Watcher.Created += (_, e) => Raise(e.Name);
            Watcher.Renamed += (_, e) => Raise(e.Name);
            Watcher.EnableRaisingEvents = true;
        }

        public string Directory { get; }

        public FileSystemWatcher Watcher { get; }

        public int Count => Volatile.Read(ref _subscribers).Length;

        public IDisposable Add(Action<string?> subscriber)
        {
            lock (this)
            {
                _subscribers = [.. _subscribers, subscriber];
            }
            return new Subscription(this, subscriber);
        }

        private void Raise(string? name)
        {
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                subscriber(name);
            }
        }

        private void Remove(Action<string?> subscriber)
        {
            lock (this)
            {
                var index = Array.IndexOf(_subscribers, subscriber);
                if (index < 0)
                {
                    return;
                }
                _subscribers = [.. _subscribers[..index], .. _subscribers[(index + 1)..]];
            }
            _owner.Release(this);
        }

        private sealed class Subscription(Watched watched, Action<string?> subscriber) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    watched.Remove(subscriber);
                }
            }
        }
    }
}
