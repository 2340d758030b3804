using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Clusters.HealthChecking.HealthCheckTestConfig;

namespace Gateway.Tests.Clusters.HealthChecking;

public class TcpHealthCheckIntegrationTests
{
    /// <summary>"ping" / "pong" in hex.</summary>
    private const string PingPong = """
                send: { text: "70696e67" }
                receive: [{ text: "706f6e67" }]
        """;

    /// <summary>A <c>tcp_health_check</c> block (list item under <c>health_checks</c>).</summary>
    private static string TcpCheck(string tcp = "", string timeout = "1s", int unhealthyThreshold = 2, int healthyThreshold = 1, string extra = "")
        => $$"""
            - timeout: {{timeout}}
              interval: 0.1s
              no_traffic_interval: 0.1s
              unhealthy_threshold: {{unhealthyThreshold}}
              healthy_threshold: {{healthyThreshold}}
        {{extra}}
              tcp_health_check:
        {{(tcp.Length == 0 ? "        {}" : tcp)}}
        """.Replace("tcp_health_check:\n        {}", "tcp_health_check: {}", StringComparison.Ordinal);

    private static HealthCheckStats StatsOf(InProcessGateway gateway)
        => gateway.Services.GetRequiredService<HealthCheckService>().CheckerFor("backend")!.Stats;

    [Fact]
    public async Task ConnectOnly_ListeningHostAndDeadPort_ListeningHealthyDeadFailedAfterThreshold()
    {
        await using var good = await HealthUpstream.StartAsync("good");
        var deadPort = HealthUpstream.DeadPort();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([good.Port, deadPort], TcpCheck(unhealthyThreshold: 2)));

        await WaitForFlagsAsync(gateway, deadPort, "/failed_active_hc");
        await WaitForFlagsAsync(gateway, good.Port, "healthy");
        var stats = StatsOf(gateway);
        await WaitUntilAsync(() => Task.FromResult(stats.NetworkFailure.Value >= 2 && stats.Success.Value >= 2), "network failures and successes are counted");
        var results = stats.Success.Value + stats.Failure.Value;
        Assert.True(stats.Attempt.Value >= results, $"{stats.Attempt.Value} attempts for {results} results");
        // Every failure was the dead port's (attempt counted before the result, failure before network_failure).
        var networkFailures = stats.NetworkFailure.Value;
        Assert.True(stats.Failure.Value >= networkFailures && networkFailures >= 2, $"{stats.Failure.Value} failures, {networkFailures} network failures");
        // Connect-only checks never send anything, so the HTTP upstream saw no health requests.
        Assert.Empty(good.HealthRequests);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("good", await gateway.Client.GetStringAsync(gateway.ListenerUri("/x")));
        }
    }

    [Fact]
    public async Task ConnectOnly_HealthyHostStopsListening_FailsAfterUnhealthyThreshold()
    {
        var server = TcpHealthServer.Start(reply: null);
        var port = server.Port;
        await using var gateway = await InProcessGateway.StartAsync(Yaml([port], TcpCheck(unhealthyThreshold: 3)));
        await WaitForFlagsAsync(gateway, port, "healthy");
        var stats = StatsOf(gateway);
        var networkBefore = stats.NetworkFailure.Value;

        await server.DisposeAsync();

        await WaitForFlagsAsync(gateway, port, "/failed_active_hc");
        Assert.True(stats.NetworkFailure.Value - networkBefore >= 3, $"{stats.NetworkFailure.Value - networkBefore} network failures before the host failed");
    }

    [Fact]
    public async Task SendReceive_ServerAnswersPong_HostHealthyOverOneReusedConnection()
    {
        await using var server = TcpHealthServer.Start(reply: "pong");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([server.Port], TcpCheck(PingPong)));

        await WaitForFlagsAsync(gateway, server.Port, "healthy");
        var stats = StatsOf(gateway);
        await WaitUntilAsync(() => Task.FromResult(stats.Success.Value >= 3), "three passing checks");

        Assert.Equal(0, stats.Failure.Value);
        Assert.True(server.Pings >= 3, $"{server.Pings} pings");
        // reuse_connection (default true): every check went over the first connection.
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task SendReceive_ReuseConnectionFalse_NewConnectionPerCheck()
    {
        await using var server = TcpHealthServer.Start(reply: "pong");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([server.Port], TcpCheck(PingPong, extra: "      reuse_connection: false")));

        var stats = StatsOf(gateway);
        await WaitUntilAsync(() => Task.FromResult(stats.Success.Value >= 3), "three passing checks");

        Assert.True(server.Connections >= 3, $"{server.Connections} connections");
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, server.Port));
    }

    [Fact]
    public async Task SendReceive_ServerClosesAfterPong_KeptConnectionIsReopenedAndHostStaysHealthy()
    {
        await using var server = TcpHealthServer.Start(reply: "pong", closeAfterReply: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml([server.Port], TcpCheck(PingPong, unhealthyThreshold: 1)));

        var stats = StatsOf(gateway);
        await WaitUntilAsync(() => Task.FromResult(stats.Success.Value >= 3), "three passing checks");

        Assert.Equal(0, stats.Failure.Value);
        Assert.Equal("healthy", await HealthFlagsAsync(gateway, server.Port));
    }

    [Fact]
    public async Task SendReceive_ServerAnswersOtherBytesAndCloses_NetworkFailureMarksHostFailed()
    {
        await using var good = TcpHealthServer.Start(reply: "pong");
        await using var bad = TcpHealthServer.Start(reply: "nope", closeAfterReply: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml([good.Port, bad.Port], TcpCheck(PingPong, unhealthyThreshold: 2)));

        await WaitForFlagsAsync(gateway, bad.Port, "/failed_active_hc");
        await WaitForFlagsAsync(gateway, good.Port, "healthy");
        var stats = StatsOf(gateway);
        await WaitUntilAsync(() => Task.FromResult(stats.NetworkFailure.Value >= 2), "mismatches are counted as network failures");
        Assert.True(bad.Pings >= 2, $"{bad.Pings} pings");
        await gateway.AssertStatAsync("cluster.backend.health_check.healthy", 1);
    }

    [Fact]
    public async Task SendReceive_ServerAnswersOtherBytesAndStaysOpen_TimesOutWithActiveHcTimeout()
    {
        await using var server = TcpHealthServer.Start(reply: "nope");
        await using var gateway = await InProcessGateway.StartAsync(Yaml([server.Port], TcpCheck(PingPong, timeout: "0.2s", unhealthyThreshold: 1)));

        await WaitForFlagsAsync(gateway, server.Port, "/failed_active_hc/active_hc_timeout");
        var stats = StatsOf(gateway);
        Assert.True(stats.NetworkFailure.Value >= 1);
        Assert.Equal(0, stats.Success.Value);
        // A timed-out check drops its connection; the next check connects again.
        await WaitUntilAsync(() => Task.FromResult(server.Connections >= 2), "a new connection after the timeout");
    }

    [Fact]
    public async Task SendReceive_ServerStartsAnsweringPong_HostReturnsAfterHealthyThreshold()
    {
        await using var server = TcpHealthServer.Start(reply: "nope", closeAfterReply: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml([server.Port], TcpCheck(PingPong, unhealthyThreshold: 1, healthyThreshold: 3)));
        await WaitForFlagsAsync(gateway, server.Port, "/failed_active_hc");
        var stats = StatsOf(gateway);
        var successesBefore = stats.Success.Value;

        server.Reply = "..pong..";

        await WaitForFlagsAsync(gateway, server.Port, "healthy");
        Assert.True(stats.Success.Value - successesBefore >= 3, $"host returned after {stats.Success.Value - successesBefore} passing checks");
    }
}

/// <summary>
/// A loopback TCP server for the TCP health check tests: for every "ping" received on a connection it
/// writes <see cref="Reply"/> (nothing when null) and, if asked, closes the connection.
/// </summary>
internal sealed class TcpHealthServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _lock = new();
    private readonly bool _closeAfterReply;
    private readonly Task _accept;
    private string? _reply;
    private int _connectionCount;
    private int _pings;

    private TcpHealthServer(string? reply, bool closeAfterReply)
    {
        _reply = reply;
        _closeAfterReply = closeAfterReply;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>Connections accepted.</summary>
    public int Connections => Volatile.Read(ref _connectionCount);

    /// <summary>"ping"s received.</summary>
    public int Pings => Volatile.Read(ref _pings);

    /// <summary>What a "ping" is answered with.</summary>
    public string? Reply
    {
        get => Volatile.Read(ref _reply);
        set => Volatile.Write(ref _reply, value);
    }

    public static TcpHealthServer Start(string? reply, bool closeAfterReply = false) => new(reply, closeAfterReply);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connectionCount);
                lock (_lock)
                {
                    _connections.Add(ServeAsync(client));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var pending = new StringBuilder();
            var buffer = new byte[256];
            while (true)
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }
                pending.Append(Encoding.ASCII.GetString(buffer, 0, read));
                int index;
                while ((index = pending.ToString().IndexOf("ping", StringComparison.Ordinal)) >= 0)
                {
                    pending.Remove(0, index + 4);
                    Interlocked.Increment(ref _pings);
                    if (Reply is { } reply)
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), _stop.Token);
                    }
                    if (_closeAfterReply)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        Task[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
        }
        await Task.WhenAll(connections);
        _listener.Dispose();
        _stop.Dispose();
    }
}
