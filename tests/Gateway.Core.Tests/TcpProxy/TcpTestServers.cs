using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.TcpProxy;

/// <summary>
/// A raw TCP server on 127.0.0.1 for the TCP proxy tests; each accepted connection runs <c>serve</c> on its stream and
/// is closed when it returns. Stopped (and its connections closed) on dispose.
/// </summary>
internal sealed class TcpTestServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<NetworkStream, Socket, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    private TcpTestServer(Func<NetworkStream, Socket, CancellationToken, Task> serve)
    {
        _serve = serve;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Echoes every byte until the client's FIN, then ends its side too.</summary>
    public static TcpTestServer Echo() => new(static async (stream, socket, token) =>
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), token);
        }
        socket.Shutdown(SocketShutdown.Send);
    });

    /// <summary>TLS with <paramref name="certificate"/>, then an echo until the client's close_notify or FIN.</summary>
    public static TcpTestServer TlsEcho(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) => new(async (stream, _, token) =>
    {
        await using var ssl = new System.Net.Security.SslStream(stream, leaveInnerStreamOpen: true);
        await ssl.AuthenticateAsServerAsync(new System.Net.Security.SslServerAuthenticationOptions { ServerCertificate = certificate }, token);
        var buffer = new byte[4096];
        int read;
        while ((read = await ssl.ReadAsync(buffer, token)) > 0)
        {
            await ssl.WriteAsync(buffer.AsMemory(0, read), token);
        }
    });

    /// <summary>
    /// An HTTP/1.1 CONNECT terminator (Kestrel cannot terminate one): reads a request head, records it in
    /// <paramref name="heads"/>, answers <paramref name="response"/> (a whole response head), then, for a 2xx, echoes as
    /// <see cref="Echo"/> does; otherwise closes.
    /// </summary>
    public static TcpTestServer Http1ConnectTerminator(System.Collections.Concurrent.ConcurrentQueue<string> heads, string response = "HTTP/1.1 200 Connection established\r\n\r\n") => new(async (stream, socket, token) =>
    {
        var head = new List<byte>();
        var one = new byte[1];
        // Byte by byte, bounded: nothing past the head is consumed.
        while (head.Count < 16 * 1024 && !(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, token) == 0)
            {
                return;
            }
            head.Add(one[0]);
        }
        heads.Enqueue(Encoding.Latin1.GetString(head.ToArray()));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), token);
        if (!response.StartsWith("HTTP/1.1 2", StringComparison.Ordinal))
        {
            socket.Shutdown(SocketShutdown.Both);
            return;
        }
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), token);
        }
        socket.Shutdown(SocketShutdown.Send);
    });

    /// <summary>Writes <paramref name="name"/> and closes: which host a connection reached.</summary>
    public static TcpTestServer Named(string name) => new(async (stream, _, token) => await stream.WriteAsync(Encoding.ASCII.GetBytes(name), token));

    /// <summary>
    /// A Redis-like line protocol: <c>PING</c> → <c>+PONG</c>, <c>SET k v</c> → <c>+OK</c>, <c>GET k</c> → a bulk string
    /// (<c>$-1</c> when unset), <c>QUIT</c> → <c>+OK</c> and the server closes; anything else → <c>-ERR unknown command</c>.
    /// </summary>
    public static TcpTestServer RedisLike() => new(static async (stream, _, token) =>
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        while (await reader.ReadLineAsync(token) is { } line)
        {
            var parts = line.Split(' ');
            var reply = parts[0].ToUpperInvariant() switch
            {
                "PING" => "+PONG\r\n",
                "SET" when parts.Length == 3 => Set(values, parts[1], parts[2]),
                "GET" when parts.Length == 2 => values.TryGetValue(parts[1], out var value) ? $"${value.Length}\r\n{value}\r\n" : "$-1\r\n",
                "QUIT" => "+OK\r\n",
                _ => "-ERR unknown command\r\n",
            };
            await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), token);
            if (parts[0].Equals("QUIT", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }
    });

    private static string Set(Dictionary<string, string> values, string key, string value)
    {
        values[key] = value;
        return "+OK\r\n";
    }

    /// <summary>A port nothing listens on (bound, then released): connecting to it is refused.</summary>
    public static int DeadPort()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                connections.Add(ServeAsync(socket));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            try
            {
                await _serve(stream, socket, _stop.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // The client (the gateway) went away.
            }
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

/// <summary>A client connection to a listener, with line and to-the-end reads bounded by a timeout.</summary>
internal sealed class TcpTestClient : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private TcpTestClient(Socket socket, Stream stream)
    {
        Socket = socket;
        Stream = stream;
    }

    public Socket Socket { get; }

    public Stream Stream { get; }

    public static async Task<TcpTestClient> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return new TcpTestClient(socket, new NetworkStream(socket, ownsSocket: true));
    }

    /// <summary>Over TLS to the listener with <paramref name="serverName"/> as the SNI (any certificate accepted).</summary>
    public static async Task<TcpTestClient> ConnectTlsAsync(int port, string serverName)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var ssl = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false, static (_, certificate, _, _) => certificate is not null);
        await ssl.AuthenticateAsClientAsync(serverName);
        return new TcpTestClient(socket, ssl);
    }

    public Task WriteAsync(string text) => Stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    /// <summary>Reads exactly <paramref name="length"/> bytes.</summary>
    public async Task<string> ReadAsync(int length)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[length];
        await Stream.ReadExactlyAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Everything until the proxy ends the connection (its FIN, or a reset: what came before it).</summary>
    public async Task<string> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(Bound);
        var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await Stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset: the proxy closed without flushing (idle timeout, maximum duration).
        }
        return Encoding.ASCII.GetString(output.ToArray());
    }

    /// <summary>Our side is done (FIN); we can still read.</summary>
    public void ShutdownSend() => Socket.Shutdown(SocketShutdown.Send);

    /// <summary>
    /// Through a proxy to an echo on <paramref name="port"/>: "hello " comes back, then "world" sent and our FIN, which
    /// reaches the upstream (half-close): what it still sends comes back, then its end ends the connection (11 bytes each way).
    /// </summary>
    public static async Task EchoWithHalfCloseAsync(int port)
    {
        await using var client = await ConnectAsync(port);
        await client.WriteAsync("hello ");
        Assert.Equal("hello ", await client.ReadAsync(6));
        await client.WriteAsync("world");
        client.ShutdownSend();
        Assert.Equal("world", await client.ReadToEndAsync());
    }

    public async ValueTask DisposeAsync() => await Stream.DisposeAsync();
}
