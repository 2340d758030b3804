using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Listeners;

/// <summary>The listener's <c>tcp_backlog_size</c>: Kestrel's socket transport backlog, one for every endpoint.</summary>
public sealed class ListenerBacklogTests
{
    private static string WithBacklog(string yaml, string backlog)
        => ListenerYaml.WithListenerFields(yaml, "tcp_backlog_size: " + backlog);

    [Fact]
    public async Task Start_TcpBacklogSize_IsTheTransportsBacklog()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = WithBacklog(ListenerYaml.Build(upstream.Port, string.Empty), "64");
        Assert.Contains("tcp_backlog_size: 64", yaml, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(64, gateway.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.Backlog);
    }

    [Fact]
    public async Task Start_NoTcpBacklogSize_TheKernelsLimitAsEnvoyOnLinux()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty));

        // listen() caps any larger backlog at net.core.somaxconn, Envoy's default.
        Assert.Equal(int.MaxValue, gateway.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.Backlog);
    }

    [Fact]
    public void Load_TwoListenersWithDifferentBacklogs_FailsAsKestrelHasOne()
    {
        var yaml = WithBacklog(ListenerYaml.Build(1, string.Empty), "64");
        yaml = ListenerYaml.WithSecondListener(yaml, second => second.Replace("tcp_backlog_size: 64", "tcp_backlog_size: 128", StringComparison.Ordinal));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains("'tcp_backlog_size' is 128 here but 64 at", error.Message, StringComparison.Ordinal);
    }
}
