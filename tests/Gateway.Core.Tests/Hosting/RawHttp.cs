using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Hosting;

/// <summary>One request as a raw upstream parsed it: the request line exactly as its bytes arrived, and the headers.</summary>
internal sealed record RecordedRequest(string RequestLine, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>The request target of the request line (between the method and the version).</summary>
    public string Target => RequestLine.Split(' ')[1];

    /// <summary>The values of a header, in order (names compared ignoring case).</summary>
    public IReadOnlyList<string> Header(string name) => [.. Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)];

    /// <summary>The body's length (content-length or chunked), or -1 when the connection ended in the middle of it.</summary>
    public long BodyLength { get; init; }

    /// <summary>The body's first bytes (up to 64).</summary>
    public string BodyStart { get; init; } = string.Empty;
}

/// <summary>
/// A raw HTTP/1.1 upstream on 127.0.0.1 (a socket, not Kestrel, so nothing normalizes what arrives): it records every
/// request head it parses, byte for byte (Latin-1), and answers 200 with the request line as the body, or with
/// the fixed response bytes it was started with (which carry their own Content-Length). Keep-alive;
/// request bodies (content-length or chunked) are read as they come, their length and first bytes recorded.
/// </summary>
internal sealed class RecordingUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly Task _accepting;
    private readonly byte[]? _response;

    private RecordingUpstream(TcpListener listener, byte[]? response)
    {
        _listener = listener;
        _response = response;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The requests received so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static RecordingUpstream Start(byte[]? response = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new RecordingUpstream(listener, response);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        // Stopped while an accept had just completed: the loop's next accept finds the listener stopped.
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new List<byte>();
                var chunk = new byte[4096];
                while (true)
                {
                    int headEnd;
                    while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
                    {
                        var read = await stream.ReadAsync(chunk, _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }
                        buffer.AddRange(chunk.AsSpan(0, read));
                    }
                    var head = Encoding.Latin1.GetString([.. buffer.GetRange(0, headEnd)]);
                    buffer.RemoveRange(0, headEnd + 4);
                    var lines = head.Split("\r\n");
                    var headers = new List<KeyValuePair<string, string>>();
                    long contentLength = 0;
                    var chunked = false;
                    foreach (var line in lines.Skip(1))
                    {
                        var colon = line.IndexOf(':', StringComparison.Ordinal);
                        var name = line[..colon];
                        var value = line[(colon + 1)..].Trim();
                        headers.Add(new(name, value));
                        if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                        {
                            contentLength = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                        }
                        chunked |= name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
                    }
                    var body = new BodyReader(stream, buffer, chunk, _stop.Token);
                    var complete = chunked ? await body.ReadChunkedAsync() : await body.ReadAsync(contentLength);
                    _requests.Enqueue(new RecordedRequest(lines[0], headers) { BodyLength = complete ? body.Length : -1, BodyStart = body.Start });
                    if (!complete)
                    {
                        return;
                    }
                    if (_response is not null)
                    {
                        await stream.WriteAsync(_response, _stop.Token);
                        continue;
                    }
                    var answer = Encoding.Latin1.GetBytes(lines[0]);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\nContent-Type: text/plain\r\n\r\n"), _stop.Token);
                    await stream.WriteAsync(answer, _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Reads one request body off the connection without keeping it: its length and first bytes.</summary>
    private sealed class BodyReader(NetworkStream stream, List<byte> buffer, byte[] chunk, CancellationToken token)
    {
        private readonly StringBuilder _start = new();

        public long Length { get; private set; }

        public string Start => _start.ToString();

        /// <summary>Reads <paramref name="count"/> bytes; false when the connection ends first.</summary>
        public async Task<bool> ReadAsync(long count)
        {
            while (count > 0)
            {
                if (buffer.Count == 0 && !await FillAsync())
                {
                    return false;
                }
                var take = (int)Math.Min(count, buffer.Count);
                if (_start.Length < 64)
                {
                    _start.Append(Encoding.Latin1.GetString([.. buffer.GetRange(0, Math.Min(take, 64 - _start.Length))]));
                }
                buffer.RemoveRange(0, take);
                Length += take;
                count -= take;
            }
            return true;
        }

        /// <summary>Reads a chunked body up to its last chunk (trailers are not expected); false when it ends first or is malformed.</summary>
        public async Task<bool> ReadChunkedAsync()
        {
            while (true)
            {
                var line = await ReadLineAsync();
                if (line is null || !long.TryParse(line.Split(';')[0].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var size))
                {
                    return false;
                }
                if (!await ReadAsync(size))
                {
                    return false;
                }
                if (await ReadLineAsync() is not "")
                {
                    return false;
                }
                if (size == 0)
                {
                    return true;
                }
            }
        }

        private async Task<string?> ReadLineAsync()
        {
            int end;
            while ((end = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer).IndexOf("\r\n"u8)) < 0)
            {
                if (!await FillAsync())
                {
                    return null;
                }
            }
            var line = Encoding.Latin1.GetString([.. buffer.GetRange(0, end)]);
            buffer.RemoveRange(0, end + 2);
            return line;
        }

        private async Task<bool> FillAsync()
        {
            var read = await stream.ReadAsync(chunk, token);
            buffer.AddRange(chunk.AsSpan(0, read));
            return read > 0;
        }
    }

    private static int IndexOfHeadEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>A response read off a raw socket.</summary>
internal sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    /// <summary>The first value of a header, or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Whether the response says <c>connection: close</c>.</summary>
    public bool ClosesConnection => string.Equals(Header("connection"), "close", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Sends requests as raw bytes (HttpClient would normalize the target) and reads the responses.</summary>
internal static class RawHttpClient
{
    /// <summary>
    /// Sends <c>{method} {target} HTTP/1.1</c> with a Host header (unless <paramref name="host"/> is null) and
    /// <c>Connection: close</c>, plus <paramref name="extraHeaders"/> (each ending with CRLF), and reads the response
    /// (bounded by 10 s).
    /// </summary>
    public static async Task<RawResponse> SendAsync(int port, string target, string method = "GET", string? host = "gateway.test", string extraHeaders = "")
    {
        await using var connection = await RawConnection.OpenAsync(port);
        return await connection.SendAsync(target, method, host, extraHeaders + "Connection: close\r\n");
    }

    /// <summary>Sends <paramref name="request"/> exactly (one Latin-1 byte per char) on a new connection and reads one response.</summary>
    public static async Task<RawResponse> SendRawAsync(int port, string request)
    {
        await using var connection = await RawConnection.OpenAsync(port);
        return await connection.SendRawAsync(request);
    }
}

/// <summary>A keep-alive HTTP/1.1 client connection speaking raw bytes; every read is bounded by 10 s.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _buffer = [];

    private RawConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawConnection> OpenAsync(int port)
    {
        var client = new TcpClient();
        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        return new RawConnection(client);
    }

    /// <summary>Sends one request (no body) and reads its response.</summary>
    public async Task<RawResponse> SendAsync(string target, string method = "GET", string? host = "gateway.test", string extraHeaders = "")
    {
        var request = $"{method} {target} HTTP/1.1\r\n" + (host is null ? string.Empty : $"Host: {host}\r\n") + extraHeaders + "\r\n";
        return await SendRawAsync(request, method);
    }

    /// <summary>Sends <paramref name="request"/> exactly (one Latin-1 byte per char) and reads one response to it.</summary>
    public async Task<RawResponse> SendRawAsync(string request, string method = "GET")
    {
        await WriteAsync(request);
        return await ReadResponseAsync(head: method == "HEAD");
    }

    /// <summary>Writes bytes as they are (Latin-1), without reading.</summary>
    public async Task WriteAsync(string data)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _stream.WriteAsync(Encoding.Latin1.GetBytes(data), timeout.Token);
    }

    /// <summary>Reads one response: content-length, chunked, or to the close.</summary>
    public async Task<RawResponse> ReadResponseAsync(bool head = false)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var headText = Encoding.Latin1.GetString([.. await ReadUntilAsync("\r\n\r\n"u8.ToArray(), timeout.Token)]);
        var lines = headText[..^4].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => new KeyValuePair<string, string>(l[..l.IndexOf(':', StringComparison.Ordinal)], l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())).ToList();
        var response = new RawResponse(status, headers, string.Empty);
        var body = new StringBuilder();
        if (head || status is 204 or 304 or < 200)
        {
            return response;
        }
        if (response.Header("content-length") is { } length)
        {
            body.Append(Encoding.Latin1.GetString([.. await ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), timeout.Token)]));
        }
        else if (response.Header("transfer-encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            while (true)
            {
                var sizeLine = Encoding.Latin1.GetString([.. await ReadUntilAsync("\r\n"u8.ToArray(), timeout.Token)]);
                var size = Convert.ToInt32(sizeLine[..^2].Split(';')[0], 16);
                var chunk = await ReadExactlyAsync(size + 2, timeout.Token);
                if (size == 0)
                {
                    break;
                }
                body.Append(Encoding.Latin1.GetString([.. chunk.Take(size)]));
            }
        }
        else
        {
            while (await FillAsync(timeout.Token))
            {
            }
            body.Append(Encoding.Latin1.GetString([.. _buffer]));
            _buffer.Clear();
        }
        return response with { Body = body.ToString() };
    }

    /// <summary>True when the server closes the connection (within 10 s) without sending anything more.</summary>
    public async Task<bool> ClosedByServerAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            return _buffer.Count == 0 && !await FillAsync(timeout.Token);
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>True when the server closes the connection within <paramref name="wait"/>, false when it is still open then.</summary>
    public async Task<bool> ClosedByServerWithinAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return _buffer.Count == 0 && !await FillAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> FillAsync(CancellationToken token)
    {
        var chunk = new byte[4096];
        var read = await _stream.ReadAsync(chunk, token);
        _buffer.AddRange(chunk.AsSpan(0, read));
        return read > 0;
    }

    private async Task<List<byte>> ReadUntilAsync(byte[] terminator, CancellationToken token)
    {
        while (true)
        {
            var at = _buffer.Count < terminator.Length ? -1 : IndexOfInBuffer(terminator);
            if (at >= 0)
            {
                var taken = _buffer.GetRange(0, at + terminator.Length);
                _buffer.RemoveRange(0, at + terminator.Length);
                return taken;
            }
            if (!await FillAsync(token))
            {
                throw new IOException($"connection closed before '{Encoding.ASCII.GetString(terminator)}'; received '{Encoding.Latin1.GetString([.. _buffer])}'");
            }
        }
    }

    private int IndexOfInBuffer(byte[] terminator)
        => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_buffer).IndexOf(terminator);

    private async Task<List<byte>> ReadExactlyAsync(int count, CancellationToken token)
    {
        while (_buffer.Count < count)
        {
            if (!await FillAsync(token))
            {
                throw new IOException("connection closed in the middle of a body");
            }
        }
        var taken = _buffer.GetRange(0, count);
        _buffer.RemoveRange(0, count);
        return taken;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return default;
    }
}
