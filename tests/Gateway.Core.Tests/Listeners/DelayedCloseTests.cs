using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's <c>delayed_close_timeout</c> (Envoy's FlushWriteAndDelay): a connection the gateway
/// closes waits for the client's FIN, up to the timeout (fake clock), counting
/// <c>downstream_cx_delayed_close_timeout</c> when it runs out, also after Kestrel's own 400 to a malformed request.
/// </summary>
public class DelayedCloseTests
{
    private static string Yaml(EchoUpstream upstream, string options)
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: options);

    [Fact]
    public async Task Close_ClientStaysOpen_ClosedAtTimeoutAndCounted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "delayed_close_timeout: 2s"), services => services.AddSingleton<TimeProvider>(time));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendAsync("/", extraHeaders: "Connection: close\r\n");

        Assert.Equal(200, response.Status);
        Assert.True(response.ClosesConnection);
        // The socket stays open while the clock stands still: the gateway waits for the client to close.
        Assert.False(await connection.ClosedByServerWithinAsync(TimeSpan.FromMilliseconds(300)));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_delayed_close_timeout", 0);
        Assert.True(await AdvanceUntilClosedAsync(time, connection, TimeSpan.FromSeconds(2)));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_delayed_close_timeout", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_destroy_local", 1);
    }

    [Fact]
    public async Task Close_ClientClosesFirst_ClosedByClientAndNotCounted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, string.Empty), services => services.AddSingleton<TimeProvider>(time));
        var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendAsync("/", extraHeaders: "Connection: close\r\n");
        await connection.DisposeAsync();

        Assert.Equal(200, response.Status);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_destroy_remote", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_delayed_close_timeout", 0);
    }

    [Fact]
    public async Task Close_TimeoutZero_ClosedAtOnce()
    {
        // The clock never moves: only a connection closed without waiting can be seen closed.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "delayed_close_timeout: 0s"), services => services.AddSingleton<TimeProvider>(time));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        var response = await connection.SendAsync("/", extraHeaders: "Connection: close\r\n");

        Assert.Equal(200, response.Status);
        Assert.True(await connection.ClosedByServerAsync());
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_delayed_close_timeout", 0);
    }

    [Fact]
    public async Task BadRequest_BodyStillArriving_400ThenClosedAtTimeoutAndCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "delayed_close_timeout: 0.2s"));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, gateway.ListenerUri("/").Port);
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // Two content-lengths: Kestrel's codec answers 400 and ends the connection with the announced body still arriving;
        // the delayed close reads it away and, the client never closing, closes at the timeout.
        await stream.WriteAsync("POST / HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 262144\r\nContent-Length: 5\r\n\r\n"u8.ToArray(), timeout.Token);
        var junk = new byte[16 * 1024];
        for (var i = 0; i < 16; i++)
        {
            await stream.WriteAsync(junk, timeout.Token);
        }
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        Assert.StartsWith("HTTP/1.1 400 ", Encoding.Latin1.GetString(received.ToArray()), StringComparison.Ordinal);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_delayed_close_timeout", 1);
    }

    [Theory]
    [InlineData("delayed_close_timeout")]
    [InlineData("drain_timeout")]
    public void Load_ConnectionEndTimeoutNegative_FailsNamingTheField(string field)
    {
        var yaml = ListenerYaml.Build(8080, string.Empty, connectionManager: field + ": -1s");

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith(field, error.Location.Path, StringComparison.Ordinal);
        Assert.Contains($"'{field}' may not be negative", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Moves the clock by <paramref name="step"/> until the server closes (the linger's timer starts once the response is out).</summary>
    private static async Task<bool> AdvanceUntilClosedAsync(FakeTimeProvider time, RawConnection connection, TimeSpan step)
    {
        for (var i = 0; i < 50; i++)
        {
            time.Advance(step);
            if (await connection.ClosedByServerWithinAsync(TimeSpan.FromMilliseconds(100)))
            {
                return true;
            }
        }
        return false;
    }
}
