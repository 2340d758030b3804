using System.Net;
using Gateway.Admin;
using Gateway.Listeners;
using Gateway.Listeners.Inspection;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Gateway.Hosting;

/// <summary>
/// The first step of a listener's Kestrel endpoint, Envoy's ActiveTcpListener for one accepted connection: the drain
/// checks, the listener filters (TLS inspector), the filter chain's choice, then the chain's transport — Kestrel's TLS
/// step (<see cref="TlsPipeline"/>) for a TLS chain, straight to HTTP (<see cref="PlainPipeline"/>) for a plain-text one,
/// or a TCP proxy session (<see cref="TcpProxy.TcpProxySession"/>, after the TLS step when the chain has TLS) that never
/// reaches HTTP — and the connection's stats and access log around the rest of its life.
/// </summary>
internal sealed class ListenerConnectionHandler(ListenerSlot slot, ServerState server)
{
    /// <summary>The endpoint's steps after this one: TLS termination, then HTTP (null when no chain has TLS).</summary>
    public ConnectionDelegate? TlsPipeline { get; set; }

    /// <summary>Kestrel's HTTP step, which plain-text chains go to directly.</summary>
    public ConnectionDelegate? PlainPipeline { get; set; }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (server.ListenersStopped)
        {
            // Stopped by admin /drain_listeners: no new connections.
            connection.Abort();
            return;
        }
        // A drain asks open connections to close after their current request (HTTP/1.1 keep-alive off,
        // HTTP/2 GOAWAY); connections accepted during a graceful drain get connection: close (GatewayMiddleware).
        using var drain = server.ListenersDraining ? default : server.DrainToken.UnsafeRegister(
            static state => ((IConnectionLifetimeNotificationFeature?)state)?.RequestClose(),
            connection.Features.Get<IConnectionLifetimeNotificationFeature>());
        connection.Features.Set(slot);
        var listener = slot.Current;
        if (listener is null)
        {
            await PlainPipeline!(connection).ConfigureAwait(false);
            return;
        }
        var chain = listener.Single ?? await ChooseChainAsync(listener, connection).ConfigureAwait(false);
        if (chain is null)
        {
            connection.Abort();
            return;
        }
        // A listener changed or removed by LDS drains its connections, then closes those left (ListenerChains.BeginDrain).
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        using var listenerDrain = listener.DrainToken.UnsafeRegister(state => listener.DrainConnection((IConnectionLifetimeNotificationFeature?)state), lifetime);
        using var listenerClose = listener.CloseToken.UnsafeRegister(static state => ((ConnectionContext)state!).Abort(new ConnectionAbortedException("listener drained")), connection);
        await RunChainAsync(listener, chain, connection).ConfigureAwait(false);
    }

    /// <summary>Runs the listener filters and picks the chain; null when the connection is to be closed (counted here).</summary>
    private static async ValueTask<ListenerRuntime?> ChooseChainAsync(ListenerChains listener, ConnectionContext connection)
    {
        InspectedConnection? found = null;
        if (listener.Inspector is { } inspector)
        {
            found = new InspectedConnection();
            var stats = listener.Stats;
            stats.DownstreamPreCxActive.Increment();
            InspectionOutcome outcome;
            try
            {
                outcome = await inspector.InspectAsync(connection.Transport.Input, found, listener.Plan.ListenerFiltersTimeout, listener.Time, connection.ConnectionClosed).ConfigureAwait(false);
            }
            finally
            {
                stats.DownstreamPreCxActive.Decrement();
            }
            switch (outcome)
            {
                case InspectionOutcome.TimedOut:
                    stats.DownstreamPreCxTimeout.Increment();
                    if (!listener.Plan.ContinueOnListenerFiltersTimeout)
                    {
                        return null;
                    }
                    break;
                case InspectionOutcome.RemoteClosed:
                    stats.DownstreamListenerFilterRemoteClose.Increment();
                    return null;
                case InspectionOutcome.Error:
                    stats.DownstreamListenerFilterError.Increment();
                    return null;
            }
        }
        var local = connection.LocalEndPoint as IPEndPoint;
        var remote = connection.RemoteEndPoint as IPEndPoint;
        var chain = listener.Select(local, remote, found);
        if (chain is null)
        {
            listener.Stats.NoFilterChainMatch.Increment();
            if (listener.ConnectionLogs.Length != 0)
            {
                // Envoy's emitLogs for a refused socket: the listener's loggers with NR (no filter chain found).
                var info = RequestStreamInfo.ForConnection(listener.Time, connectionId: 0, filterChainName: null);
                info.SetResponseFlag(Filters.ResponseFlags.NoRouteFound);
                info.Details = "filter_chain_not_found";
                info.Complete();
                AccessLog.AccessLogger.LogAll(listener.ConnectionLogs, new AccessLog.AccessLogContext(info, new ConnectionEndpoints(connection.ConnectionId, connection.LocalEndPoint, connection.RemoteEndPoint)));
            }
        }
        return chain;
    }

    private async Task RunChainAsync(ListenerChains listener, ListenerRuntime current, ConnectionContext connection)
    {
        var tls = current.Tls is not null;
        Gateway.Tls.TlsHandshakeState? handshake = null;
        if (tls)
        {
            handshake = new Gateway.Tls.TlsHandshakeState(current.Tls!, current.Stats);
            connection.Features.Set(handshake);
        }
        var fixedHttp2 = current.FixedHttp2;
        // Counted once the chain is known, as Envoy does; over TLS the codec (HTTP/1 or HTTP/2) is known once ALPN chose it.
        var opened = current.Stats.ConnectionOpened(listener.Stats, tls ? null : fixedHttp2);
        if (tls)
        {
            current.Stats.DownstreamCxSslTotal.Increment();
            current.Stats.DownstreamCxSslActive.Increment();
        }
        // Listener access logs: the connection's stream info, started at accept (nothing of it without them). A TCP proxy's
        // loggers read the same stream info, and it counts the bytes itself.
        var logged = listener.ConnectionLogs.Length != 0;
        var proxy = current.TcpProxy;
        var tracked = new DownstreamConnection(countBytes: logged && listener.ConnectionLogsNeedBytes && proxy is null) { Chain = current };
        var connectionInfo = logged || proxy?.AccessLogs.Length > 0 ? RequestStreamInfo.ForConnection(listener.Time, tracked.Id, current.Chain.Name) : null;
        TcpProxy.TcpProxySession? session = null;
        if (proxy is not null)
        {
            // Over TLS the TLS step hands the decrypted connection to the session instead of HTTP (UseDownstreamTls).
            session = new TcpProxy.TcpProxySession(proxy, connectionInfo);
            connection.Features.Set(session);
        }
        // Envoy's delayed close wraps the socket itself (under TLS too): the socket closes only after the linger below.
        DelayedCloseTransport? delayedClose = null;
        if (proxy is null && current.ConnectionManager.DelayedCloseTimeout > TimeSpan.Zero)
        {
            connection.Transport = delayedClose = new DelayedCloseTransport(connection.Transport);
        }
        if (!tls)
        {
            // Over TLS the decrypted stream is observed, after the handshake (UseDownstreamTls).
            connection.Transport = tracked.Observe(connection.Transport);
        }
        connection.Features.Set(tracked);
        using var durationLimit = proxy is null && current.ConnectionManager.MaxConnectionDuration is { } maxDuration
            ? new MaxDurationState(connection, tracked, current, listener.Time, maxDuration, handshake, fixedHttp2)
            : null;
        var admitted = 0;
        try
        {
            // The chain's network filters (Envoy's onNewConnection: after the connection is counted, before TLS); a
            // refused connection is held for the filter's delay, then closed with nothing read.
            for (; admitted < current.NetworkFilters.Length; admitted++)
            {
                var limit = current.NetworkFilters[admitted];
                if (!limit.TryAdmit(connectionInfo))
                {
                    if (limit.Delay is { } delay)
                    {
                        await DelayAsync(delay, listener.Time, connection.ConnectionClosed).ConfigureAwait(false);
                    }
                    return;
                }
            }
            await (tls ? TlsPipeline!(connection) : session is not null ? session.RunAsync(connection) : PlainPipeline!(connection)).ConfigureAwait(false);
            if (delayedClose is not null && !tracked.RemoteClosed)
            {
                switch (await delayedClose.LingerAsync(current.ConnectionManager.DelayedCloseTimeout, listener.Time, tracked.ReceivedData).ConfigureAwait(false))
                {
                    case DelayedCloseOutcome.ClientClosed:
                        // Envoy's early-close event during the delay: the client closed it.
                        tracked.ClosedByPeer();
                        break;
                    case DelayedCloseOutcome.TimedOut:
                        current.Stats.DownstreamCxDelayedCloseTimeout.Increment();
                        break;
                }
            }
        }
        finally
        {
            for (var i = 0; i < admitted; i++)
            {
                current.NetworkFilters[i].Release();
            }
            bool? http2 = tls ? handshake!.Http2 : fixedHttp2;
            if (handshake is not null)
            {
                current.Stats.DownstreamCxSslActive.Decrement();
                if (!handshake.Completed && !handshake.FailureCounted)
                {
                    handshake.Tls.Stats.ConnectionError.Increment();
                }
            }
            current.Stats.ConnectionClosed(listener.Stats, http2, opened, tracked.RemoteClosed, tracked.ActiveRequest);
            if (connectionInfo is not null && logged)
            {
                LogConnection(listener, connectionInfo, session is null ? tracked : null, connection);
            }
        }
    }

    /// <summary>Waits a refused connection's <c>delay</c>, or until the client closes it first.</summary>
    private static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken closed)
    {
        try
        {
            await Task.Delay(delay, time, closed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went first.
        }
    }

    /// <summary>
    /// A connection's <c>max_connection_duration</c> and the drain it starts, Envoy's onConnectionDurationTimeout and
    /// startDrainSequence: counted, then a connection that never received a byte (no codec yet) closes at once; any
    /// other drains for <c>drain_timeout</c>. Over HTTP/1 a request in flight, or one that starts during the drain, gets
    /// <c>connection: close</c> and the connection ends after it (Kestrel's RequestClose, also called from
    /// <see cref="ConnectionManager"/>); when the drain time runs out the connection is asked to close (an idle one closes,
    /// over HTTP/2 Kestrel's GOAWAY goes out and the streams in flight finish).
    /// </summary>
    private sealed class MaxDurationState : IDisposable
    {
        private readonly ConnectionContext _connection;
        private readonly DownstreamConnection _tracked;
        private readonly ListenerRuntime _chain;
        private readonly TimeProvider _time;
        private readonly ITimer _limit;
        private readonly Gateway.Tls.TlsHandshakeState? _handshake;
        private readonly bool? _fixedHttp2;
        private readonly Lock _lock = new();
        private ITimer? _drain;
        private bool _disposed;

        /// <param name="handshake">The TLS handshake of a TLS chain (ALPN tells its protocol), else null.</param>
        /// <param name="fixedHttp2">A plain-text chain's protocol.</param>
        public MaxDurationState(ConnectionContext connection, DownstreamConnection tracked, ListenerRuntime chain, TimeProvider time, TimeSpan maxDuration, Gateway.Tls.TlsHandshakeState? handshake, bool? fixedHttp2)
        {
            _connection = connection;
            _handshake = handshake;
            _fixedHttp2 = fixedHttp2;
            _tracked = tracked;
            _chain = chain;
            _time = time;
            _limit = time.CreateTimer(static state => ((MaxDurationState)state!).OnMaxDuration(), this, maxDuration, Timeout.InfiniteTimeSpan);
        }

        private void OnMaxDuration()
        {
            _chain.Stats.DownstreamCxMaxDurationReached.Increment();
            var drainTimeout = _chain.ConnectionManager.DrainTimeout;
            if (!_tracked.ReceivedData || drainTimeout <= TimeSpan.Zero)
            {
                RequestClose(_connection);
                return;
            }
            _tracked.StartDraining();
            if (_tracked.InFlight > 0 && (_handshake is null ? _fixedHttp2 : _handshake.Http2) != true)
            {
                // Envoy's encodeHeaders while draining: the HTTP/1 response in flight gets connection: close.
                RequestClose(_connection);
            }
            lock (_lock)
            {
                if (!_disposed)
                {
                    _drain = _time.CreateTimer(static state => RequestClose((ConnectionContext)state!), _connection, drainTimeout, Timeout.InfiniteTimeSpan);
                }
            }
        }

        private static void RequestClose(ConnectionContext connection)
        {
            if (connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime)
            {
                lifetime.RequestClose();
                return;
            }
            connection.Abort(new ConnectionAbortedException("max_connection_duration"));
        }

        public void Dispose()
        {
            _limit.Dispose();
            lock (_lock)
            {
                _disposed = true;
                _drain?.Dispose();
            }
        }
    }

    /// <summary>Envoy's emitLogs for a closed connection: the stream info completed, then every listener logger.</summary>
    /// <param name="tracked">The connection's byte counts, or null when a TCP proxy set them on <paramref name="info"/>.</param>
    private static void LogConnection(ListenerChains listener, RequestStreamInfo info, DownstreamConnection? tracked, ConnectionContext connection)
    {
        if (tracked is not null)
        {
            info.BytesReceived = tracked.BytesReceived;
            info.BytesSent = tracked.BytesSent;
        }
        info.Complete();
        info.ConnectionTls = connection.Features.Get<Gateway.Tls.DownstreamTlsInfo>();
        var context = new AccessLog.AccessLogContext(info, new ConnectionEndpoints(connection.ConnectionId, connection.LocalEndPoint, connection.RemoteEndPoint));
        AccessLog.AccessLogger.LogAll(listener.ConnectionLogs, context);
    }
}
