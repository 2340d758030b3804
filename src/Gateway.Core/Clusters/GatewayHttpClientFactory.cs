using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
        // Envoy keeps idle upstream connections for an hour by default (common_http_protocol_options.idle_timeout).
        handler.PooledConnectionIdleTimeout = TimeSpan.FromHours(1);
        var stats = clusters.GetOrCreate(context.ClusterId).Stats;
        handler.ConnectCallback = (connectContext, cancellationToken) => ConnectAsync(connectContext, stats, cancellationToken);
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, ClusterStats stats, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // Envoy counts a connection when it is created, whether or not the connect then succeeds.
        stats.UpstreamCxTotal.Increment();
        stats.UpstreamCxActive.Increment();
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            stats.UpstreamCxActive.Decrement();
            stats.UpstreamCxConnectFail.Increment();
            if (ex is OperationCanceledException)
            {
                // SocketsHttpHandler cancels the callback when connect_timeout expires.
                stats.UpstreamCxConnectTimeout.Increment();
            }
            throw;
        }
        return new CountedNetworkStream(socket, stats.UpstreamCxActive);
    }

    /// <summary>Decrements <c>upstream_cx_active</c> exactly once when the pool closes the connection.</summary>
    private sealed class CountedNetworkStream(Socket socket, Gauge active) : NetworkStream(socket, ownsSocket: true)
    {
        private int _disposed;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                active.Decrement();
            }
            base.Dispose(disposing);
        }
    }
}
