using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Clusters.LoadBalancing;

namespace Gateway.Clusters;

/// <summary>
/// A raw TCP connection to one host of a cluster, as Envoy's TCP connection pool gives one to the TCP proxy and to the
/// router's CONNECT termination: the host is the cluster's load balancer's pick, the connect runs within the cluster's
/// <c>connect_timeout</c> (then the TLS handshake when the cluster has a transport socket), and it is counted as the HTTP
/// path counts its connections (<c>upstream_cx_*</c>, outlier detection: a failure is LocalOriginConnectFailed or
/// LocalOriginTimeout, a success LocalOriginConnectSuccessFinal).
/// </summary>
internal sealed class TcpUpstreamConnection : ITcpUpstream
{
    private const int StatusOk = 200;

    private readonly Socket _socket;
    private readonly long _opened = Stopwatch.GetTimestamp();
    private int _closed;

    private TcpUpstreamConnection(Socket socket, Stream stream, ClusterRuntime cluster, UpstreamHost host)
    {
        _socket = socket;
        Stream = stream;
        Cluster = cluster;
        Host = host;
    }

    /// <summary>The connection's stream: TLS over the socket when the cluster has it.</summary>
    public Stream Stream { get; }

    public ClusterRuntime Cluster { get; }

    public UpstreamHost Host { get; }

    /// <summary>The upstream ended or reset the connection first (<c>upstream_cx_destroy_remote</c>).</summary>
    public bool RemoteClosed { get; set; }

    /// <summary>False: the socket's bytes are counted by whoever copies them.</summary>
    public bool CountsConnectionBytes => false;

    /// <summary>
    /// Envoy's chooseHost for a connection: the cluster's load balancer with the subset <paramref name="criteria"/> and the
    /// hash (random without one); the first available host while no plan is applied yet. Counts a panic pick.
    /// </summary>
    public static UpstreamHost? PickHost(ClusterRuntime cluster, SubsetCriteria? criteria, ulong? hash)
    {
        WeightedHost? pick;
        switch (cluster.Picker)
        {
            case ISubsetPicker subsets:
                pick = subsets.Pick(criteria, subsets.UsesHash ? hash ?? subsets.RandomHash() : null, 0);
                break;
            case HashingPicker hashing:
                pick = hashing.Pick(hash ?? hashing.RandomHash(), 0);
                break;
            case { } picker:
                pick = picker.Pick(null, 0);
                break;
            default:
                // No plan applied yet for the cluster (a configuration being swapped in): the first available host.
                var available = cluster.ProxyCluster?.DestinationsState.AvailableDestinations;
                return available is { Count: > 0 } ? cluster.Host(available[0]) : null;
        }
        if (pick is { Panic: true })
        {
            cluster.Stats.LbHealthyPanic.Increment();
        }
        return pick?.Host;
    }

    /// <summary>
    /// One connect to <paramref name="host"/>; a failure (null connection) comes with what failed and whether the
    /// connect timeout expired. <paramref name="cancel"/> is the caller's own end (not charged to the host).
    /// </summary>
    public static async ValueTask<(TcpUpstreamConnection? Connection, Exception? Error, bool TimedOut)> ConnectAsync(ClusterRuntime cluster, UpstreamHost host, TimeProvider time, CancellationToken cancel)
    {
        var stats = cluster.Stats;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        UpstreamConnections.Opening(cluster, host);
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(cluster.Plan?.ConnectTimeout ?? Translation.EnvoyTranslator.DefaultConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancel);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(EndPointOf(host.Address), linked.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (cluster.TransportOf(host) is { } tls)
            {
                stream = await tls.HandshakeAsync(stream, tls.ServerNameFor(null), http2: false, linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException or System.Security.Authentication.AuthenticationException)
        {
            if (stream is null)
            {
                socket.Dispose();
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            var timedOut = timeout.IsCancellationRequested;
            UpstreamConnections.ConnectFailed(cluster, host, timedOut);
            if (!cancel.IsCancellationRequested)
            {
                cluster.OutcomeObserver?.OnRequestEnded(host, 0, timedOut);
            }
            return (null, ex, timedOut);
        }
        stats.UpstreamCxConnectMs.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        cluster.OutcomeObserver?.OnRequestEnded(host, StatusOk, timedOut: false);
        return (new TcpUpstreamConnection(socket, stream, cluster, host), null, false);
    }

    /// <summary><c>ip:port</c>, <c>[v6]:port</c> or <c>name:port</c> as an endpoint to connect to.</summary>
    private static EndPoint EndPointOf(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        var host = hostPort.AsSpan(0, colon).Trim("[]");
        var port = int.Parse(hostPort.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        return IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host.ToString(), port);
    }

    /// <summary>The downstream's end passed on: TLS close_notify, then the socket's send side shut.</summary>
    public async ValueTask ShutdownSendAsync()
    {
        if (Stream is System.Net.Security.SslStream ssl)
        {
            await ssl.ShutdownAsync().ConfigureAwait(false);
        }
        _socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Closes the connection, counted once (<c>upstream_cx_destroy*</c>, <c>upstream_cx_length_ms</c>).</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        Stream.Dispose();
        UpstreamConnections.Closed(Cluster, Host, RemoteClosed, _opened);
    }
}
