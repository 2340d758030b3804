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
/// gets a CONNECT (or a POST with a chunked body) written on a TCP connection of the cluster's
/// (<see cref="TcpUpstreamConnection"/>: the response head is read here, and the socket's send side can be shut, as
/// Envoy's HTTP/1 codec half-closes a CONNECT; SocketsHttpHandler's CONNECT stream could not be half-closed); an HTTP/2
/// cluster a full-duplex POST through the cluster's own HTTP client (<see cref="ClusterClients"/>: its pool, circuit
/// breakers and stats). Which cluster speaks what was checked at load (TcpProxyValidator): HTTP/2 CONNECT is refused.
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
        if (!CanBeSent(hostname, headers))
        {
            // A formatted value (the client's SNI, say) that no HTTP message may carry: the attempt fails before anything
            // is sent, as Envoy's codec refuses invalid request headers.
            return ValueTask.FromResult<(ITcpUpstream?, TunnelFailure)>((null, TunnelFailure.ConnectFailed));
        }
        return (cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default).Mode == UpstreamProtocolMode.Http2
            ? PostAsync(cluster, host, hostname, headers, cancel)
            : Http1Async(cluster, host, hostname, headers, cancel);
    }

    /// <summary>Whether the host and every value are free of control characters (CR, LF, NUL, ...) and the host is not empty.</summary>
    private static bool CanBeSent(string hostname, HeaderDictionary headers)
    {
        if (hostname.Length == 0 || HeaderBytes.HasInvalidValueChars(hostname))
        {
            return false;
        }
        foreach (var (_, values) in headers)
        {
            foreach (var value in values)
            {
                if (value is not null && HeaderBytes.HasInvalidValueChars(value))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>
    /// An HTTP/1.1 CONNECT, or POST with a chunked body, on a TCP connection of the cluster's (Envoy's HTTP/1 codec with TCP
    /// tunneling enabled).
    /// </summary>
    private async ValueTask<(ITcpUpstream?, TunnelFailure)> Http1Async(ClusterRuntime cluster, UpstreamHost host, string hostname, HeaderDictionary headers, CancellationToken cancel)
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
            var head = RequestHead(Plan, hostname, headers);
            await connection.Stream.WriteAsync(head, cancel).ConfigureAwait(false);
            stats.UpstreamCxTxBytesTotal.Add(head.Length);
            var maxHead = (cluster.Plan?.Protocol ?? UpstreamProtocolPlan.Default).MaxResponseHeadersKb * 1024;
            var (status, headLength, rest, framing) = await ReadResponseHeadAsync(connection.Stream, maxHead, cancel).ConfigureAwait(false);
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
            // A CONNECT's 2xx has no body framing (RFC 9110 section 9.3.6): the bytes after the head are the tunnel's. A POST's
            // response body is framed as any response's, and its request body is chunked.
            return (new Http1Tunnel(connection, exchange, status, Plan.UsePost ? framing : default, rest), TunnelFailure.None);
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
    /// <c>CONNECT hostname HTTP/1.1</c> (or <c>POST post_path HTTP/1.1</c>), <c>host: hostname</c>, then the added headers
    /// (Envoy's HttpUpstream headers as its HTTP/1 codec writes them: a CONNECT's authority as the request target and as
    /// <c>host</c>, no body framing; a POST's body chunked).
    /// </summary>
    private static byte[] RequestHead(TcpProxyTunnelPlan plan, string hostname, HeaderDictionary headers)
    {
        var head = new StringBuilder(64 + hostname.Length * 2);
        head.Append(plan.UsePost ? "POST " : "CONNECT ").Append(plan.UsePost ? plan.PostPath : hostname).Append(" HTTP/1.1\r\nhost: ").Append(hostname).Append("\r\n");
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        if (plan.UsePost)
        {
            head.Append("transfer-encoding: chunked\r\n");
        }
        head.Append("\r\n");
        // Header values are carried one char per byte (HeaderBytes).
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>
    /// Reads the response head, at most <paramref name="maxHead"/> bytes: its status (0: none, or not an HTTP/1.x status
    /// line), its length, the bytes read past it (the first tunnel bytes) and how its body is framed.
    /// </summary>
    private static async ValueTask<(int Status, int HeadLength, ReadOnlyMemory<byte> Remainder, ResponseFraming Framing)> ReadResponseHeadAsync(Stream stream, int maxHead, CancellationToken cancel)
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
                        return (0, filled, ReadOnlyMemory<byte>.Empty, default);
                    }
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(maxHead, buffer.Length * 2));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, maxHead) - filled), cancel).ConfigureAwait(false);
                if (read == 0)
                {
                    return (0, filled, ReadOnlyMemory<byte>.Empty, default);
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
                return (status, headLength, buffer.AsSpan(headLength, filled - headLength).ToArray(), FramingOf(buffer.AsSpan(0, headLength)));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// How a response's body is framed (RFC 9112 section 6.3): chunked when <c>transfer-encoding</c> ends in chunked, else
    /// by <c>content-length</c>, else until the connection closes.
    /// </summary>
    private static ResponseFraming FramingOf(ReadOnlySpan<byte> head)
    {
        var framing = new ResponseFraming(ResponseFramingKind.UntilClose, 0);
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                var last = value.LastIndexOf((byte)',');
                if (Ascii.EqualsIgnoreCase(value[(last + 1)..].Trim((byte)' '), "chunked"u8))
                {
                    return new ResponseFraming(ResponseFramingKind.Chunked, 0);
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "content-length"u8) && System.Buffers.Text.Utf8Parser.TryParse(value, out long length, out var consumed) && consumed == value.Length)
            {
                framing = new ResponseFraming(ResponseFramingKind.Length, length);
            }
        }
        return framing;
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

    /// <summary>
    /// An HTTP/1.1 tunnel. CONNECT: the connection's bytes after the response head, ending as a TCP connection does. POST:
    /// the payload goes as chunks and comes out of the response body's framing; the framing's bytes are counted here
    /// (<c>upstream_cx_*_bytes_total</c> count the wire), the payload's by the copy.
    /// </summary>
    private sealed class Http1Tunnel : ITcpUpstream
    {
        private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

        private readonly TcpUpstreamConnection _connection;
        private readonly ClusterExchange _exchange;
        private readonly int _status;
        private readonly bool _post;

        public Http1Tunnel(TcpUpstreamConnection connection, ClusterExchange exchange, int status, ResponseFraming framing, ReadOnlyMemory<byte> rest)
        {
            _connection = connection;
            _exchange = exchange;
            _status = status;
            _post = framing.Kind != ResponseFramingKind.None;
            var stats = connection.Cluster.Stats;
            Stream input = rest.IsEmpty ? connection.Stream : new PrefixedStream(rest, connection.Stream);
            Stream = framing.Kind switch
            {
                ResponseFramingKind.Chunked => new DuplexStream(new ChunkedReadStream(connection.Stream, rest, stats), new ChunkedWriteStream(connection.Stream, stats)),
                ResponseFramingKind.Length => new DuplexStream(new LengthReadStream(input, framing.Length), new ChunkedWriteStream(connection.Stream, stats)),
                ResponseFramingKind.UntilClose => new DuplexStream(input, new ChunkedWriteStream(connection.Stream, stats)),
                _ => input,
            };
        }

        public Stream Stream { get; }

        public ClusterRuntime Cluster => _connection.Cluster;

        public bool CountsConnectionBytes => false;

        public bool RemoteClosed
        {
            get => _connection.RemoteClosed;
            set => _connection.RemoteClosed = value;
        }

        /// <summary>
        /// A CONNECT's request ends by half-closing the connection (Envoy's HTTP/1 codec); a POST's with the last chunk, the
        /// connection left open for the response (a FIN would end the request at most HTTP/1.1 servers).
        /// </summary>
        public async ValueTask ShutdownSendAsync()
        {
            if (!_post)
            {
                await _connection.ShutdownSendAsync().ConfigureAwait(false);
                return;
            }
            await _connection.Stream.WriteAsync(LastChunk).ConfigureAwait(false);
            _connection.Cluster.Stats.UpstreamCxTxBytesTotal.Add(LastChunk.Length);
        }

        public void Close()
        {
            _connection.Close();
            _exchange.Finish(_status, timedOut: false, localStatus: 0);
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
            // SocketsHttpHandler buffers an HTTP/2 request's HEADERS until its body writes or flushes; the tunnel needs
            // them on the wire now (the upstream may speak first, and the response is awaited before any byte is sent).
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// What the tunnel's streams share: no seeking, length or position; a flush that does nothing; the synchronous calls
    /// over the asynchronous ones (the copy only calls those), refused in a direction the stream does not have.
    /// </summary>
    private abstract class TunnelStream : Stream
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
            => CanRead ? ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult() : throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (!CanWrite)
            {
                throw new NotSupportedException();
            }
            WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Reads from one stream and writes (each write flushed: the tunnel's bytes go as they come) to another.</summary>
    private sealed class DuplexStream(Stream input, Stream output) : TunnelStream
    {
        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void Flush() => output.Flush();
    }

    private enum ResponseFramingKind
    {
        /// <summary>No framing: a CONNECT's tunnel.</summary>
        None,
        UntilClose,
        Length,
        Chunked,
    }

    private readonly record struct ResponseFraming(ResponseFramingKind Kind, long Length);

    /// <summary>Writes each buffer as one chunk (<c>size CRLF data CRLF</c>) in one write; the framing's bytes are counted.</summary>
    private sealed class ChunkedWriteStream(Stream inner, Stats.ClusterStats stats) : TunnelStream
    {
        private const int FramingMax = 20;

        public override bool CanRead => false;

        public override bool CanWrite => true;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return;
            }
            var chunk = ArrayPool<byte>.Shared.Rent(buffer.Length + FramingMax);
            try
            {
                var length = Frame(buffer.Span, chunk);
                await inner.WriteAsync(chunk.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                stats.UpstreamCxTxBytesTotal.Add(length - buffer.Length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }

        private static int Frame(ReadOnlySpan<byte> data, Span<byte> chunk)
        {
            data.Length.TryFormat(chunk, out var written, "x", System.Globalization.CultureInfo.InvariantCulture);
            "\r\n"u8.CopyTo(chunk[written..]);
            written += 2;
            data.CopyTo(chunk[written..]);
            written += data.Length;
            "\r\n"u8.CopyTo(chunk[written..]);
            return written + 2;
        }
    }

    /// <summary>
    /// A chunked body's data (RFC 9112 section 7.1): chunk sizes, extensions and trailers are read and counted here, the
    /// data is the payload; the last chunk is the end (0). A malformed or cut-off body fails the read.
    /// </summary>
    private sealed class ChunkedReadStream : TunnelStream
    {
        private const int LineMax = 4096;

        private readonly Stream _inner;
        private readonly Stats.ClusterStats _stats;
        private readonly byte[] _buffer;
        private int _start;
        private int _end;
        private long _remaining;
        private bool _afterData;
        private bool _done;

        public ChunkedReadStream(Stream inner, ReadOnlyMemory<byte> rest, Stats.ClusterStats stats)
        {
            _inner = inner;
            _stats = stats;
            // What the head reader read past the head is the body's start: it comes first.
            _buffer = new byte[Math.Max(LineMax, rest.Length)];
            rest.CopyTo(_buffer);
            _end = rest.Length;
        }

        public override bool CanRead => true;

        public override bool CanWrite => false;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }
            while (_remaining == 0)
            {
                if (_done)
                {
                    return 0;
                }
                if (_afterData)
                {
                    // The CRLF after a chunk's data.
                    if (await ReadLineAsync(cancellationToken).ConfigureAwait(false) != 0)
                    {
                        throw new IOException("malformed chunk: no CRLF after its data");
                    }
                    _start += 2;
                    _afterData = false;
                }
                var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                var size = ChunkSize(_buffer.AsSpan(_start, line));
                _start += line + 2;
                if (size == 0)
                {
                    // Trailers, up to the empty line.
                    while ((line = await ReadLineAsync(cancellationToken).ConfigureAwait(false)) != 0)
                    {
                        _start += line + 2;
                    }
                    _start += 2;
                    _done = true;
                    return 0;
                }
                _remaining = size;
                _afterData = true;
            }
            int read;
            if (_start < _end)
            {
                read = (int)Math.Min(Math.Min(buffer.Length, _end - _start), _remaining);
                _buffer.AsSpan(_start, read).CopyTo(buffer.Span);
                _start += read;
            }
            else
            {
                read = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("the chunked body was cut off");
                }
            }
            _remaining -= read;
            return read;
        }

        /// <summary>Makes a whole line (to CRLF) stand at the buffer's start; returns its length without the CRLF (counted as framing).</summary>
        private async ValueTask<int> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (end >= 0)
                {
                    _stats.UpstreamCxRxBytesTotal.Add(end + 2);
                    return end;
                }
                if (_start > 0)
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length)
                {
                    throw new IOException("a chunk line is too long");
                }
                var read = await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("the chunked body was cut off");
                }
                _end += read;
            }
        }

        /// <summary>The hex size before any <c>;extension</c>.</summary>
        private static long ChunkSize(ReadOnlySpan<byte> line)
        {
            var semicolon = line.IndexOf((byte)';');
            var digits = (semicolon < 0 ? line : line[..semicolon]).Trim((byte)' ');
            if (digits.IsEmpty || digits.Length > 15 || !System.Buffers.Text.Utf8Parser.TryParse(digits, out long size, out var consumed, 'x') || consumed != digits.Length)
            {
                throw new IOException("malformed chunk size");
            }
            return size;
        }
    }

    /// <summary>A <c>content-length</c> body: the end after that many bytes.</summary>
    private sealed class LengthReadStream(Stream inner, long length) : TunnelStream
    {
        private long _remaining = length;

        public override bool CanRead => true;

        public override bool CanWrite => false;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_remaining == 0 || buffer.IsEmpty)
            {
                return 0;
            }
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("the response body was cut off");
            }
            _remaining -= read;
            return read;
        }
    }

    /// <summary>A connection's stream with bytes already read from it (past the response head) served first.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : TunnelStream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => _prefix.IsEmpty ? inner.ReadAsync(buffer, cancellationToken) : ValueTask.FromResult(TakePrefix(buffer.Span));

        private int TakePrefix(Span<byte> buffer)
        {
            var length = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..length].CopyTo(buffer);
            _prefix = _prefix[length..];
            return length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override void Flush() => inner.Flush();
    }
}
