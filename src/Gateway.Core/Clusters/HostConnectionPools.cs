using System.Collections.Concurrent;
using Gateway.Tls;

namespace Gateway.Clusters;

/// <summary>
/// The connection pools of a cluster whose TLS follows the request (<c>auto_sni</c>, <c>auto_san_validation</c>): one
/// SocketsHttpHandler per request host (<see cref="UpstreamTls.RequestHost"/>), so a connection opened, and verified, for
/// one host only ever carries that host's requests. Envoy keys its pools by the transport socket options (SNI, SAN list)
/// in the same way. SocketsHttpHandler pools per endpoint, so each host's handler still has its pool per endpoint, and its
/// connections are opened and counted by <see cref="UpstreamConnections"/> as the cluster's single handler's are.
/// A pool is created on a host's first request; pools idle for the connections' idle timeout are disposed when another is
/// created (their connections already closed themselves by then). At most <see cref="MaxPools"/> exist: past it, the least
/// recently used is disposed (its idle connections close, requests in flight finish on theirs).
/// </summary>
internal sealed class HostConnectionPools : HttpMessageHandler
{
    /// <summary>
    /// Hosts with a pool at once, per cluster. Envoy has no bound, but at the edge the client chooses Host: without one,
    /// every distinct Host would keep a handler (and its idle connections) for the idle timeout.
    /// </summary>
    public const int MaxPools = 1024;

    private readonly Func<HttpMessageHandler> _create;
    private readonly TimeProvider _time;
    private readonly long _idleTimestamps;
    private readonly int _maxPools;
    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pool>.AlternateLookup<ReadOnlySpan<char>> _byHost;
    private readonly Lock _gate = new();
    private bool _disposed;

    public HostConnectionPools(Func<HttpMessageHandler> create, TimeSpan idleTimeout, TimeProvider? time = null, int maxPools = MaxPools)
    {
        _create = create;
        _time = time ?? TimeProvider.System;
        // idle_timeout 0 (infinite) keeps pools until the bound evicts them.
        _idleTimestamps = idleTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(idleTimeout.TotalSeconds * _time.TimestampFrequency);
        _maxPools = maxPools;
        _byHost = _pools.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The pools that exist now (for tests).</summary>
    internal int Count => _pools.Count;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var host = UpstreamTls.RequestHost(request);
        // A pool evicted between the lookup and the send refuses it at once (disposed): look again, a bounded number of times.
        for (var attempt = 0; ; attempt++)
        {
            var pool = PoolFor(host);
            try
            {
                return pool.Invoker.SendAsync(request, cancellationToken);
            }
            catch (ObjectDisposedException) when (pool.Evicted && attempt < 3)
            {
            }
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        => PoolFor(UpstreamTls.RequestHost(request)).Invoker.Send(request, cancellationToken);

    private Pool PoolFor(ReadOnlySpan<char> host)
    {
        // The hot path: one lookup by the host's span (no string is made) and a timestamp.
        if (!_byHost.TryGetValue(host, out var pool))
        {
            pool = Create(host);
        }
        Volatile.Write(ref pool.LastUsed, _time.GetTimestamp());
        return pool;
    }

    private Pool Create(ReadOnlySpan<char> host)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byHost.TryGetValue(host, out var existing))
            {
                return existing;
            }
            var now = _time.GetTimestamp();
            string? oldest = null;
            long oldestUse = long.MaxValue;
            foreach (var (key, candidate) in _pools)
            {
                var lastUsed = Volatile.Read(ref candidate.LastUsed);
                if (now - lastUsed >= _idleTimestamps)
                {
                    Evict(key);
                }
                else if (lastUsed < oldestUse)
                {
                    (oldest, oldestUse) = (key, lastUsed);
                }
            }
            if (_pools.Count >= _maxPools && oldest is not null)
            {
                Evict(oldest);
            }
            var pool = new Pool(new HttpMessageInvoker(_create(), disposeHandler: true), now);
            _pools[host.ToString()] = pool;
            return pool;
        }
    }

    private void Evict(string host)
    {
        if (_pools.TryRemove(host, out var pool))
        {
            pool.Evicted = true;
            pool.Invoker.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _disposed = true;
                foreach (var key in _pools.Keys)
                {
                    Evict(key);
                }
            }
        }
        base.Dispose(disposing);
    }

    private sealed class Pool(HttpMessageInvoker invoker, long created)
    {
        public readonly HttpMessageInvoker Invoker = invoker;

        public long LastUsed = created;

        public volatile bool Evicted;
    }
}
