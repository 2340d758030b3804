using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.TcpProxy;

namespace Gateway.Tests.Listeners;

/// <summary>
/// <c>envoy.filters.network.connection_limit</c> before a chain's terminal filter (the HTTP connection manager or
/// tcp_proxy), over real sockets: connections beyond <c>max_connections</c> are closed and counted.
/// </summary>
public sealed class ConnectionLimitTests
{
    private const string Limit = """
        - name: envoy.filters.network.connection_limit
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit
            stat_prefix: limited
            max_connections: 1
        """;

    /// <summary>The listener's chain with the limit before its connection manager.</summary>
    private static string HttpYaml(EchoUpstream upstream, string limit = Limit) => ChainWith(upstream.Port, limit);

    /// <summary>The one-listener bootstrap with <paramref name="filters"/> (flush-left YAML) before its connection manager.</summary>
    internal static string ChainWith(int upstreamPort, string filters)
        => ListenerYaml.Build(upstreamPort, string.Empty).Replace("    - filters:\n", "    - filters:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(filters), 6) + "\n", StringComparison.Ordinal);

    [Fact]
    public async Task Http_SecondConnectionBeyondTheLimit_ClosedAndCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = HttpYaml(upstream);
        Assert.Contains("connection_limit", yaml, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var port = gateway.ListenerUri("/").Port;

        await using var first = await RawConnection.OpenAsync(port);
        var ok = await first.SendAsync("/one");
        await gateway.AssertStatAsync("connection_limit.limited.active_connections", 1);
        using var second = new TcpClient();
        await second.ConnectAsync(IPAddress.Loopback, port);
        var closed = await ReadsEndAsync(second);

        Assert.Equal(200, ok.Status);
        Assert.True(closed);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("connection_limit.limited.limited_connections", 1);
        await gateway.AssertStatAsync("connection_limit.limited.active_connections", 1);
        // Envoy counts the refused connection in the connection manager's connection stats too.
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_total", 2);
    }

    [Fact]
    public async Task Http_FirstConnectionCloses_TheNextIsAdmitted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(HttpYaml(upstream));
        var port = gateway.ListenerUri("/").Port;

        await using (var first = await RawConnection.OpenAsync(port))
        {
            Assert.Equal(200, (await first.SendAsync("/one")).Status);
        }
        await gateway.AssertStatAsync("connection_limit.limited.active_connections", 0);
        var second = await RawHttpClient.SendAsync(port, "/two");

        Assert.Equal(200, second.Status);
        await gateway.AssertStatAsync("connection_limit.limited.limited_connections", 0);
    }

    [Fact]
    public async Task TcpProxy_SecondConnectionBeyondTheLimit_ClosedBeforeItReachesTheUpstream()
    {
        await using var echo = TcpTestServer.Echo();
        var yaml = ListenerYaml.Build(1, string.Empty);
        var start = yaml.IndexOf("    - filters:\n", StringComparison.Ordinal);
        var end = yaml.IndexOf("  clusters:", StringComparison.Ordinal);
        yaml = yaml[..start] + "    - filters:\n" + ListenerYaml.Indent(ListenerYaml.Dedent(Limit), 6) + "\n" + ListenerYaml.Indent(ListenerYaml.Dedent($$"""
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: tcp
                cluster: tcp
            """), 6) + "\n" + yaml[end..] + ListenerYaml.Indent(ListenerYaml.Dedent($$"""
            - name: tcp
              type: STATIC
              load_assignment:
                cluster_name: tcp
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{echo.Port}} } } }
            """), 2) + "\n";
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var port = gateway.ListenerUri("/").Port;

        await using var first = await TcpTestClient.ConnectAsync(port);
        await first.WriteAsync("ping");
        Assert.Equal("ping", await first.ReadAsync(4));
        using var second = new TcpClient();
        await second.ConnectAsync(IPAddress.Loopback, port);

        Assert.True(await ReadsEndAsync(second));
        Assert.Equal(1, echo.Accepted);
        await gateway.AssertStatAsync("connection_limit.limited.limited_connections", 1);
    }

    [Theory]
    [InlineData("stat_prefix: \"\"", ".stat_prefix", "ConnectionLimitValidationError.StatPrefix: value length must be at least 1 characters")]
    [InlineData("max_connections: 0", ".max_connections", "ConnectionLimitValidationError.MaxConnections: value must be greater than or equal to 1")]
    public void Load_InvalidConnectionLimit_ErrorAtTheField(string field, string path, string message)
    {
        var limit = Limit.Replace(field.StartsWith("stat", StringComparison.Ordinal) ? "stat_prefix: limited" : "max_connections: 1", field, StringComparison.Ordinal);
        var yaml = ChainWith(1, limit);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("filters[0].typed_config" + path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConnectionLimitLast_EnvoysNonTerminalError()
    {
        var yaml = ListenerYaml.Build(1, string.Empty);
        var hcm = yaml.IndexOf("      - name: envoy.filters.network.http_connection_manager", StringComparison.Ordinal);
        var route = yaml.IndexOf("  clusters:", StringComparison.Ordinal);
        // The chain's filters: the connection manager, then the limit.
        yaml = yaml[..route].TrimEnd('\n', ' ') + "\n" + ListenerYaml.Indent(ListenerYaml.Dedent(Limit), 6) + "\n" + yaml[route..];
        Assert.True(hcm > 0);

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        Assert.Contains(errors, e => e.Message == "Error: non-terminal filter named envoy.filters.network.connection_limit of type envoy.filters.network.connection_limit is the last filter in a network filter chain.");
    }

    /// <summary>Whether the server ends the connection (FIN or reset) within 10 s, without sending anything.</summary>
    internal static async Task<bool> ReadsEndAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var read = await client.GetStream().ReadAsync(new byte[16], timeout.Token);
            return read == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
