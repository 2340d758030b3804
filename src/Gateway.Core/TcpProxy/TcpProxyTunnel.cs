using System.Buffers;
using System.Net;
using System.Text;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Router;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.TcpProxy;

/// <summary>Why a tunnel did not open (Envoy's pool failure reasons as the TCP proxy reacts to them).</summary>
internal enum TunnelFailure
{
    /// <summary>It opened.</summary>
    None,

    /// <summary>The connect failed, the stream was reset or the answer was not a success: <c>UF</c>, another attempt may follow.</summary>
    ConnectFailed,

    /// <summary>The cluster's request circuit breaker refused the stream: <c>UO</c>, no other attempt.</summary>
    Overflow,
}

/// <summary>
/// A TCP proxy's <c>tunneling_config</c> as it runs (Envoy's TunnelingConfigHelper and HttpUpstream): each connection opens
/// one HTTP stream to the host the session picked, and its bytes are the stream's body both ways. An HTTP/1.1 cluster
/// gets a CONNECT written on a TCP connection of the cluster's (<see cref="TcpUpstreamConnection"/>: the response head is
/// read here, and the socket's send side can be shut, as Envoy's HTTP/1 codec half-closes a CONNECT); an HTTP/2 cluster a
/// full-duplex POST through the cluster's own HTTP client (<see cref="ClusterClients"/>: its pool, circuit breakers and
/// stats). Which cluster speaks what was checked at load (TcpProxyValidator): HTTP/2 CONNECT and HTTP/1.1 POST are refused.
/// </summary>
internal sealed class TcpProxyTunnel
{
    private const int StatusOk = 200;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly SubstitutionFormatter _hostname;
    private readonly HeaderParser _headers;
    private readonly ClusterClients? _clients;
    private readonly TimeProvider _time;

    public TcpProxyTunnel(TcpProxyTunnelPlan plan, FormatterOptions options, ClusterClients? clients, TimeProvider time)
    {
        Plan = plan;
        _hostname = SubstitutionFormatter.CompileOrThrow(plan.Hostname, options);
        _headers = HeaderParser.Compile(plan.HeadersToAdd, [], options);
        _clients = clients;
        _time = time;
    }

    public TcpProxyTunnelPlan Plan { get; }

    /// <summary>
    /// Opens the tunnel to <paramref name="host"/>: the request's host is the formatted <c>hostname</c> and its headers the
    /// formatted <c>headers_to_add</c> (over the connection's stream info and addresses); only a success answer (any 2xx to
    /// an HTTP/1.1 CONNECT, 200 over HTTP/2, as Envoy's isValidResponse) opens it.
    /// </summary>
    public ValueTask<(ITcpUpstream? Upstream, TunnelFailure Failure)> OpenAsync(ClusterRuntime cluster, UpstreamHost host, RequestStreamInfo? info, ConnectionEndpoints endpoints, CancellationToken cancel)
    {
        var context = new FormatterContext(null, info, null, null, null, endpoints, AccessLogType.NotSet);
        var hostname = _hostname.Format(context);
        var headers = new HeaderDictionary();
        _headers.Evaluate(headers, context);
        return (cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default).Mode == UpstreamProtocolMode.Http2
            ? PostAsync(cluster, host, hostname, headers, cancel)
            : ConnectAsync(cluster, host, hostname, headers, cancel);
    }

    /// <summary>An HTTP/1.1 CONNECT on a TCP connection of the cluster's (Envoy's HTTP/1 codec with TCP tunneling enabled).</summary>
    private async ValueTask<(ITcpUpstream?, TunnelFailure)> ConnectAsync(ClusterRuntime cluster, UpstreamHost host, string hostname, HeaderDictionary headers, CancellationToken cancel)
    {
        // The pool's request limit, as for any stream of the cluster's HTTP pool.
        if (!cluster.TryAcquireRequest(RoutingPriority.Default))
        {
            return (null, TunnelFailure.Overflow);
        }
        var (connection, _, _) = await TcpUpstreamConnection.ConnectAsync(cluster, host, _time, cancel).ConfigureAwait(false);
        if (connection is null)
        {
            cluster.ReleaseRequest(RoutingPriority.Default);
            return (null, TunnelFailure.ConnectFailed);
        }
        var stats = cluster.Stats;
        var exchange = new ClusterExchange(cluster, host, _time, _time.GetTimestamp(), isInternal: false);
        exchange.Start();
        try
        {
            var head = RequestHead(hostname, headers);
            await connection.Stream.WriteAsync(head, cancel).ConfigureAwait(false);
            stats.UpstreamCxTxBytesTotal.Add(head.Length);
            var maxHead = (cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default).MaxResponseHeadersKb * 1024;
            var (status, headLength, rest) = await ReadResponseHeadAsync(connection.Stream, maxHead, cancel).ConfigureAwait(false);
            stats.UpstreamCxRxBytesTotal.Add(headLength);
            if (status == 0)
            {
                // No response head (closed first) or one that is not HTTP/1.x: a protocol error or a reset before headers.
                UpstreamAccounting.Reset(stats, new AttemptOutcome(AttemptKind.Reset, 0, headLength == 0 ? null : RouterFilter.ProtocolError, ForwarderError.Request, null, true));
                exchange.Finish(0, timedOut: false, localStatus: 0);
                connection.Close();
                return (null, TunnelFailure.ConnectFailed);
            }
            UpstreamAccounting.Response(stats, status, internalRequest: false, healthCheck: false);
            if (status is < 200 or > 299)
            {
                exchange.Finish(status, timedOut: false, localStatus: 0);
                connection.Close();
                return (null, TunnelFailure.ConnectFailed);
            }
            return (new Http1ConnectTunnel(connection, exchange, status, rest), TunnelFailure.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            if (cancel.IsCancellationRequested)
            {
                exchange.Abandon();
            }
            else
            {
                UpstreamAccounting.Reset(stats, new AttemptOutcome(AttemptKind.Reset, 0, null, ForwarderError.Request, ex, true));
                exchange.Finish(0, timedOut: false, localStatus: 0);
            }
            connection.Close();
            return (null, TunnelFailure.ConnectFailed);
        }
    }

    /// <summary>
    /// <c>CONNECT hostname HTTP/1.1</c>, <c>host: hostname</c>, then the added headers (Envoy's HttpUpstream headers as its
    /// HTTP/1 codec writes them: the authority as the request target and as <c>host</c>, no body framing).
    /// </summary>
    private static byte[] RequestHead(string hostname, HeaderDictionary headers)
    {
        var head = new StringBuilder(64 + hostname.Length * 2);
        head.Append("CONNECT ").Append(hostname).Append(" HTTP/1.1\r\nhost: ").Append(hostname).Append("\r\n");
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        head.Append("\r\n");
        // Header values are carried one char per byte (HeaderBytes).
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>
    /// Reads the response head, at most <paramref name="maxHead"/> bytes: its status (0: none, or not an HTTP/1.x status
    /// line), its length, and the bytes read past it (the first tunnel bytes).
    /// </summary>
    private static async ValueTask<(int Status, int HeadLength, ReadOnlyMemory<byte> Remainder)> ReadResponseHeadAsync(Stream stream, int maxHead, CancellationToken cancel)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxHead, 16 * 1024));
        try
        {
            var filled = 0;
            while (true)
            {
                if (filled == Math.Min(buffer.Length, maxHead))
                {
                    if (filled >= maxHead)
                    {
                        // Larger than max_response_headers_kb.
                        return (0, filled, ReadOnlyMemory<byte>.Empty);
                    }
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(maxHead, buffer.Length * 2));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, maxHead) - filled), cancel).ConfigureAwait(false);
                if (read == 0)
                {
                    return (0, filled, ReadOnlyMemory<byte>.Empty);
                }
                var searchFrom = Math.Max(0, filled - 3);
                filled += read;
                var end = buffer.AsSpan(searchFrom, filled - searchFrom).IndexOf(HeadEnd);
                if (end < 0)
                {
                    continue;
                }
                var headLength = searchFrom + end + HeadEnd.Length;
                var status = StatusOf(buffer.AsSpan(0, headLength));
                return (status, headLength, buffer.AsSpan(headLength, filled - headLength).ToArray());
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The status of <c>HTTP/1.x NNN reason</c>; 0 when the line is not one.</summary>
    private static int StatusOf(ReadOnlySpan<byte> head)
    {
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || head[8] != (byte)' ')
        {
            return 0;
        }
        var code = 0;
        for (var i = 9; i < 12; i++)
        {
            var digit = head[i] - '0';
            if (digit is < 0 or > 9)
            {
                return 0;
            }
            code = code * 10 + digit;
        }
        return head.Length > 12 && head[12] is not ((byte)' ' or (byte)'\r') ? 0 : code;
    }

    /// <summary>A full-duplex HTTP/2 POST through the cluster's HTTP client, to the host the session picked.</summary>
    private async ValueTask<(ITcpUpstream?, TunnelFailure)> PostAsync(ClusterRuntime cluster, UpstreamHost host, string hostname, HeaderDictionary headers, CancellationToken cancel)
    {
        HttpMessageInvoker invoker;
        try
        {
            invoker = _clients?.For(cluster.Name) ?? throw new ArgumentException("no cluster clients");
        }
        catch (Exception ex) when (ex is ArgumentException or ObjectDisposedException)
        {
            // The cluster went away (a configuration being swapped out) or the gateway is stopping.
            return (null, TunnelFailure.ConnectFailed);
        }
        var body = new TunnelRequestContent();
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("http://" + host.Address + Plan.PostPath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        request.Headers.TryAddWithoutValidation("host", hostname);
        request.Options.Set(ClusterClients.TunnelHost, host);
        foreach (var (name, values) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                // Content headers (content-type, ...) belong to the body's header collection.
                body.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(request, cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            body.Abort();
            return (null, TunnelFailure.ConnectFailed);
        }
        if (request.Options.TryGetValue(ClusterClients.AnsweredLocally, out var local) && local)
        {
            // The handler's local reply: its circuit breaker, or a connect failure or reset before headers.
            var overflow = response.Headers.Contains("x-envoy-overloaded");
            response.Dispose();
            body.Abort();
            return (null, overflow ? TunnelFailure.Overflow : TunnelFailure.ConnectFailed);
        }
        if ((int)response.StatusCode != StatusOk)
        {
            response.Dispose();
            body.Abort();
            return (null, TunnelFailure.ConnectFailed);
        }
        try
        {
            var input = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
            var output = await body.RequestStream.WaitAsync(cancel).ConfigureAwait(false);
            return (new Http2PostTunnel(cluster, response, body, new DuplexStream(input, output)), TunnelFailure.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            response.Dispose();
            body.Abort();
            return (null, TunnelFailure.ConnectFailed);
        }
    }

    /// <summary>An HTTP/1.1 CONNECT tunnel: the connection's bytes after the response head; ends as a TCP connection does.</summary>
    private sealed class Http1ConnectTunnel(TcpUpstreamConnection connection, ClusterExchange exchange, int status, ReadOnlyMemory<byte> rest) : ITcpUpstream
    {
        public Stream Stream { get; } = rest.IsEmpty ? connection.Stream : new PrefixedStream(rest, connection.Stream);

        public ClusterRuntime Cluster => connection.Cluster;

        public bool CountsConnectionBytes => false;

        public bool RemoteClosed
        {
            get => connection.RemoteClosed;
            set => connection.RemoteClosed = value;
        }

        /// <summary>Envoy's HTTP/1 codec ends a CONNECT's request by half-closing the connection.</summary>
        public ValueTask ShutdownSendAsync() => connection.ShutdownSendAsync();

        public void Close()
        {
            connection.Close();
            exchange.Finish(status, timedOut: false, localStatus: 0);
        }
    }

    /// <summary>An HTTP/2 POST tunnel: the request body out, the response body in; the pooled connection stays the client's.</summary>
    private sealed class Http2PostTunnel(ClusterRuntime cluster, HttpResponseMessage response, TunnelRequestContent body, Stream stream) : ITcpUpstream
    {
        public Stream Stream => stream;

        public ClusterRuntime Cluster => cluster;

        public bool CountsConnectionBytes => true;

        public bool RemoteClosed { get; set; }

        /// <summary>The request body ends (END_STREAM); the response keeps coming.</summary>
        public ValueTask ShutdownSendAsync()
        {
            body.Complete();
            return ValueTask.CompletedTask;
        }

        /// <summary>Ends the stream: reset when either side is still open (Envoy's resetEncoder), else only the exchange ends.</summary>
        public void Close()
        {
            body.Abort();
            response.Dispose();
        }
    }

    /// <summary>
    /// The POST's body: the stream the HTTP client sends it on is handed to the tunnel, and it ends when the tunnel says
    /// (the downstream's end: END_STREAM) or is aborted (the stream is reset).
    /// </summary>
    private sealed class TunnelRequestContent : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The stream the body is written to, once the client sends it.</summary>
        public Task<Stream> RequestStream => _stream.Task;

        public void Complete() => _ended.TrySetResult();

        public void Abort()
        {
            _stream.TrySetCanceled();
            _ended.TrySetCanceled();
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            _stream.TrySetResult(stream);
            await _ended.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>Reads from one stream and writes (each write flushed: the tunnel's bytes go as they come) to another.</summary>
    private sealed class DuplexStream(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count)
        {
            output.Write(buffer, offset, count);
            output.Flush();
        }

        public override void Flush() => output.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A connection's stream with bytes already read from it (past the response head) served first.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => _prefix.IsEmpty ? inner.ReadAsync(buffer, cancellationToken) : ValueTask.FromResult(TakePrefix(buffer.Span));

        public override int Read(byte[] buffer, int offset, int count)
            => _prefix.IsEmpty ? inner.Read(buffer, offset, count) : TakePrefix(buffer.AsSpan(offset, count));

        private int TakePrefix(Span<byte> buffer)
        {
            var length = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..length].CopyTo(buffer);
            _prefix = _prefix[length..];
            return length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
