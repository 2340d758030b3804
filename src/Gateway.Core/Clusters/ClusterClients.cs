using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Resilience;
using Gateway.Router;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Clusters;

/// <summary>
/// Envoy's cluster manager <c>httpAsyncClientForCluster</c>: HTTP clients for requests the gateway makes itself
/// (tracers' span export, later xDS) to one of its clusters, so that the cluster's hosts, load balancing,
/// health and outlier state, circuit breakers and stats apply as they do to proxied requests. One client per
/// cluster; the cluster is looked up when a client is asked for, never per request.
/// </summary>
internal sealed class ClusterClients : IDisposable
{
    /// <summary>
    /// The request's timeout (Envoy's <c>AsyncClient::RequestOptions::setTimeout</c>: the route timeout of the
    /// async client's null route): on expiry the request ends in a 504 <c>upstream request timeout</c> and
    /// <c>upstream_rq_timeout</c>. Without it the caller's cancellation ends the request (<c>upstream_rq_cancelled</c>).
    /// </summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> Timeout = new("envoy.async_client.timeout");

    /// <summary>
    /// The host a tcp_proxy tunnel's stream goes to (Envoy's TcpProxy HttpConnPool): its caller picked it (hash policy,
    /// connect attempts), so the handler picks none, and the request is sent as Envoy's HttpUpstream sends it, without
    /// <c>x-envoy-internal</c> and counted as an external request.
    /// </summary>
    public static readonly HttpRequestOptionsKey<UpstreamHost> TunnelHost = new("envoy.tcp_proxy.tunnel_host");

    /// <summary>Set (true) on a request the handler answered itself (no healthy upstream, overflow, connect failure, reset, timeout).</summary>
    public static readonly HttpRequestOptionsKey<bool> AnsweredLocally = new("envoy.async_client.local_reply");

    private readonly ClusterRegistry _clusters;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ClusterHttpHandler> _handlers = new(StringComparer.Ordinal);
    private int _disposed;

    public ClusterClients(ClusterRegistry clusters, TimeProvider time)
    {
        _clusters = clusters;
        _time = time;
    }

    /// <summary>The factory tracers are given (<c>TracerContext.ClusterClient</c>).</summary>
    public Func<string, HttpMessageInvoker> Factory => For;

    /// <summary>
    /// A client for the cluster <paramref name="clusterName"/>: a request's URI names the path (its authority is
    /// replaced by the host the cluster's load balancer picks, and sent as the Host header unless one is set).
    /// Throws <see cref="ArgumentException"/> for a cluster the configuration does not have.
    /// </summary>
    public HttpMessageInvoker For(string clusterName)
    {
        ArgumentNullException.ThrowIfNull(clusterName);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_clusters.TryGet(clusterName, out var cluster) || cluster.Plan is null)
        {
            throw new ArgumentException($"unknown cluster '{clusterName}'", nameof(clusterName));
        }
        var handler = _handlers.GetOrAdd(clusterName, static (_, args) => new ClusterHttpHandler(args.cluster, args.self), (cluster, self: this));
        // The handler is shared by every client of the cluster (one connection pool, as Envoy's per-cluster pool).
        return new HttpMessageInvoker(handler, disposeHandler: false);
    }

    internal TimeProvider Time => _time;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        foreach (var handler in _handlers.Values)
        {
            handler.DisposeInner();
        }
        _handlers.Clear();
    }
}

/// <summary>
/// One cluster's async client (Envoy's AsyncClientImpl with its router on a null route): picks the host, takes a
/// circuit-breaker slot, sends through the cluster's connection pool, and charges the cluster's stats through
/// <see cref="UpstreamAccounting"/> as the router does. Local replies (no healthy upstream, overflow, connect
/// failure, reset, timeout) come back as responses with Envoy's status and body, as Envoy's async client
/// delivers them to its callbacks; only the caller's own cancellation and a vanished cluster throw.
/// </summary>
internal sealed class ClusterHttpHandler : HttpMessageHandler
{
    private readonly ClusterRuntime _cluster;
    private readonly ClusterClients _owner;
    private readonly HttpMessageInvoker _inner;

    public ClusterHttpHandler(ClusterRuntime cluster, ClusterClients owner)
    {
        _cluster = cluster;
        _owner = owner;
        // With auto_sni / auto_san_validation, a pool per request host as the forwarder's (GatewayHttpClientFactory).
        HttpMessageHandler handler = cluster.Plan?.Transport?.FollowsRequestHost == true
            ? new HostConnectionPools(() => CreateSockets(cluster), (cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default).IdleTimeout, owner.Time)
            : CreateSockets(cluster);
        _inner = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private static SocketsHttpHandler CreateSockets(ClusterRuntime cluster)
    {
        var sockets = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            // The circuit breaker's max_connections, as YARP's client for the cluster has it (EnvoyTranslator).
            MaxConnectionsPerServer = cluster.Plan?.Thresholds[0].MaxConnectionsPerHost() ?? int.MaxValue,
        };
        // connect_timeout as the cluster has it now (clusters are not reloaded yet; a reload would build a new client).
        UpstreamConnections.Configure(sockets, cluster, cluster.Plan?.ConnectTimeout, cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default);
        return sockets;
    }

    internal void DisposeInner() => _inner.Dispose();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri is { IsAbsoluteUri: true } absolute
            ? absolute
            : throw new InvalidOperationException($"a request to cluster '{_cluster.Name}' needs an absolute URI (its authority is replaced by the chosen host)");
        var proxyCluster = _cluster.ProxyCluster
            ?? throw new HttpRequestException(HttpRequestError.Unknown, $"cluster '{_cluster.Name}' is no longer configured");
        var stats = _cluster.Stats;
        var time = _owner.Time;
        var started = time.GetTimestamp();
        var tunnelHost = request.Options.TryGetValue(ClusterClients.TunnelHost, out var chosen) ? chosen : null;
        // Envoy's async client sends x-envoy-internal: true (StreamOptions::send_internal), so its codes count as internal;
        // a tcp_proxy tunnel's HttpUpstream sends no such header.
        var internalRequest = tunnelHost is null;
        if (internalRequest)
        {
            request.Headers.Remove(InternalRequest.InternalHeader);
            request.Headers.TryAddWithoutValidation(InternalRequest.InternalHeader, "true");
        }

        UpstreamHost host;
        string destinationAddress;
        if (tunnelHost is not null)
        {
            host = tunnelHost;
            // Every destination is an http:// address (TLS, when the cluster has it, runs under it in the connect callback).
            destinationAddress = "http://" + tunnelHost.Address;
        }
        else
        {
            // Host selection first, then the connection pool's circuit breaker, as in Envoy's router.
            var available = proxyCluster.DestinationsState.AvailableDestinations;
            var subsets = _cluster.Picker as LoadBalancing.ISubsetPicker;
            var pick = subsets is not null
                // Subsets decide even over one host; these requests have no criteria: the fallback policy applies.
                ? subsets.Pick(null, subsets.UsesHash ? subsets.RandomHash() : null, 0)
                // The cluster's own load balancer, as for proxied requests (no hash key: a hash policy picks at random).
                : available.Count > 1 ? _cluster.Picker?.Pick(null, 0) : null;
            var picked = subsets is not null ? pick?.Destination : available.Count switch
            {
                0 => null,
                1 => available[0],
                // A picker may find no host among several (fail_traffic_on_panic); without one yet, the first host.
                _ => _cluster.Picker is null ? available[0] : pick?.Destination,
            };
            if (picked is null)
            {
                UpstreamAccounting.NoHealthyUpstream(stats);
                UpstreamAccounting.LocalReply(stats, StatusCodes.Status503ServiceUnavailable, internalRequest, healthCheck: false);
                UpstreamAccounting.Completed(stats, time.GetElapsedTime(started).TotalMilliseconds, internalRequest);
                return LocalResponse(request, StatusCodes.Status503ServiceUnavailable, LocalReply.NoHealthyUpstream);
            }
            if (subsets is not null || available.Count > 1 ? pick is { Panic: true } : _cluster.InPanic)
            {
                stats.LbHealthyPanic.Increment();
            }
            host = _cluster.Host(picked);
            destinationAddress = picked.Model.Config.Address;
        }
        if (!_cluster.TryAcquireRequest(RoutingPriority.Default))
        {
            UpstreamAccounting.LocalReply(stats, StatusCodes.Status503ServiceUnavailable, internalRequest, healthCheck: false);
            UpstreamAccounting.Completed(stats, time.GetElapsedTime(started).TotalMilliseconds, internalRequest);
            var overflow = LocalResponse(request, StatusCodes.Status503ServiceUnavailable, LocalReply.Overflow);
            overflow.Headers.TryAddWithoutValidation("x-envoy-overloaded", "true");
            return overflow;
        }

        if (request.Headers.Host is null)
        {
            // The authority the caller named (Envoy's tracers set the collector's host name) goes to the host as Host / :authority.
            request.Headers.Host = uri.Authority;
        }
        request.RequestUri = Rewrite(uri, destinationAddress);
        var exchange = new ClusterExchange(_cluster, host, time, started, internalRequest);
        var token = exchange.Start(request, cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await _inner.SendAsync(request, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (exchange.TimedOut)
        {
            UpstreamAccounting.RouteTimeout(stats, new AttemptOutcome(AttemptKind.Cancelled, 0, null, ForwarderError.RequestTimedOut, null, true), internalRequest, healthCheck: false, responseStarted: false);
            exchange.Finish(0, timedOut: true, localStatus: StatusCodes.Status504GatewayTimeout);
            return LocalResponse(request, StatusCodes.Status504GatewayTimeout, LocalReply.UpstreamTimeout);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: neither the host's failure nor its success (upstream_rq_cancelled).
            UpstreamAccounting.ClientAborted(stats, new AttemptOutcome(AttemptKind.ClientAborted, 0, null, ForwarderError.RequestCanceled, ex, true));
            exchange.Abandon();
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && ex.InnerException is TimeoutException))
        {
            // A failure before response headers: a connect failure (counted by the connection) or a reset on a connection.
            var reason = RouterFilter.DescribeReset(ForwarderError.Request, ex);
            if (!RouterFilter.IsConnectFailure(reason))
            {
                UpstreamAccounting.Reset(stats, new AttemptOutcome(AttemptKind.Reset, 0, reason, ForwarderError.Request, ex, true));
            }
            var status = reason == RouterFilter.ProtocolError ? StatusCodes.Status502BadGateway : StatusCodes.Status503ServiceUnavailable;
            UpstreamAccounting.LocalReply(stats, status, internalRequest, healthCheck: false);
            exchange.Finish(0, timedOut: false, localStatus: status);
            return LocalResponse(request, status, LocalReply.ResetBeforeHeaders(reason));
        }
        catch
        {
            exchange.Abandon();
            throw;
        }

        var code = (int)response.StatusCode;
        UpstreamAccounting.Response(stats, code, internalRequest, healthCheck: false);
        // The request lasts until the response body is read to its end or disposed (Envoy's stream completion).
        response.Content = new ObservedContent(response.Content, exchange);
        exchange.ResponseStarted(response, code);
        return response;
    }

    /// <summary>The destination's scheme and authority with the request's path and query.</summary>
    private static Uri Rewrite(Uri request, string destinationAddress)
    {
        var destination = new Uri(destinationAddress, UriKind.Absolute);
        return new Uri(string.Concat(destination.Scheme, Uri.SchemeDelimiter, destination.Authority, request.PathAndQuery), UriKind.Absolute);
    }

    /// <summary>A local reply of the async client's router, as the caller receives it.</summary>
    private static HttpResponseMessage LocalResponse(HttpRequestMessage request, int status, byte[] body)
    {
        request.Options.Set(ClusterClients.AnsweredLocally, true);
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("content-type", "text/plain");
        return new HttpResponseMessage((System.Net.HttpStatusCode)status) { RequestMessage = request, Content = content, Version = request.Version };
    }
}

/// <summary>
/// One request of the async client, from its circuit-breaker slot to its end: the end (body read, response disposed,
/// timeout, failure) releases the slot, ends <c>upstream_rq_active</c>, tells the host (and outlier detection) the
/// outcome and records <c>upstream_rq_time</c>, exactly once.
/// </summary>
internal sealed class ClusterExchange
{
    private readonly ClusterRuntime _cluster;
    private readonly UpstreamHost _host;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly bool _internal;
    private CancellationTokenSource? _timeout;
    private CancellationTokenSource? _linked;
    private CancellationTokenRegistration _afterHeaders;
    private HttpResponseMessage? _response;
    private int _finished;

    public ClusterExchange(ClusterRuntime cluster, UpstreamHost host, TimeProvider time, long started, bool isInternal)
    {
        _cluster = cluster;
        _host = host;
        _time = time;
        _started = started;
        _internal = isInternal;
    }

    /// <summary>The request's timeout expired (set before any callback of the token runs, so a send it cancelled sees it).</summary>
    public bool TimedOut => _timeout?.IsCancellationRequested == true;

    /// <summary>Charges the request's start; returns the token the send runs under (the caller's, and the timeout's if any).</summary>
    public CancellationToken Start(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Start();
        if (!request.Options.TryGetValue(ClusterClients.Timeout, out var timeout) || timeout <= TimeSpan.Zero)
        {
            return cancellationToken;
        }
        _timeout = new CancellationTokenSource(timeout, _time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeout.Token);
        return _linked.Token;
    }

    /// <summary>Charges the start of a request that has no timeout of its own (a tcp_proxy tunnel's HTTP/1.1 CONNECT).</summary>
    public void Start()
    {
        _host.RequestStarted();
        UpstreamAccounting.AttemptStarted(_cluster.Stats);
    }

    /// <summary>Response headers came: a timeout from now on cuts the body off (the code is already charged).</summary>
    public void ResponseStarted(HttpResponseMessage response, int status)
    {
        // Set before registering: a timeout that already expired runs the callback at once.
        _status = status;
        _response = response;
        if (_timeout is { } timeout)
        {
            _afterHeaders = timeout.Token.UnsafeRegister(static state => ((ClusterExchange)state!).OnTimeoutAfterHeaders(), this);
        }
    }

    private int _status;

    private void OnTimeoutAfterHeaders()
    {
        if (Volatile.Read(ref _finished) != 0)
        {
            return;
        }
        UpstreamAccounting.RouteTimeout(_cluster.Stats, new AttemptOutcome(AttemptKind.Response, _status, null, ForwarderError.RequestTimedOut, null, true), _internal, healthCheck: false, responseStarted: true);
        Finish(_status, timedOut: true, localStatus: 0);
        // Envoy resets the stream; here the body the caller reads breaks off.
        _response?.Dispose();
    }

    /// <summary>The request ended at the host with <paramref name="status"/> (0: no response headers); <paramref name="localStatus"/> is the local reply's status, if one was made.</summary>
    public void Finish(int status, bool timedOut, int localStatus)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        Release();
        _host.RequestEnded(status, timedOut);
        if (status != 0 || localStatus >= StatusCodes.Status500InternalServerError)
        {
            UpstreamAccounting.Completed(_cluster.Stats, _time.GetElapsedTime(_started).TotalMilliseconds, _internal);
        }
    }

    /// <summary>The request ended without an outcome of the host's (the caller cancelled, or the gateway failed).</summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        Release();
        _host.RequestAbandoned();
    }

    /// <summary>The response body was read to its end or disposed.</summary>
    public void BodyEnded() => Finish(_status, timedOut: false, localStatus: 0);

    private void Release()
    {
        UpstreamAccounting.AttemptFinished(_cluster.Stats);
        _cluster.ReleaseRequest(RoutingPriority.Default);
        _afterHeaders.Dispose();
        _linked?.Dispose();
        _timeout?.Dispose();
    }
}

/// <summary>The upstream response's body, ending the <see cref="ClusterExchange"/> when it is read to its end or disposed.</summary>
internal sealed class ObservedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly ClusterExchange _exchange;

    public ObservedContent(HttpContent inner, ClusterExchange exchange)
    {
        _inner = inner;
        _exchange = exchange;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => new ObservedStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _exchange);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _exchange.BodyEnded();
        }
        base.Dispose(disposing);
    }

    /// <summary>Reads the upstream body; its end, a failure or disposal ends the exchange.</summary>
    private sealed class ObservedStream(Stream inner, ClusterExchange exchange) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Ended(inner.Read(buffer), buffer.Length);
            }
            catch
            {
                exchange.BodyEnded();
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Ended(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);
            }
            catch
            {
                exchange.BodyEnded();
                throw;
            }
        }

        private int Ended(int read, int asked)
        {
            if (read == 0 && asked > 0)
            {
                exchange.BodyEnded();
            }
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                exchange.BodyEnded();
            }
            base.Dispose(disposing);
        }
    }
}
