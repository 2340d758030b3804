using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Envoy's TCP health check (TcpHealthCheckerImpl) over a socket of its own to the host. Connect-only
/// (no receive blocks): passes once connected and closes the connection. Otherwise writes the send
/// bytes and passes once the bytes received contain every receive block in order (Envoy's
/// PayloadMatcher::match); the peer closing before that is a network failure, and a peer that never
/// sends a match runs into the check's timeout. The connection is kept for the next check when
/// <c>reuse_connection</c> is set (and it is still open), closed otherwise and on any failure.
/// </summary>
internal sealed partial class TcpHealthCheckProbe : IHealthCheckProbe
{
    /// <summary>Received bytes kept while looking for the receive blocks; more without a match fails the check.</summary>
    internal const int MaxResponseBytes = 1024 * 1024;

    private readonly TcpHealthCheckPlan _tcp;
    private readonly bool _reuseConnection;
    private readonly EndPoint? _endPoint;
    private readonly ILogger _logger;
    private readonly string _cluster;
    private readonly string _address;
    private Socket? _socket;
    private readonly Func<Gateway.Tls.UpstreamTls?>? _transport;
    private Stream? _stream;
    private byte[] _buffer = [];
    private int _received;

    public TcpHealthCheckProbe(HealthCheckPlan plan, UpstreamHost host, ILogger logger, string cluster, Func<Gateway.Tls.UpstreamTls?>? transport = null)
    {
        // Over the host's transport socket (read per connection), as Envoy's TCP checker: a TLS connection is up once its handshake completed.
        _transport = transport;
        _tcp = plan.Tcp ?? throw new ArgumentException("not a TCP health check", nameof(plan));
        _reuseConnection = plan.ReuseConnection;
        _endPoint = ParseEndPoint(host.Address);
        _logger = logger;
        _cluster = cluster;
        _address = host.Address;
    }

    public async Task<ProbeResult> CheckAsync(CancellationToken token)
    {
        if (_endPoint is null)
        {
            return ProbeResult.NetworkFailure($"'{_address}' is not an address:port");
        }
        try
        {
            if (_socket is { } kept && !StillOpen(kept))
            {
                Log.KeptConnectionClosed(_logger, _cluster, _address);
                Close();
            }
            if (_stream is null)
            {
                var socket = new Socket(_endPoint.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : _endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                {
                    NoDelay = true,
                };
                _socket = socket;
                await socket.ConnectAsync(_endPoint, token).ConfigureAwait(false);
                var network = new NetworkStream(socket, ownsSocket: true);
                var tls = _transport?.Invoke();
                _stream = tls is null ? network : await tls.HandshakeAsync(network, tls.Sni, http2: false, token).ConfigureAwait(false);
                _received = 0;
                if (_tcp.ConnectOnly)
                {
                    // Envoy closes a connect-only check's connection at once (whatever reuse_connection says)
                    // and writes nothing.
                    Close();
                    return ProbeResult.Success;
                }
            }
            var stream = _stream;
            if (_tcp.Send.Length > 0)
            {
                await stream.WriteAsync(_tcp.Send, token).ConfigureAwait(false);
            }
            while (!Matches(_tcp.Receive, _buffer.AsSpan(0, _received)))
            {
                if (_received == _buffer.Length)
                {
                    if (_buffer.Length >= MaxResponseBytes)
                    {
                        Close();
                        return ProbeResult.NetworkFailure($"no match in the first {MaxResponseBytes} bytes received");
                    }
                    Array.Resize(ref _buffer, Math.Clamp(_buffer.Length * 2, 256, MaxResponseBytes));
                }
                var read = await stream.ReadAsync(_buffer.AsMemory(_received), token).ConfigureAwait(false);
                if (read == 0)
                {
                    var received = _received;
                    Close();
                    return ProbeResult.NetworkFailure("connection closed after " + received.ToString(CultureInfo.InvariantCulture) + " bytes without a match");
                }
                _received += read;
            }
            // Envoy drains the buffer on a match.
            _received = 0;
            if (!_reuseConnection)
            {
                Close();
            }
            return ProbeResult.Success;
        }
        catch
        {
            // Timeout, stop or a socket error: the connection is of no further use.
            Close();
            throw;
        }
    }

    /// <summary>
    /// Envoy's PayloadMatcher::match: every block is found in <paramref name="data"/>, each after the end
    /// of the previous one (not necessarily adjacent).
    /// </summary>
    internal static bool Matches(IReadOnlyList<byte[]> blocks, ReadOnlySpan<byte> data)
    {
        var start = 0;
        foreach (var block in blocks)
        {
            var index = data[start..].IndexOf(block);
            if (index < 0)
            {
                return false;
            }
            start += index + block.Length;
        }
        return true;
    }

    public void Dispose() => Close();

    private void Close()
    {
        var stream = _stream;
        var socket = _socket;
        _stream = null;
        _socket = null;
        _received = 0;
        try
        {
            if (stream is not null)
            {
                stream.Dispose();
            }
            else
            {
                socket?.Dispose();
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>False when the peer closed (or reset) the kept connection since the last check.</summary>
    private static bool StillOpen(Socket socket)
    {
        try
        {
            // Readable with nothing to read: the peer closed. Bytes that arrived since are kept for the match, as in Envoy.
            return socket.Connected && !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static EndPoint? ParseEndPoint(string address)
    {
        if (IPEndPoint.TryParse(address, out var ip))
        {
            return ip;
        }
        var colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new DnsEndPoint(address[..colon], port)
            : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.HealthCheckTcp, Level = LogLevel.Debug, Message = "hc tcp: cluster={Cluster} host={Host}: the kept connection was closed by the peer; reconnecting")]
        public static partial void KeptConnectionClosed(ILogger logger, string cluster, string host);
    }
}
