using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>One request the raw upstream parsed completely, with the exact bytes of its head.</summary>
public sealed record UpstreamRequest(
    string Method,
    string Target,
    IReadOnlyList<(string Name, byte[] Value)> Headers,
    byte[] Head,
    long BodyLength,
    byte[] BodyPrefix)
{
    /// <summary>How many bytes of the body are kept (the rest is only counted).</summary>
    public const int BodyPrefixLimit = 64 * 1024;

    /// <summary>The values of every header with this name (case-insensitive), as Latin-1 text.</summary>
    public IReadOnlyList<string> Values(string name)
    {
        var values = new List<string>();
        foreach (var (n, v) in Headers)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                values.Add(Encoding.Latin1.GetString(v));
            }
        }
        return values;
    }

    /// <summary>The raw bytes of every header with this name.</summary>
    public IReadOnlyList<byte[]> RawValues(string name)
    {
        var values = new List<byte[]>();
        foreach (var (n, v) in Headers)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                values.Add(v);
            }
        }
        return values;
    }

    /// <summary>The battery's case tag (<c>x-case</c>), or null.</summary>
    public string? Case => Values("x-case") is [var single] ? single : null;

    public override string ToString() => $"{Method} {Target} ({BodyLength} body bytes)";
}

/// <summary>
/// A small HTTP/1.1 origin on 127.0.0.1 for the hardening tests: it parses requests strictly (request line
/// <c>METHOD SP target SP HTTP/1.1</c>, CRLF only, token header names, no obs-fold, no control characters in values,
/// one <c>Content-Length</c> of digits or <c>Transfer-Encoding: chunked</c> alone), logs every request it parsed
/// completely with the exact bytes of its head, and answers each with 200, a 2-byte body and the target echoed in
/// <c>x-upstream-target</c>; connections are kept alive. Anything it cannot parse is logged as a protocol error and the
/// connection closed, so a test can tell a well-formed forward from a mangled one.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private const int MaxHeadBytes = 1024 * 1024;
    private static readonly byte[] Continue = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    private readonly ConcurrentQueue<UpstreamRequest> _requests = new();
    private readonly ConcurrentQueue<string> _protocolErrors = new();
    private readonly ConcurrentQueue<string> _aborted = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly object _gate = new();
    private Socket? _listener;
    private CancellationTokenSource _stop = new();
    private long _connectionsAccepted;

    private RawUpstream(int port)
    {
        Port = port;
    }

    /// <summary>The port it listens on (127.0.0.1); kept across <see cref="Kill"/> and <see cref="Restart"/>.</summary>
    public int Port { get; private set; }

    /// <summary>Every request parsed completely, in arrival order.</summary>
    public IReadOnlyList<UpstreamRequest> Requests => _requests.ToArray();

    /// <summary>What the strict parser refused (each closed its connection).</summary>
    public IReadOnlyList<string> ProtocolErrors => _protocolErrors.ToArray();

    /// <summary>Requests whose connection closed before they were complete (never logged as requests).</summary>
    public IReadOnlyList<string> Aborted => _aborted.ToArray();

    /// <summary>How long the upstream waits before answering each request (keeps requests in flight for the stress tests).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>TCP connections accepted so far.</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Listens on a free port of 127.0.0.1.</summary>
    public static RawUpstream Start()
    {
        var upstream = new RawUpstream(0);
        upstream.Listen();
        return upstream;
    }

    /// <summary>The requests tagged <c>x-case: <paramref name="caseTag"/></c>.</summary>
    public IReadOnlyList<UpstreamRequest> RequestsFor(string caseTag)
    {
        var list = new List<UpstreamRequest>();
        foreach (var request in _requests)
        {
            if (request.Case == caseTag)
            {
                list.Add(request);
            }
        }
        return list;
    }

    /// <summary>Closes the listener and resets every open connection (RST), as a crashed upstream would.</summary>
    public void Kill()
    {
        lock (_gate)
        {
            _stop.Cancel();
            _listener?.Dispose();
            _listener = null;
            foreach (var socket in _connections.Keys)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (ObjectDisposedException)
                {
                }
                catch (SocketException)
                {
                }
            }
            _connections.Clear();
        }
    }

    /// <summary>Listens again on the same port after <see cref="Kill"/>.</summary>
    public void Restart()
    {
        lock (_gate)
        {
            _stop = new CancellationTokenSource();
            Listen();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private void Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, Port));
        listener.Listen(1024);
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _listener = listener;
        var token = _stop.Token;
        _ = Task.Run(() => AcceptLoopAsync(listener, token), CancellationToken.None);
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _connectionsAccepted);
            _connections[socket] = 0;
            _ = Task.Run(() => ServeAsync(socket, token), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken token)
    {
        var reader = new ByteReader(socket);
        try
        {
            while (!token.IsCancellationRequested)
            {
                var keepAlive = await ServeOneAsync(socket, reader, token);
                if (!keepAlive)
                {
                    return;
                }
            }
        }
        catch (UpstreamProtocolException ex)
        {
            _protocolErrors.Enqueue(ex.Message);
        }
        catch (UpstreamAbortedException ex)
        {
            _aborted.Enqueue(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away (or Kill reset the connection); a half-read request is simply not logged.
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    /// <summary>Reads one request and answers it; false when the connection is done.</summary>
    private async Task<bool> ServeOneAsync(Socket socket, ByteReader reader, CancellationToken token)
    {
        var head = new MemoryStream();
        var requestLine = await reader.ReadLineAsync(head, MaxHeadBytes, token);
        if (requestLine is null)
        {
            return false; // clean close between requests
        }
        var (method, target) = ParseRequestLine(requestLine);

        var headers = new List<(string, byte[])>();
        long? contentLength = null;
        var chunked = false;
        var sawTransferEncoding = false;
        var expectContinue = false;
        var close = false;
        while (true)
        {
            var line = await reader.ReadLineAsync(head, MaxHeadBytes, token)
                ?? throw new UpstreamAbortedException($"{method} {target}: connection closed inside the head");
            if (line.Length == 0)
            {
                break;
            }
            var (name, value) = ParseHeaderLine(line);
            headers.Add((name, value));
            var text = Encoding.Latin1.GetString(value);
            if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                if (contentLength is not null || text.Length == 0 || !text.All(char.IsAsciiDigit) || text.Length > 15)
                {
                    throw new UpstreamProtocolException($"{method} {target}: bad or repeated Content-Length '{text}'");
                }
                contentLength = long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase))
            {
                if (sawTransferEncoding || !text.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    throw new UpstreamProtocolException($"{method} {target}: Transfer-Encoding '{text}' is not a single 'chunked'");
                }
                sawTransferEncoding = true;
                chunked = true;
            }
            else if (name.Equals("expect", StringComparison.OrdinalIgnoreCase) && text.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
            {
                expectContinue = true;
            }
            else if (name.Equals("connection", StringComparison.OrdinalIgnoreCase) && text.Contains("close", StringComparison.OrdinalIgnoreCase))
            {
                close = true;
            }
        }
        if (chunked && contentLength is not null)
        {
            throw new UpstreamProtocolException($"{method} {target}: both Content-Length and Transfer-Encoding");
        }
        if (expectContinue)
        {
            await socket.SendAsync(Continue, SocketFlags.None, token);
        }

        var prefix = new MemoryStream();
        long bodyLength = 0;
        if (chunked)
        {
            bodyLength = await ReadChunkedAsync(reader, prefix, method, target, token);
        }
        else if (contentLength is > 0)
        {
            bodyLength = contentLength.Value;
            await reader.CopyAsync(bodyLength, prefix, UpstreamRequest.BodyPrefixLimit, token);
        }

        _requests.Enqueue(new UpstreamRequest(method, target, headers, head.ToArray(), bodyLength, prefix.ToArray()));
        if (ResponseDelay > TimeSpan.Zero)
        {
            await Task.Delay(ResponseDelay, token);
        }

        var response = Encoding.Latin1.GetBytes(
            $"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nx-upstream-target: {Sanitize(target)}\r\n{(close ? "connection: close\r\n" : "")}\r\nok");
        await socket.SendAsync(response, SocketFlags.None, token);
        return !close;
    }

    private static async Task<long> ReadChunkedAsync(ByteReader reader, MemoryStream prefix, string method, string target, CancellationToken token)
    {
        long total = 0;
        var scratch = new MemoryStream();
        while (true)
        {
            var sizeLine = await reader.ReadLineAsync(scratch, 1024, token)
                ?? throw new UpstreamAbortedException($"{method} {target}: connection closed inside a chunked body");
            var text = Encoding.Latin1.GetString(sizeLine);
            var semicolon = text.IndexOf(';', StringComparison.Ordinal);
            var hex = semicolon >= 0 ? text[..semicolon] : text;
            if (hex.Length is 0 or > 15 || !hex.All(char.IsAsciiHexDigit))
            {
                throw new UpstreamProtocolException($"{method} {target}: bad chunk size line '{text}'");
            }
            var size = long.Parse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
            if (size == 0)
            {
                // Trailers (none expected), then the empty line.
                while (true)
                {
                    var trailer = await reader.ReadLineAsync(scratch, 64 * 1024, token)
                        ?? throw new UpstreamAbortedException($"{method} {target}: connection closed inside the trailers");
                    if (trailer.Length == 0)
                    {
                        return total;
                    }
                }
            }
            await reader.CopyAsync(size, prefix, UpstreamRequest.BodyPrefixLimit, token);
            total += size;
            var end = await reader.ReadLineAsync(scratch, 2, token);
            if (end is not { Length: 0 })
            {
                throw new UpstreamProtocolException($"{method} {target}: chunk data not followed by CRLF");
            }
        }
    }

    private static (string Method, string Target) ParseRequestLine(byte[] line)
    {
        var text = Encoding.Latin1.GetString(line);
        var parts = text.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[0].All(IsTokenChar) || parts[1].Length == 0
            || parts[1].Any(c => c <= ' ' || c >= 0x7F) || parts[2] != "HTTP/1.1")
        {
            throw new UpstreamProtocolException($"bad request line '{Sanitize(text)}'");
        }
        return (parts[0], parts[1]);
    }

    private static (string Name, byte[] Value) ParseHeaderLine(byte[] line)
    {
        var colon = Array.IndexOf(line, (byte)':');
        if (colon <= 0)
        {
            throw new UpstreamProtocolException($"header line without a name: '{Sanitize(Encoding.Latin1.GetString(line))}'");
        }
        var name = Encoding.Latin1.GetString(line, 0, colon);
        if (!name.All(IsTokenChar))
        {
            throw new UpstreamProtocolException($"header name is not a token: '{Sanitize(name)}'");
        }
        var start = colon + 1;
        var end = line.Length;
        while (start < end && line[start] is (byte)' ' or (byte)'\t')
        {
            start++;
        }
        while (end > start && line[end - 1] is (byte)' ' or (byte)'\t')
        {
            end--;
        }
        var value = line[start..end];
        foreach (var b in value)
        {
            if ((b < 0x20 && b != '\t') || b == 0x7F)
            {
                throw new UpstreamProtocolException($"control character 0x{b:x2} in the value of '{name}'");
            }
        }
        return (name, value);
    }

    private static bool IsTokenChar(char c)
        => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c is < ' ' or >= (char)0x7F ? '?' : c);
        }
        return builder.ToString();
    }

    private sealed class UpstreamProtocolException(string message) : Exception(message);

    /// <summary>The peer closed in the middle of a request: not a malformed request, just one never finished.</summary>
    private sealed class UpstreamAbortedException(string message) : Exception(message);

    /// <summary>Buffered reads off a socket: CRLF-terminated lines (bare CR or LF refused) and counted body bytes.</summary>
    private sealed class ByteReader(Socket socket)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        /// <summary>The next line without its CRLF (appended with CRLF to <paramref name="copy"/>), or null at a clean EOF before any byte.</summary>
        public async Task<byte[]?> ReadLineAsync(MemoryStream copy, int limit, CancellationToken token)
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_start == _end && !await FillAsync(token))
                {
                    if (line.Length == 0)
                    {
                        return null;
                    }
                    throw new UpstreamAbortedException("connection closed inside a line");
                }
                while (_start < _end)
                {
                    var b = _buffer[_start++];
                    if (b == '\n')
                    {
                        var bytes = line.ToArray();
                        if (bytes.Length == 0 || bytes[^1] != '\r')
                        {
                            throw new UpstreamProtocolException($"bare LF after '{Sanitize(Encoding.Latin1.GetString(bytes))}'");
                        }
                        var content = bytes[..^1];
                        if (Array.IndexOf(content, (byte)'\r') >= 0)
                        {
                            throw new UpstreamProtocolException($"bare CR in '{Sanitize(Encoding.Latin1.GetString(content))}'");
                        }
                        copy.Write(bytes);
                        copy.WriteByte((byte)'\n');
                        return content;
                    }
                    line.WriteByte(b);
                    if (line.Length > limit)
                    {
                        throw new UpstreamProtocolException($"line longer than {limit} bytes");
                    }
                }
            }
        }

        /// <summary>Reads exactly <paramref name="count"/> bytes, keeping the first <paramref name="keep"/> in <paramref name="prefix"/>.</summary>
        public async Task CopyAsync(long count, MemoryStream prefix, int keep, CancellationToken token)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync(token))
                {
                    throw new UpstreamAbortedException($"connection closed with {count} body bytes missing");
                }
                var take = (int)Math.Min(count, _end - _start);
                var room = keep - (int)prefix.Length;
                if (room > 0)
                {
                    prefix.Write(_buffer, _start, Math.Min(room, take));
                }
                _start += take;
                count -= take;
            }
        }

        private async Task<bool> FillAsync(CancellationToken token)
        {
            _start = 0;
            _end = await socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, token);
            return _end > 0;
        }
    }
}
