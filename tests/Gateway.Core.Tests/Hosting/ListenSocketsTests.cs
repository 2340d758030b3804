using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Tests.Common;
using Gateway.Translation;

namespace Gateway.Tests.Hosting;

/// <summary>A listener's <c>socket_options</c>, set on the real listening socket around its bind.</summary>
public sealed class ListenSocketsTests
{
    private const int SolSocket = 1;
    private const int SoKeepAlive = 9;
    private const int SoRcvBuf = 8;

    private static string WithSocketOptions(string yaml, string options)
        => ListenerYaml.WithListenerFields(yaml, "socket_options: " + options);

    [Fact]
    public void CreateWithOptions_PrebindAndBound_SetOnTheSocket()
    {
        using var socket = ListenSockets.CreateWithOptions(new IPEndPoint(IPAddress.Loopback, 0),
            [new SocketOptionPlan(SolSocket, SoKeepAlive, 1, Bound: false), new SocketOptionPlan(SolSocket, SoRcvBuf, 65536, Bound: true)]);

        Assert.True(socket.IsBound);
        Assert.Equal(1, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        // Linux doubles SO_RCVBUF for its bookkeeping: at least what was asked.
        Assert.True((int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer)! >= 65536);
    }

    [Fact]
    public void CreateWithOptions_OptionTheKernelRefuses_FailsNamingTheOption()
    {
        var error = Assert.Throws<IOException>(() => ListenSockets.CreateWithOptions(new IPEndPoint(IPAddress.Loopback, 0), [new SocketOptionPlan(SolSocket, 99999, 1, Bound: false)]));

        Assert.StartsWith("socket option (level 1, name 99999, int_value 1) could not be set on the listener's socket", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ListenerWithSocketOptions_ServesAndTheOptionsWereApplied()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = WithSocketOptions(ListenerYaml.Build(upstream.Port, string.Empty), "[{ level: 1, name: 9, int_value: 1 }]");
        Assert.Contains("socket_options", yaml, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Start_ListenerSocketOptionTheKernelRefuses_StartFails()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = WithSocketOptions(ListenerYaml.Build(upstream.Port, string.Empty), "[{ level: 1, name: 99999, int_value: 1 }]");

        // The listener's own socket got the option (the endpoint matched), so its bind failed.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessGateway.StartAsync(yaml));

        Assert.Contains("socket option (level 1, name 99999, int_value 1) could not be set", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[{ level: 1, name: 9, int_value: 1, state: STATE_LISTENING }]", ".state", "STATE_LISTENING is not supported by this gateway")]
    [InlineData("[{ level: 1, name: 9 }]", ".int_value", "SocketOptionValidationError.Value: value is required")]
    [InlineData("[{ level: 1, name: 9, int_value: 4294967296 }]", ".int_value", "does not fit a C int")]
    [InlineData("[{ level: 1, name: 9, buf_value: AQ== }]", ".buf_value", "field 'buf_value' of envoy.config.core.v3.SocketOption is not supported by this gateway yet")]
    public void Load_SocketOptionTheGatewayCannotSet_ErrorAtTheField(string options, string path, string message)
    {
        var yaml = WithSocketOptions(ListenerYaml.Build(1, string.Empty), options);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("listeners[0].socket_options[0]" + path, error.Location.Path, StringComparison.Ordinal);
    }
}
