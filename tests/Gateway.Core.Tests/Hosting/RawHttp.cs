using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Hosting;

/// <summary>
/// An HTTP/1.1 upstream on raw sockets: records the exact bytes of every request head it receives and
/// answers each with fixed response bytes (which must carry their own Content-Length).
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly byte[] _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private RawUpstream(TcpListener listener, byte[] response)
    {
        _listener = listener;
        _response = response;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every request head received (request line to the blank line), in arrival order.</summary>
    public ConcurrentQueue<byte[]> Heads { get; } = new();

    public static RawUpstream Start(byte[]? response = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new RawUpstream(listener, response ?? "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"u8.ToArray());
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = ServeAsync(socket);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        try
        {
            while (true)
            {
                int end;
                while ((end = RawHttp.HeadEnd(buffer)) < 0)
                {
                    var read = await socket.ReceiveAsync(chunk, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                var head = buffer.GetRange(0, end).ToArray();
                var total = end + RawHttp.ContentLength(head);
                while (buffer.Count < total)
                {
                    var read = await socket.ReceiveAsync(chunk, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                buffer.RemoveRange(0, total);
                Heads.Enqueue(head);
                await socket.SendAsync(_response, _stop.Token);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>A raw-socket HTTP/1.1 client: sends bytes as given and returns the bytes the server answered.</summary>
internal static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> on a new connection and reads one response (head and Content-Length body, or until close).</summary>
    public static async Task<byte[]> SendAsync(int port, byte[] request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await socket.SendAsync(request, timeout.Token);
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        while (true)
        {
            var end = HeadEnd(buffer);
            if (end >= 0 && buffer.Count >= end + ContentLength(buffer.GetRange(0, end).ToArray()))
            {
                return buffer.ToArray();
            }
            var read = await socket.ReceiveAsync(chunk, timeout.Token);
            if (read == 0)
            {
                return buffer.ToArray();
            }
            buffer.AddRange(chunk.AsSpan(0, read));
        }
    }

    /// <summary>Latin-1: one char per byte, for building and reading raw messages.</summary>
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The status code of a raw response.</summary>
    public static int Status(byte[] response) => int.Parse(Text(response).AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The offset just past the head's blank line, or -1.</summary>
    internal static int HeadEnd(List<byte> buffer)
    {
        for (var i = 3; i < buffer.Count; i++)
        {
            if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r')
            {
                return i + 1;
            }
        }
        return -1;
    }

    internal static int ContentLength(byte[] head)
    {
        foreach (var line in Text(head).Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }
}
