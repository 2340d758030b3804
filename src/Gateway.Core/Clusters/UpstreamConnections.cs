using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Clusters;

/// <summary>
/// What every HTTP client to a cluster shares, YARP's forwarder and the gateway's own requests
/// (<see cref="ClusterClients"/>) alike: Envoy's connection settings and the connection stats
/// (<c>upstream_cx_total</c>, <c>_active</c>, <c>_connect_fail</c>, <c>_connect_timeout</c>, bytes, lengths)
/// taken where the connection is really opened.
/// </summary>
internal static class UpstreamConnections
{
    /// <summary>
    /// Sets up <paramref name="handler"/> for <paramref name="cluster"/>: <paramref name="connectTimeout"/> (<c>connect_timeout</c>)
    /// when given, and the pool settings of <paramref name="protocol"/> (<c>common_http_protocol_options</c>, HTTP/2's windows and keepalive).
    /// </summary>
    public static void Configure(SocketsHttpHandler handler, ClusterRuntime cluster, TimeSpan? connectTimeout, UpstreamProtocolPlan protocol)
    {
        if (connectTimeout is { } timeout)
        {
            handler.ConnectTimeout = timeout;
        }
        // No trace context is injected: Envoy adds tracing headers only when the HCM configures tracing.
        handler.ActivityHeadersPropagator = null;
        // Header bytes pass through unchanged both ways (see HeaderBytes): requests need Latin-1, as the default,
        // ASCII, fails on obs-text; responses are decoded as Latin-1 by default, where known values are also cached
        // (a selector would allocate every value of every response).
        handler.RequestHeaderEncodingSelector = static (_, _) => HeaderBytes.StrictLatin1;
        handler.PooledConnectionIdleTimeout = protocol.IdleTimeout;
        handler.PooledConnectionLifetime = protocol.MaxConnectionDuration ?? Timeout.InfiniteTimeSpan;
        handler.MaxResponseHeadersLength = protocol.MaxResponseHeadersKb;
        // When a connection has as many streams as the upstream allows, Envoy opens another (within max_connections).
        handler.EnableMultipleHttp2Connections = true;
        if (protocol.InitialStreamWindowSize is { } window)
        {
            handler.InitialHttp2StreamWindowSize = window;
        }
        if (protocol.KeepaliveInterval is { } interval)
        {
            // Envoy pings on its interval whether or not streams are open.
            handler.KeepAlivePingDelay = interval;
            handler.KeepAlivePingTimeout = protocol.KeepaliveTimeout ?? interval;
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }
        handler.ConnectCallback = (connectContext, cancellationToken) => ConnectAsync(connectContext, cluster, cancellationToken);
    }

    /// <summary>
    /// Whether the connection made for <paramref name="request"/> speaks HTTP/2: asked for as version 2 with a
    /// policy that does not fall back (prior knowledge on plain text, required or preferred over TLS).
    /// </summary>
    internal static bool SpeaksHttp2(HttpRequestMessage request)
        => request.Version.Major == 2 && request.VersionPolicy != HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>
    /// Whether the request's cluster lets ALPN choose (auto_config: HTTP/2 or lower, see <see cref="UpstreamProtocolPlan.RequestVersionPolicy"/>).
    /// Over plain text SocketsHttpHandler then speaks HTTP/1.1 (no h2c negotiation, as Envoy); over TLS it takes what the handshake chose.
    /// </summary>
    internal static bool NegotiatesAlpn(HttpRequestMessage request)
        => request.Version.Major == 2 && request.VersionPolicy == HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>Opens a connection to the host SocketsHttpHandler asks for, counting it for <paramref name="cluster"/> and its host.</summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, ClusterRuntime cluster, CancellationToken cancellationToken)
    {
        var stats = cluster.Stats;
        var host = cluster.Host(EnvoyTranslator.FormatHostPort(context.DnsEndPoint.Host, context.DnsEndPoint.Port));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Opening(cluster, host);
        var started = Stopwatch.GetTimestamp();
        var http2 = SpeaksHttp2(context.InitialRequestMessage);
        var alpn = http2 ? UpstreamAlpn.Http2 : NegotiatesAlpn(context.InitialRequestMessage) ? UpstreamAlpn.Auto : UpstreamAlpn.Http1;
        var tls = cluster.TransportOf(host);
        CountedNetworkStream? counted = null;
        Stream stream;
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            counted = new CountedNetworkStream(socket, cluster, stats, host, Stopwatch.GetTimestamp());
            // TLS runs here rather than in SocketsHttpHandler (the destinations stay http://): one handler per cluster then
            // serves TLS and plain-text endpoints alike, each endpoint's context chosen when the configuration was applied.
            // With auto_sni / auto_san_validation the handler is a HostConnectionPools' pool, whose requests all have the host of this one.
            // As in Envoy, the connection is up (connect_ms, or else connect_fail) only once the handshake completed.
            if (tls is null)
            {
                stream = counted;
            }
            else
            {
                var ssl = await tls.HandshakeAsync(counted, tls.ServerNameFor(context.InitialRequestMessage), alpn, cancellationToken, tls.SanNameFor(context.InitialRequestMessage)).ConfigureAwait(false);
                // An HTTP/2 request to a TLS host has an https:// URI (EnvoyRequestTransform), so SocketsHttpHandler takes this
                // SslStream as is and follows its ALPN: h2, or with auto_config HTTP/1.1 on the same connection.
                http2 |= alpn == UpstreamAlpn.Auto && ssl.NegotiatedApplicationProtocol == System.Net.Security.SslApplicationProtocol.Http2;
                stream = ssl;
            }
            counted.Up();
        }
        catch (Exception ex)
        {
            // The connection never came up, so closing it counts nothing: the connect failure is accounted here.
            if (counted is null)
            {
                socket.Dispose();
            }
            else
            {
                await counted.DisposeAsync().ConfigureAwait(false);
            }
            // SocketsHttpHandler cancels the callback when connect_timeout expires.
            ConnectFailed(cluster, host, timedOut: ex is OperationCanceledException);
            throw;
        }
        stats.UpstreamCxConnectMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        (http2 ? stats.UpstreamCxHttp2Total : stats.UpstreamCxHttp1Total).Increment();
        return stream;
    }

    /// <summary>
    /// A connection to <paramref name="host"/> is being opened: Envoy counts it when it is created, whether or not the
    /// connect then succeeds (<c>upstream_cx_total</c>, <c>_active</c>, the host's and the circuit breakers' counts).
    /// </summary>
    internal static void Opening(ClusterRuntime cluster, UpstreamHost host)
    {
        cluster.Stats.UpstreamCxTotal.Increment();
        cluster.Stats.UpstreamCxActive.Increment();
        cluster.OnConnectionsChanged();
        host.ConnectionOpened();
    }

    /// <summary>A connection <see cref="Opening"/> counted never came up (<c>upstream_cx_connect_fail</c>, a local destroy; <c>_connect_timeout</c>).</summary>
    internal static void ConnectFailed(ClusterRuntime cluster, UpstreamHost host, bool timedOut)
    {
        var stats = cluster.Stats;
        host.ConnectionFailed();
        stats.UpstreamCxActive.Decrement();
        cluster.OnConnectionsChanged();
        stats.UpstreamCxConnectFail.Increment();
        stats.UpstreamCxDestroy.Increment();
        stats.UpstreamCxDestroyLocal.Increment();
        if (timedOut)
        {
            stats.UpstreamCxConnectTimeout.Increment();
        }
    }

    /// <summary>A connection that came up closed: who closed it first and its length (from the <see cref="Stopwatch"/> timestamp <paramref name="opened"/>).</summary>
    internal static void Closed(ClusterRuntime cluster, UpstreamHost host, bool remote, long opened)
    {
        var stats = cluster.Stats;
        stats.UpstreamCxActive.Decrement();
        cluster.OnConnectionsChanged();
        host.ConnectionClosed();
        stats.UpstreamCxDestroy.Increment();
        (remote ? stats.UpstreamCxDestroyRemote : stats.UpstreamCxDestroyLocal).Increment();
        stats.UpstreamCxLengthMs.Record(Stopwatch.GetElapsedTime(opened).TotalMilliseconds);
    }

    /// <summary>
    /// Counts bytes each way, and on close the connection's length and who closed it: a read that
    /// returned 0 means the upstream closed first. The active gauge is decremented exactly once. Under TLS it carries
    /// the records, so its byte counts include TLS framing (Envoy counts the decrypted bytes).
    /// </summary>
    private sealed class CountedNetworkStream(Socket socket, ClusterRuntime cluster, ClusterStats stats, UpstreamHost host, long opened) : NetworkStream(socket, ownsSocket: true)
    {
        private int _disposed;
        private volatile bool _remoteClosed;
        private bool _up;

        /// <summary>The connection is up (the TLS handshake, if any, completed): from now on its close is counted here.</summary>
        public void Up() => _up = true;

        public override int Read(byte[] buffer, int offset, int count) => Received(base.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Received(base.Read(buffer));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // No async state machine when the read completed synchronously (the common case under load).
            var read = base.ReadAsync(buffer, cancellationToken);
            return read.IsCompletedSuccessfully ? new ValueTask<int>(Received(read.Result)) : AwaitRead(read);
        }

        // Pooled: most reads wait for the upstream, and a new state machine per read would be garbage per request.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<int> AwaitRead(ValueTask<int> read) => Received(await read.ConfigureAwait(false));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Received(await base.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

        public override void Write(byte[] buffer, int offset, int count)
        {
            base.Write(buffer, offset, count);
            stats.UpstreamCxTxBytesTotal.Add(count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            base.Write(buffer);
            stats.UpstreamCxTxBytesTotal.Add(buffer.Length);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // Counted when the write is issued: a failed write closes the connection anyway.
            stats.UpstreamCxTxBytesTotal.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Received(int read)
        {
            if (read > 0)
            {
                stats.UpstreamCxRxBytesTotal.Add(read);
            }
            else
            {
                _remoteClosed = true;
            }
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && _up)
            {
                Closed(cluster, host, _remoteClosed, opened);
            }
            base.Dispose(disposing);
        }
    }
}
