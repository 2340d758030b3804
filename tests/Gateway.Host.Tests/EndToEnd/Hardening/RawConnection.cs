using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>One response read off the wire: the status line as sent, the headers and the body.</summary>
public sealed record RawResponse(int Status, string StatusLine, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body)
{
    public string? Header(string name)
    {
        foreach (var (n, v) in Headers)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }
        return null;
    }
}

/// <summary>
/// A plain TCP client for 127.0.0.1 that writes exactly the bytes it is given (no HttpClient normalising anything)
/// and reads HTTP/1.1 responses: the status line, headers and a body framed by Content-Length, chunked or close.
/// Every read has a deadline.
/// </summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    private RawConnection(Socket socket)
    {
        _socket = socket;
    }

    public static async Task<RawConnection> OpenAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawConnection(socket);
    }

    /// <summary>Writes the bytes in one send call (the kernel may still split them; the server must not care).</summary>
    public async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    public Task SendAsync(string latin1) => SendAsync(Encoding.Latin1.GetBytes(latin1));

    /// <summary>
    /// The next response, or null when the server closed (FIN or RST) before its first byte. Throws
    /// <see cref="TimeoutException"/> when nothing complete arrives in time.
    /// </summary>
    public async Task<RawResponse?> ReadResponseAsync(TimeSpan timeout, bool headRequest = false)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var statusLine = await ReadLineAsync(cts.Token);
            if (statusLine is null)
            {
                return null;
            }
            if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal)
                || !int.TryParse(statusLine.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                throw new InvalidDataException($"not an HTTP/1.x status line: '{statusLine}'");
            }
            var headers = new List<(string, string)>();
            while (true)
            {
                var line = await ReadLineAsync(cts.Token) ?? throw new InvalidDataException($"closed inside the headers of '{statusLine}'");
                if (line.Length == 0)
                {
                    break;
                }
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add((line[..colon], line[(colon + 1)..].Trim()));
            }
            var response = new RawResponse(status, statusLine, headers, []);
            if (headRequest || status is < 200 or 204 or 304)
            {
                return response;
            }
            var body = new MemoryStream();
            if (response.Header("content-length") is { } length)
            {
                await ReadExactlyAsync(body, long.Parse(length, CultureInfo.InvariantCulture), cts.Token);
            }
            else if (response.Header("transfer-encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                while (true)
                {
                    var sizeLine = await ReadLineAsync(cts.Token) ?? throw new InvalidDataException("closed inside a chunked body");
                    var size = long.Parse(sizeLine.Split(';')[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                    if (size == 0)
                    {
                        while (await ReadLineAsync(cts.Token) is { Length: > 0 })
                        {
                        }
                        break;
                    }
                    await ReadExactlyAsync(body, size, cts.Token);
                    await ReadLineAsync(cts.Token);
                }
            }
            else
            {
                while (await FillAsync(cts.Token))
                {
                    body.Write(_buffer, _start, _end - _start);
                    _start = _end;
                }
            }
            return response with { Body = body.ToArray() };
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no complete response within {timeout.TotalSeconds} s");
        }
    }

    /// <summary>True when the server closes the connection (FIN or RST) within the time and sends nothing more.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (_start < _end)
            {
                return false;
            }
            return !await FillAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string?> ReadLineAsync(CancellationToken token)
    {
        var line = new StringBuilder();
        var any = false;
        while (true)
        {
            if (_start == _end && !await FillAsync(token))
            {
                return any ? throw new InvalidDataException($"closed inside a line '{line}'") : null;
            }
            while (_start < _end)
            {
                any = true;
                var b = _buffer[_start++];
                if (b == '\n')
                {
                    if (line.Length > 0 && line[^1] == '\r')
                    {
                        line.Length--;
                    }
                    return line.ToString();
                }
                line.Append((char)b);
            }
        }
    }

    private async Task ReadExactlyAsync(MemoryStream body, long count, CancellationToken token)
    {
        while (count > 0)
        {
            if (_start == _end && !await FillAsync(token))
            {
                throw new InvalidDataException($"closed with {count} body bytes missing");
            }
            var take = (int)Math.Min(count, _end - _start);
            body.Write(_buffer, _start, take);
            _start += take;
            count -= take;
        }
    }

    /// <summary>Reads more bytes; false at EOF or a reset (both mean the server closed).</summary>
    private async Task<bool> FillAsync(CancellationToken token)
    {
        if (_eof)
        {
            return false;
        }
        try
        {
            _start = 0;
            _end = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, token);
        }
        catch (SocketException)
        {
            _end = 0;
        }
        _eof = _end == 0;
        return !_eof;
    }
}
