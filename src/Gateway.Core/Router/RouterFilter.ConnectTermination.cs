using System.Net.Sockets;
using Gateway.Clusters;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Resilience;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Router;

/// <summary>
/// Terminating CONNECT (a route's <c>upgrade_configs</c> CONNECT entry with <c>connect_config</c>): instead of an HTTP
/// request, the router opens a TCP connection to a host of the cluster, as Envoy's router takes its TCP connection pool
/// for a CONNECT (or, with <c>allow_post</c>, a POST); the client gets 200 once connected, then the request's body goes to
/// the host and the host's bytes are the response's body, until both sides are done.
/// </summary>
internal sealed partial class RouterFilter
{
    private const int TunnelReadSize = 16 * 1024;

    /// <summary>Whether <paramref name="route"/> terminates this request into a TCP stream.</summary>
    private static bool TerminatesConnect(HttpContext context, RouteRuntime route, bool tunnel)
    {
        if (route.Plan.Upgrades is not { } upgrades
            || UpgradePlan.Find(upgrades, Validation.UpgradeConfigValidator.Connect) is not { Enabled: true, Connect: { } connect })
        {
            return false;
        }
        var method = context.Request.Method;
        if (tunnel && HttpMethods.IsConnect(method))
        {
            // An RFC 8441 extended CONNECT is an upgrade of its :protocol, not a CONNECT.
            return context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect != true;
        }
        return connect.AllowPost && HttpMethods.IsPost(method);
    }

    /// <summary>
    /// The TCP stream for a terminated CONNECT: the connection limit, the host, the connect (each failure answered and
    /// charged as the HTTP path does: overflow, no healthy upstream, a connect failure's 503), then the tunnel.
    /// </summary>
    private async Task TerminateConnectAsync(HttpContext context, UpstreamRequest state, ClusterRuntime cluster)
    {
        var stats = cluster.Stats;
        if (HttpMethods.IsConnect(context.Request.Method) && !HttpProtocol.IsHttp2(context.Request.Protocol))
        {
            // Kestrel gives an HTTP/1.1 CONNECT no stream to tunnel (no body, no upgrade): refused as an upgrade the gateway cannot make.
            state.Listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
            await SendLocalReplyAsync(context, state.Listener, StatusCodes.Status403Forbidden, null, "upgrade_failed", closeConnection: true).ConfigureAwait(false);
            return;
        }
        if (!cluster.CanCreateConnection(state.Route.Plan.Priority))
        {
            stats.UpstreamCxOverflow.Increment();
            await CompleteAsync(context, state, new AttemptOutcome(AttemptKind.Overflow, 0, null, ForwarderError.NoAvailableDestinations, null, false), routeTimedOut: false).ConfigureAwait(false);
            return;
        }
        if (TcpUpstreamConnection.PickHost(cluster, ((ILoadBalancerContext)state).MetadataMatchCriteria, ((ILoadBalancerContext)state).ComputeHashKey()) is not { } host)
        {
            await CompleteAsync(context, state, new AttemptOutcome(AttemptKind.NoHealthyUpstream, 0, null, ForwarderError.NoAvailableDestinations, null, false), routeTimedOut: false).ConfigureAwait(false);
            return;
        }
        state.BeginAttempt();
        state.Host = host;
        var aborted = context.RequestAborted;
        var (connection, error, timedOut) = await TcpUpstreamConnection.ConnectAsync(cluster, host, _time, aborted).ConfigureAwait(false);
        if (connection is null)
        {
            if (aborted.IsCancellationRequested)
            {
                // The client went away (or a stream timer fired) while connecting: nothing to answer.
                return;
            }
            var reason = timedOut ? "connection timeout" : DescribeReset(ForwarderError.Request, error);
            await CompleteAsync(context, state, new AttemptOutcome(AttemptKind.ConnectFailure, 0, reason, ForwarderError.Request, error, false), routeTimedOut: false).ConfigureAwait(false);
            return;
        }
        UpstreamAccounting.AttemptStarted(stats);
        try
        {
            await TunnelAsync(context, state, connection, aborted).ConfigureAwait(false);
        }
        finally
        {
            connection.Close();
            UpstreamAccounting.AttemptFinished(stats);
            UpstreamAccounting.Completed(stats, _time.GetElapsedTime(state.StartTimestamp).TotalMilliseconds, state.Internal, state);
        }
    }

    /// <summary>
    /// Envoy's TcpUpstream: 200 once connected (the route's response headers, the encoders and the connection manager's
    /// headers as on any response), then bytes both ways. The client's end of the request half-closes the upstream and its
    /// bytes keep coming; the upstream's end ends the response; a failure either way resets both.
    /// </summary>
    private async Task TunnelAsync(HttpContext context, UpstreamRequest state, TcpUpstreamConnection connection, CancellationToken aborted)
    {
        var info = state.StreamInfo;
        var response = context.Response;
        UpstreamAccounting.Response(state.Cluster.Stats, StatusCodes.Status200OK, state.Internal, state.HealthCheck, state);
        state.ResponseStatus = StatusCodes.Status200OK;
        response.StatusCode = StatusCodes.Status200OK;
        info.OnFirstUpstreamRxByteReceived();
        await RouterHeaders.FinalizeResponseAsync(context, state, _time).ConfigureAwait(false);
        // The 200 goes out now (Kestrel's StartAsync only buffers the headers): a CONNECT client sends nothing before it.
        await response.StartAsync(aborted).ConfigureAwait(false);
        await response.Body.FlushAsync(aborted).ConfigureAwait(false);

        using var closing = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var toUpstream = RequestToUpstreamAsync(context.Request.Body, connection, closing.Token);
        var toDownstream = UpstreamToResponseAsync(connection, response, closing.Token);
        var first = await Task.WhenAny(toUpstream, toDownstream).ConfigureAwait(false);
        if (first == toUpstream && toUpstream.Result)
        {
            // The client is done sending: the upstream's answer may still be coming.
            await toDownstream.ConfigureAwait(false);
        }
        await closing.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(toUpstream, toDownstream).ConfigureAwait(false);
        if (!toDownstream.Result)
        {
            // Not a clean end of the upstream's bytes: Envoy resets the stream.
            info.SetResponseFlag(aborted.IsCancellationRequested ? ResponseFlags.None : ResponseFlags.UpstreamConnectionTermination);
            context.Abort();
        }
    }

    /// <summary>Request body to upstream; true when the client ended its side (then the upstream's send side is shut).</summary>
    private static async Task<bool> RequestToUpstreamAsync(Stream body, TcpUpstreamConnection connection, CancellationToken token)
    {
        var buffer = new byte[TunnelReadSize];
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(buffer, token).ConfigureAwait(false);
                if (read == 0)
                {
                    await connection.ShutdownSendAsync().ConfigureAwait(false);
                    return true;
                }
                connection.Cluster.Stats.UpstreamCxTxBytesTotal.Add(read);
                await connection.Stream.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTunnelError(ex))
        {
            return false;
        }
    }

    /// <summary>Upstream to response body; true when the upstream ended its side (read 0).</summary>
    private static async Task<bool> UpstreamToResponseAsync(TcpUpstreamConnection connection, HttpResponse response, CancellationToken token)
    {
        var buffer = new byte[TunnelReadSize];
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await connection.Stream.ReadAsync(buffer, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsTunnelError(ex) && !token.IsCancellationRequested)
                {
                    connection.RemoteClosed = true;
                    return false;
                }
                if (read == 0)
                {
                    connection.RemoteClosed = true;
                    return true;
                }
                connection.Cluster.Stats.UpstreamCxRxBytesTotal.Add(read);
                await response.Body.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                await response.Body.FlushAsync(token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTunnelError(ex))
        {
            return false;
        }
    }

    private static bool IsTunnelError(Exception ex)
        => ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or BadHttpRequestException;
}
