using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Clusters;

/// <summary>
/// YARP's per-cluster HTTP client, with Envoy's cluster settings: <c>connect_timeout</c>, and connection
/// stats (<c>upstream_cx_total</c>, <c>_active</c>, <c>_connect_fail</c>, <c>_connect_timeout</c>) taken
/// where the connection is really opened.
/// </summary>
internal sealed class GatewayHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, ClusterRegistry clusters)
    : ForwarderHttpClientFactory(logger)
{
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
        => base.CanReuseOldClient(context)
           && context.OldMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata) == context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (context.NewMetadata?.GetValueOrDefault(EnvoyTranslator.ConnectTimeoutMetadata) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds))
        {
            handler.ConnectTimeout = TimeSpan.FromMilliseconds(milliseconds);
        }
        // No trace context is injected: Envoy adds tracing headers only when the HCM configures tracing.
        handler.ActivityHeadersPropagator = null;
        // Header bytes pass through unchanged both ways (see HeaderBytes): requests need Latin-1, as the default,
        // ASCII, fails on obs-text; responses are decoded as Latin-1 by default, where known values are also cached
        // (a selector would allocate every value of every response).
        handler.RequestHeaderEncodingSelector = static (_, _) => HeaderBytes.StrictLatin1;
        // Envoy keeps idle upstream connections for an hour by default (common_http_protocol_options.idle_timeout).
        handler.PooledConnectionIdleTimeout = TimeSpan.FromHours(1);
        var cluster = clusters.GetOrCreate(context.ClusterId);
        handler.ConnectCallback = (connectContext, cancellationToken) => ConnectAsync(connectContext, cluster, cancellationToken);
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, ClusterRuntime cluster, CancellationToken cancellationToken)
    {
        var stats = cluster.Stats;
        var host = cluster.Host(EnvoyTranslator.FormatHostPort(context.DnsEndPoint.Host, context.DnsEndPoint.Port));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // Envoy counts a connection when it is created, whether or not the connect then succeeds.
        stats.UpstreamCxTotal.Increment();
        stats.UpstreamCxActive.Increment();
        cluster.OnConnectionsChanged();
        host.ConnectionOpened();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            host.ConnectionFailed();
            stats.UpstreamCxActive.Decrement();
            cluster.OnConnectionsChanged();
            stats.UpstreamCxConnectFail.Increment();
            stats.UpstreamCxDestroy.Increment();
            stats.UpstreamCxDestroyLocal.Increment();
            if (ex is OperationCanceledException)
            {
                // SocketsHttpHandler cancels the callback when connect_timeout expires.
                stats.UpstreamCxConnectTimeout.Increment();
            }
            throw;
        }
        stats.UpstreamCxConnectMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // Upstream connections speak HTTP/1.1 (the forwarder's request version).
        stats.UpstreamCxHttp1Total.Increment();
        return new CountedNetworkStream(socket, cluster, stats, host, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Counts bytes each way, and on close the connection's length and who closed it: a read that
    /// returned 0 means the upstream closed first. The active gauge is decremented exactly once.
    /// </summary>
    private sealed class CountedNetworkStream(Socket socket, ClusterRuntime cluster, ClusterStats stats, UpstreamHost host, long opened) : NetworkStream(socket, ownsSocket: true)
    {
        private int _disposed;
        private volatile bool _remoteClosed;

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
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                stats.UpstreamCxActive.Decrement();
                cluster.OnConnectionsChanged();
                host.ConnectionClosed();
                stats.UpstreamCxDestroy.Increment();
                (_remoteClosed ? stats.UpstreamCxDestroyRemote : stats.UpstreamCxDestroyLocal).Increment();
                stats.UpstreamCxLengthMs.Record(Stopwatch.GetElapsedTime(opened).TotalMilliseconds);
            }
            base.Dispose(disposing);
        }
    }
}
