using System.Diagnostics;
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
        Upstream? upstream = null;
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
    private async ValueTask<Upstream?> ConnectAsync(ConnectionContext connection)
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
            if (PickHost(cluster, hash) is not { } host)
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
            if (await TryConnectAsync(cluster, host).ConfigureAwait(false) is { } upstream)
            {
                return upstream;
            }
            info?.SetResponseFlag(ResponseFlags.UpstreamConnectionFailure);
            if (_closing.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>Envoy's chooseHost for a connection: the cluster's load balancer, with the hash policy's key (random without one).</summary>
    private static UpstreamHost? PickHost(ClusterRuntime cluster, ulong? hash)
    {
        WeightedHost? pick;
        switch (cluster.Picker)
        {
            case ISubsetPicker subsets:
                pick = subsets.Pick(null, subsets.UsesHash ? hash ?? subsets.RandomHash() : null, 0);
                break;
            case HashingPicker hashing:
                pick = hashing.Pick(hash ?? hashing.RandomHash(), 0);
                break;
            case { } picker:
                pick = picker.Pick(null, 0);
                break;
            default:
                // No plan applied yet for the cluster (a configuration being swapped in): the first available host.
                var available = cluster.ProxyCluster?.DestinationsState.AvailableDestinations;
                return available is { Count: > 0 } ? cluster.Host(available[0]) : null;
        }
        if (pick is { Panic: true })
        {
            cluster.Stats.LbHealthyPanic.Increment();
        }
        return pick?.Host;
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
    /// One connect to <paramref name="host"/> within the cluster's <c>connect_timeout</c> (then the TLS handshake when the
    /// cluster has a transport socket), counted as the HTTP path counts its connections; a failure is Envoy's
    /// LocalOriginConnectFailed (or LocalOriginTimeout) to outlier detection, a success LocalOriginConnectSuccessFinal.
    /// </summary>
    private async ValueTask<Upstream?> TryConnectAsync(ClusterRuntime cluster, UpstreamHost host)
    {
        var stats = cluster.Stats;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        UpstreamConnections.Opening(cluster, host);
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(cluster.Plan?.ConnectTimeout ?? Translation.EnvoyTranslator.DefaultConnectTimeout, proxy.Time);
        // Not the connection's ConnectionClosed: Kestrel raises it on the client's FIN too, which is only a half-close
        // here; a reset shows in the copy once connected. The session's own close (timers) cancels the connect.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _closing.Token);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(EndPointOf(host.Address), linked.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (cluster.TransportOf(host) is { } tls)
            {
                stream = await tls.HandshakeAsync(stream, tls.ServerNameFor(null), http2: false, linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException or System.Security.Authentication.AuthenticationException)
        {
            if (stream is null)
            {
                socket.Dispose();
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            var timedOut = timeout.IsCancellationRequested;
            UpstreamConnections.ConnectFailed(cluster, host, timedOut);
            if (!_closing.IsCancellationRequested)
            {
                cluster.OutcomeObserver?.OnRequestEnded(host, 0, timedOut);
            }
            return null;
        }
        stats.UpstreamCxConnectMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        cluster.OutcomeObserver?.OnRequestEnded(host, StatusOk, timedOut: false);
        return new Upstream(socket, stream, cluster, host);
    }

    private const int StatusOk = 200;

    /// <summary><c>ip:port</c>, <c>[v6]:port</c> or <c>name:port</c> as an endpoint to connect to.</summary>
    private static EndPoint EndPointOf(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        var host = hostPort.AsSpan(0, colon).Trim("[]");
        var port = int.Parse(hostPort.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        return IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host.ToString(), port);
    }

    /// <summary>
    /// Copies both ways. The downstream's end (FIN) half-closes the upstream and the upstream's bytes keep flowing until it
    /// ends too; the upstream's end finishes the downstream connection once what it sent is flushed (Kestrel cannot
    /// half-close a downstream connection: see docs/compatibility.md). An error either way, the idle timeout or the maximum
    /// duration close both at once.
    /// </summary>
    private async Task ProxyAsync(IDuplexPipe downstream, Upstream upstream)
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
    private async Task<bool> DownstreamToUpstreamAsync(PipeReader input, Upstream upstream, CancellationToken token)
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
                    upstream.Cluster.Stats.UpstreamCxTxBytesTotal.Add(length);
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
    private async Task<bool> UpstreamToDownstreamAsync(Upstream upstream, PipeWriter output, CancellationToken token)
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
                upstream.Cluster.Stats.UpstreamCxRxBytesTotal.Add(read);
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
            _endpoints ??= new ConnectionEndpoints(connection.ConnectionId, connection.LocalEndPoint, connection.RemoteEndPoint);
            AccessLog.AccessLogger.LogAll(proxy.AccessLogs, new AccessLog.AccessLogContext(info, _endpoints, type));
        }
    }

    private readonly Lock _logLock = new();
    private ConnectionEndpoints? _endpoints;

    /// <summary>The upstream connection: its stream (TLS over the socket when the cluster has it) and its close, counted once.</summary>
    private sealed class Upstream(Socket socket, Stream stream, ClusterRuntime cluster, UpstreamHost host)
    {
        private readonly long _opened = Stopwatch.GetTimestamp();
        private int _closed;

        public Stream Stream => stream;

        public ClusterRuntime Cluster => cluster;

        /// <summary>The upstream ended or reset the connection first (<c>upstream_cx_destroy_remote</c>).</summary>
        public bool RemoteClosed { get; set; }

        /// <summary>The downstream's FIN passed on: TLS close_notify, then the socket's send side shut.</summary>
        public async ValueTask ShutdownSendAsync()
        {
            if (stream is System.Net.Security.SslStream ssl)
            {
                await ssl.ShutdownAsync().ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return;
            }
            stream.Dispose();
            UpstreamConnections.Closed(cluster, host, RemoteClosed, _opened);
        }
    }
}
