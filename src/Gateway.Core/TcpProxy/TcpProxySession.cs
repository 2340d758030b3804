using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Microsoft.AspNetCore.Connections;

namespace Gateway.TcpProxy;

/// <summary>
/// One downstream connection through a TCP proxy chain (Envoy's TcpProxy::Filter): the cluster is chosen, a host of it
/// picked by the cluster's load balancer and connected to (up to <c>max_connect_attempts</c> times, each failure charged to
/// outlier detection), then bytes are copied both ways until both sides are done, the idle timeout or the maximum
/// duration. Runs where the chain's connection would otherwise go to HTTP: after TLS termination when the chain has it.
/// </summary>
internal sealed class TcpProxySession(TcpProxyRuntime proxy, RequestStreamInfo? info)
{
    private const int ReadSize = 16 * 1024;

    private readonly CancellationTokenSource _closing = new();
    private ConnectionContext? _connection;
    private long _lastActivity;
    private int _closed;
    private long _received;
    private long _sent;

    /// <summary>Proxies the connection until it is over; the caller (the listener's connection step) then closes it.</summary>
    public async Task RunAsync(ConnectionContext connection)
    {
        _connection = connection;
        proxy.Stats.DownstreamCxTotal.Increment();
        ITcpUpstream? upstream = null;
        var plan = proxy.Plan;
        // Envoy's onNewConnection arms these before it connects: a connect that outlasts the idle timeout or the
        // maximum duration is abandoned with the connection.
        Touch();
        _idleTimer = plan.IdleTimeout is { } idle ? proxy.Time.CreateTimer(static s => ((TcpProxySession)s!).OnIdleTimer(), this, idle, Timeout.InfiniteTimeSpan) : null;
        var duration = plan.MaxDownstreamConnectionDuration is { } maxDuration
            ? proxy.Time.CreateTimer(static s => ((TcpProxySession)s!).OnMaxDuration(), this, maxDuration, Timeout.InfiniteTimeSpan)
            : null;
        var periodic = plan.AccessLogFlushInterval is { } interval && info is not null
            ? proxy.Time.CreateTimer(static s => ((TcpProxySession)s!).Log(AccessLogType.TcpPeriodic), this, interval, interval)
            : null;
        try
        {
            upstream = await ConnectAsync(connection).ConfigureAwait(false);
            if (upstream is null)
            {
                return;
            }
            Touch();
            if (plan.FlushAccessLogOnConnected)
            {
                Log(AccessLogType.TcpUpstreamConnected);
            }
            await ProxyAsync(connection.Transport, upstream).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Exchange(ref _closed, 1);
            await DisposeAsync(_idleTimer).ConfigureAwait(false);
            await DisposeAsync(duration).ConfigureAwait(false);
            await DisposeAsync(periodic).ConfigureAwait(false);
            upstream?.Close();
            _closing.Dispose();
            info?.Complete();
            Log(AccessLogType.TcpConnectionEnd);
        }
    }

    private ITimer? _idleTimer;

    private static ValueTask DisposeAsync(ITimer? timer) => timer?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Chooses the cluster and a host and connects; null (the flags and stats set) when the connection is to be closed.</summary>
    private async ValueTask<ITcpUpstream?> ConnectAsync(ConnectionContext connection)
    {
        var cluster = proxy.PickCluster();
        if (cluster is null)
        {
            proxy.Stats.DownstreamCxNoRoute.Increment();
            info?.SetResponseFlag(ResponseFlags.NoRouteFound);
            return null;
        }
        if (info is not null)
        {
            info.UpstreamCluster = cluster;
        }
        ulong? hash = proxy.Plan.HashSourceIp ? SourceIpHash(connection.RemoteEndPoint) : null;
        for (var attempt = 0; ; attempt++)
        {
            // Envoy's initializeUpstreamConnection: the connection limit first, then the attempts.
            if (!cluster.CanCreateConnection(RoutingPriority.Default))
            {
                info?.SetResponseFlag(ResponseFlags.UpstreamOverflow);
                cluster.Stats.UpstreamCxOverflow.Increment();
                return null;
            }
            if (attempt >= proxy.Plan.MaxConnectAttempts)
            {
                info?.SetResponseFlag(ResponseFlags.UpstreamRetryLimitExceeded);
                cluster.Stats.UpstreamCxConnectAttemptsExceeded.Increment();
                return null;
            }
            if (TcpUpstreamConnection.PickHost(cluster, null, hash) is not { } host)
            {
                info?.SetResponseFlag(ResponseFlags.NoHealthyUpstream);
                cluster.Stats.UpstreamCxNoneHealthy.Increment();
                return null;
            }
            if (info is not null)
            {
                info.Host = host;
                info.AttemptCount = attempt + 1;
            }
            var (upstream, failure) = await TryConnectAsync(cluster, host).ConfigureAwait(false);
            if (upstream is not null)
            {
                return upstream;
            }
            if (failure == TunnelFailure.Overflow)
            {
                // The tunnel's HTTP stream was refused by the cluster's request limit (the pool's overflow).
                info?.SetResponseFlag(ResponseFlags.UpstreamOverflow);
                return null;
            }
            info?.SetResponseFlag(ResponseFlags.UpstreamConnectionFailure);
            if (_closing.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>Envoy's SourceIpHashMethod: the downstream address without its port (IPv4 for a mapped address).</summary>
    private static ulong? SourceIpHash(EndPoint? remote)
    {
        if (remote is not IPEndPoint { Address: var address })
        {
            return null;
        }
        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return HashFunctions.XxHash64(ip.ToString().AsSpan());
    }

    /// <summary>
    /// One connect to <paramref name="host"/>, or with <c>tunneling_config</c> one tunnel (a failure, a reset or an answer
    /// that is not a success fails the attempt as a connect failure does, as Envoy's HttpUpstream reports it to the pool);
    /// the session's own close (timers) cancels it.
    /// </summary>
    private async ValueTask<(ITcpUpstream? Upstream, TunnelFailure Failure)> TryConnectAsync(ClusterRuntime cluster, UpstreamHost host)
    {
        if (proxy.Tunnel is { } tunnel)
        {
            return await tunnel.OpenAsync(cluster, host, info, Endpoints(_connection!), _closing.Token).ConfigureAwait(false);
        }
        // Not the connection's ConnectionClosed: Kestrel raises it on the client's FIN too, which is only a half-close
        // here; a reset shows in the copy once connected.
        var (connection, _, _) = await TcpUpstreamConnection.ConnectAsync(cluster, host, proxy.Time, _closing.Token).ConfigureAwait(false);
        return (connection, connection is null ? TunnelFailure.ConnectFailed : TunnelFailure.None);
    }

    /// <summary>The connection's addresses, made once (formatters of the tunnel and of the access logs read them).</summary>
    private ConnectionEndpoints Endpoints(ConnectionContext connection)
        => _endpoints ??= new ConnectionEndpoints(connection.ConnectionId, connection.LocalEndPoint, connection.RemoteEndPoint);

    /// <summary>
    /// Copies both ways. The downstream's end (FIN) half-closes the upstream and the upstream's bytes keep flowing until it
    /// ends too; the upstream's end finishes the downstream connection once what it sent is flushed (Kestrel cannot
    /// half-close a downstream connection: see docs/compatibility.md). An error either way, the idle timeout or the maximum
    /// duration close both at once.
    /// </summary>
    private async Task ProxyAsync(IDuplexPipe downstream, ITcpUpstream upstream)
    {
        var token = _closing.Token;
        var toUpstream = DownstreamToUpstreamAsync(downstream.Input, upstream, token);
        var toDownstream = UpstreamToDownstreamAsync(upstream, downstream.Output, token);
        var first = await Task.WhenAny(toUpstream, toDownstream).ConfigureAwait(false);
        if (first == toUpstream && toUpstream.Result)
        {
            await toDownstream.ConfigureAwait(false);
        }
        if (Volatile.Read(ref _closed) == 0)
        {
            await _closing.CancelAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(toUpstream, toDownstream).ConfigureAwait(false);
        if (toDownstream.Result && Volatile.Read(ref _closed) == 0)
        {
            // The upstream ended: what it sent is flushed, then the downstream connection closes.
            await downstream.Output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Downstream to upstream; true when the downstream ended its side (then the upstream's send side is shut).</summary>
    private async Task<bool> DownstreamToUpstreamAsync(PipeReader input, ITcpUpstream upstream, CancellationToken token)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var length = buffer.Length;
                if (length > 0)
                {
                    // Counted as read (Envoy's connection stats), before the upstream's answer can be.
                    Interlocked.Add(ref _received, length);
                    proxy.Stats.DownstreamCxRxBytesTotal.Add(length);
                    if (!upstream.CountsConnectionBytes)
                    {
                        upstream.Cluster.Stats.UpstreamCxTxBytesTotal.Add(length);
                    }
                    Touch();
                }
                foreach (var segment in buffer)
                {
                    await upstream.Stream.WriteAsync(segment, token).ConfigureAwait(false);
                }
                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    await upstream.ShutdownSendAsync().ConfigureAwait(false);
                    return true;
                }
                if (result.IsCanceled)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            return false;
        }
    }

    /// <summary>Upstream to downstream; true when the upstream ended its side (read 0).</summary>
    private async Task<bool> UpstreamToDownstreamAsync(ITcpUpstream upstream, PipeWriter output, CancellationToken token)
    {
        try
        {
            while (true)
            {
                var memory = output.GetMemory(ReadSize);
                int read;
                try
                {
                    read = await upstream.Stream.ReadAsync(memory, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsConnectionError(ex) && !token.IsCancellationRequested)
                {
                    // Reset by the upstream.
                    upstream.RemoteClosed = true;
                    return false;
                }
                if (read == 0)
                {
                    upstream.RemoteClosed = true;
                    return true;
                }
                output.Advance(read);
                Interlocked.Add(ref _sent, read);
                proxy.Stats.DownstreamCxTxBytesTotal.Add(read);
                if (!upstream.CountsConnectionBytes)
                {
                    upstream.Cluster.Stats.UpstreamCxRxBytesTotal.Add(read);
                }
                Touch();
                var flushed = await output.FlushAsync(token).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            return false;
        }
    }

    private static bool IsConnectionError(Exception ex)
        => ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException;

    private void Touch() => Volatile.Write(ref _lastActivity, proxy.Time.GetTimestamp());

    /// <summary>Envoy resets the idle timer on every byte either way; here the timer checks, when it fires, how long it has been.</summary>
    private void OnIdleTimer()
    {
        var timeout = proxy.Plan.IdleTimeout!.Value;
        var idle = proxy.Time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idle < timeout)
        {
            _idleTimer?.Change(timeout - idle, Timeout.InfiniteTimeSpan);
            return;
        }
        if (Close())
        {
            proxy.Stats.IdleTimeout.Increment();
        }
    }

    private void OnMaxDuration()
    {
        if (Close())
        {
            proxy.Stats.MaxDownstreamConnectionDuration.Increment();
        }
    }

    /// <summary>Closes both connections without flushing (Envoy's NoFlush close); false when the session was already over.</summary>
    private bool Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended at the same moment.
        }
        _connection?.Abort(new ConnectionAbortedException("tcp_proxy closed the connection"));
        return true;
    }

    /// <summary>
    /// Envoy's flushAccessLog: every logger of the filter over the connection's stream info, with the upstream and the
    /// bytes so far (the connection's end, the upstream's connect, or a periodic entry). One entry at a time: a periodic
    /// one may fire while the connection ends.
    /// </summary>
    private void Log(AccessLogType type)
    {
        if (info is null || _connection is not { } connection)
        {
            return;
        }
        lock (_logLock)
        {
            if (type == AccessLogType.TcpPeriodic && Volatile.Read(ref _closed) != 0)
            {
                return;
            }
            info.BytesReceived = Interlocked.Read(ref _received);
            info.BytesSent = Interlocked.Read(ref _sent);
            if (proxy.AccessLogs.Length == 0)
            {
                return;
            }
            info.ConnectionTls ??= connection.Features.Get<Gateway.Tls.DownstreamTlsInfo>();
            AccessLog.AccessLogger.LogAll(proxy.AccessLogs, new AccessLog.AccessLogContext(info, Endpoints(connection), type));
        }
    }

    private readonly Lock _logLock = new();
    private ConnectionEndpoints? _endpoints;
}
