using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's <c>drain_timeout</c> after <c>max_connection_duration</c> (Envoy's startDrainSequence, on a
/// fake clock): a drained connection keeps serving for the drain time, an HTTP/1 request then gets
/// <c>connection: close</c> and ends it, and when the time runs out an idle HTTP/1 connection closes and an HTTP/2
/// one gets its GOAWAY.
/// </summary>
public class DrainTimeoutTests
{
    private static string Yaml(EchoUpstream upstream, string drainTimeout, string codec = "")
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: codec + "delayed_close_timeout: 0s\n" + drainTimeout
            + "common_http_protocol_options: { max_connection_duration: 60s }");

    private static async Task<(InProcessGateway Gateway, FakeTimeProvider Time)> StartAsync(string yaml)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        return (await InProcessGateway.StartAsync(yaml, services => services.AddSingleton<TimeProvider>(time)), time);
    }

    [Fact]
    public async Task Drain_Http1RequestDuringTheDrain_ServedWithConnectionCloseThenClosed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(Yaml(upstream, "drain_timeout: 10s\n"));
        await using var _ = gateway;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        Assert.False((await connection.SendAsync("/")).ClosesConnection);

        time.Advance(TimeSpan.FromSeconds(61));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_duration_reached", 1);
        Assert.False(await connection.ClosedByServerWithinAsync(TimeSpan.FromMilliseconds(300)));
        var during = await connection.SendAsync("/");

        Assert.Equal(200, during.Status);
        Assert.True(during.ClosesConnection);
        Assert.True(await connection.ClosedByServerAsync());
    }

    [Fact]
    public async Task Drain_Http1IdleUntilTheDrainEnds_Closed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(Yaml(upstream, "drain_timeout: 10s\n"));
        await using var _ = gateway;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        await connection.SendAsync("/");

        time.Advance(TimeSpan.FromSeconds(61));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_duration_reached", 1);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(await connection.ClosedByServerWithinAsync(TimeSpan.FromMilliseconds(300)));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await connection.ClosedByServerAsync());
    }

    [Fact]
    public async Task Drain_TimeoutZero_IdleConnectionClosedAtOnce()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(Yaml(upstream, "drain_timeout: 0s\n"));
        await using var _ = gateway;
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        await connection.SendAsync("/");

        time.Advance(TimeSpan.FromSeconds(61));

        Assert.True(await connection.ClosedByServerAsync());
    }

    [Fact]
    public async Task Drain_Http2_StreamsServedUntilTheDrainEndsThenGoAway()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(Yaml(upstream, "drain_timeout: 10s\n", codec: "codec_type: HTTP2\n"));
        await using var _ = gateway;
        await using var client = await RawHttp2.ConnectAsync("127.0.0.1", gateway.ListenerUri("/").Port);
        await client.SendHeadersAsync(1, Get(), endStream: true);
        Assert.Equal(200, await client.ReadResponseStatusAsync(1));
        Assert.True(await client.ReadUntilEndStreamAsync(1));

        time.Advance(TimeSpan.FromSeconds(61));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_duration_reached", 1);
        Assert.Null(await client.ReadGoAwayAsync(TimeSpan.FromMilliseconds(300)));
        await client.SendHeadersAsync(3, Get(), endStream: true);
        Assert.Equal(200, await client.ReadResponseStatusAsync(3));
        Assert.True(await client.ReadUntilEndStreamAsync(3));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(3, await client.ReadGoAwayAsync(TimeSpan.FromSeconds(10)));
    }

    private static (string, string)[] Get() => [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "gateway.test")];
}
