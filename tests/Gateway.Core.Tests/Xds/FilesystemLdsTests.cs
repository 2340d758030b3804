using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Tests.Clusters.HealthChecking;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Gateway.Tests.Xds;

/// <summary>
/// Envoy's file-based LDS: listeners added, changed and removed while the gateway runs (Kestrel endpoints bound and
/// unbound), a changed listener's connections drained, Envoy's listener manager stats. Real Kestrel.
/// </summary>
public sealed class FilesystemLdsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-lds-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string LdsPath => Path.Combine(_directory, "lds.yaml");

    private string Bootstrap => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        dynamic_resources:
          lds_config: { resource_api_version: V3, path_config_source: { path: {{LdsPath}} } }
        """;

    /// <summary>A listener on 127.0.0.1 (port 0: any) answering every request with <paramref name="body"/>.</summary>
    private static string Listener(string name, string body, int port = 0) => $$"""
          - "@type": type.googleapis.com/envoy.config.listener.v3.Listener
            name: {{name}}
            address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: {{name}}
                  http_filters: [ { name: envoy.filters.http.router } ]
                  route_config:
                    virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: {{body}} } } } ] } ]
        """;

    private static ConfigManager Manager(InProcessGateway gateway) => gateway.Services.GetRequiredService<ConfigManager>();

    /// <summary>Waits until the listener is bound (its port known) and answers; returns its port.</summary>
    private static async Task<int> BoundPortAsync(InProcessGateway gateway, string name, string body)
    {
        var port = 0;
        await HealthCheckTestConfig.WaitUntilAsync(async () =>
        {
            if (gateway.Gateway.ListenerBoundEndPoint(name) is not { Port: > 0 } endPoint)
            {
                return false;
            }
            port = endPoint.Port;
            try
            {
                using var client = new HttpClient();
                return await client.GetStringAsync($"http://127.0.0.1:{port}/") == body;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"listener {name} answers {body}");
        return port;
    }

    [Fact]
    public async Task Lds_ListenersAddedAndRemoved_BoundAndUnboundWhileRunning()
    {
        File.WriteAllText(LdsPath, FilesystemXdsTests.Response("l1", Listener("first", "one")));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap);
        await BoundPortAsync(gateway, "first", "one");
        await gateway.AssertStatAsync("listener_manager.lds.update_success", 1);
        await gateway.AssertStatAsync("listener_manager.listener_added", 1);
        await gateway.AssertStatAsync("listener_manager.total_listeners_active", 1);

        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l2", Listener("first", "one"), Listener("second", "two")));
        var second = await BoundPortAsync(gateway, "second", "two");
        await gateway.AssertStatAsync("listener_manager.listener_added", 2);
        await gateway.AssertStatAsync("listener_manager.total_listeners_active", 2);

        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l3", Listener("first", "one")));
        await gateway.AssertStatAsync("listener_manager.listener_removed", 1);
        await HealthCheckTestConfig.WaitUntilAsync(async () =>
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, second);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }, "the removed listener's port is closed");
        await BoundPortAsync(gateway, "first", "one");
    }

    [Fact]
    public async Task Lds_ListenerChanged_NewConnectionsGetItAndOldOnesDrain()
    {
        File.WriteAllText(LdsPath, FilesystemXdsTests.Response("l1", Listener("first", "one")));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap, services => services.AddSingleton(new DrainOptions { Strategy = DrainStrategy.Immediate }));
        var port = await BoundPortAsync(gateway, "first", "one");
        var connections = 0;
        using var keepAlive = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        Assert.Equal("one", await keepAlive.GetStringAsync($"http://127.0.0.1:{port}/"));
        Assert.Equal("one", await keepAlive.GetStringAsync($"http://127.0.0.1:{port}/"));
        Assert.Equal(1, connections);

        // Same address: the endpoint stays bound, the listener's chains are replaced.
        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l2", Listener("first", "changed")));
        await gateway.AssertStatAsync("listener_manager.listener_modified", 1);
        Assert.Equal(port, await BoundPortAsync(gateway, "first", "changed"));
        await gateway.AssertStatAsync("listener_manager.total_listeners_draining", 1);

        // The idle connection opened before the change was on the old listener: the drain closed it, so the next request
        // opens a new one and gets the new listener.
        Assert.Equal("changed", await keepAlive.GetStringAsync($"http://127.0.0.1:{port}/"));
        Assert.Equal(2, connections);
    }

    [Fact]
    public async Task Lds_ListenerChangedWithAGradualDrain_OldConnectionsCloseWithinTheDrainTime()
    {
        File.WriteAllText(LdsPath, FilesystemXdsTests.Response("l1", Listener("first", "one")));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap, services => services.AddSingleton(new DrainOptions { DrainTime = TimeSpan.FromSeconds(1) }));
        var port = await BoundPortAsync(gateway, "first", "one");
        using var raw = new TcpClient();
        await raw.ConnectAsync(IPAddress.Loopback, port);
        var stream = raw.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        var text = string.Empty;
        using (var read = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (!text.EndsWith("one", StringComparison.Ordinal))
            {
                var count = await stream.ReadAsync(buffer, read.Token);
                Assert.NotEqual(0, count);
                text += System.Text.Encoding.Latin1.GetString(buffer, 0, count);
            }
        }

        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l2", Listener("first", "changed")));
        await gateway.AssertStatAsync("listener_manager.total_listeners_draining", 1);
        // The old listener's idle connection is closed at its moment within the drain time (bounded wait).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // Closed, or reset when the drain time ran out during the connection's delayed close: either way it ended.
        var ended = false;
        try
        {
            ended = await stream.ReadAsync(buffer, timeout.Token) == 0;
        }
        catch (IOException)
        {
            ended = true;
        }
        Assert.True(ended);
        await gateway.AssertStatAsync("listener_manager.total_listeners_draining", 0);
    }

    [Fact]
    public async Task Lds_ListenerRemovedAndDrained_ItsListenerStatsAreDropped()
    {
        // Fixed ports: a listener's stat scope is its configured address (two port-0 listeners would share one).
        var (firstPort, secondPort) = (FreePort(), FreePort());
        File.WriteAllText(LdsPath, FilesystemXdsTests.Response("l1", Listener("first", "one", firstPort), Listener("second", "two", secondPort)));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap, services => services.AddSingleton(new DrainOptions { DrainTime = TimeSpan.Zero }));
        await BoundPortAsync(gateway, "second", "two");
        Assert.Contains($"listener.127.0.0.1_{secondPort}.downstream_cx_total", await gateway.Client.GetStringAsync(gateway.AdminUri("/stats")), StringComparison.Ordinal);

        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l2", Listener("first", "one", firstPort)));
        await gateway.AssertStatAsync("listener_manager.listener_removed", 1);
        await gateway.AssertStatAsync("listener_manager.total_listeners_draining", 0);

        var stats = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats"));
        Assert.DoesNotContain($"listener.127.0.0.1_{secondPort}.", stats, StringComparison.Ordinal);
        // The listener that stays keeps its own.
        Assert.Contains($"listener.127.0.0.1_{firstPort}.downstream_cx_total", stats, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task Lds_OneListenerInvalid_TheOthersApplyAndItsErrorIsInTheConfigDump()
    {
        File.WriteAllText(LdsPath, FilesystemXdsTests.Response("l1", Listener("first", "one")));
        await using var gateway = await InProcessGateway.StartAsync(Bootstrap);
        await BoundPortAsync(gateway, "first", "one");

        var bad = Listener("bad", "x").Replace("stat_prefix: bad", "stat_prefix: bad\n          codec_type: HTTP3", StringComparison.Ordinal);
        FileSdsTests.MoveIntoPlace(LdsPath, FilesystemXdsTests.Response("l2", Listener("first", "one"), Listener("second", "two"), bad));
        await BoundPortAsync(gateway, "second", "two");
        await gateway.AssertStatAsync("listener_manager.lds.update_rejected", 1);
        Assert.StartsWith("Error adding/updating listener(s) bad: ", Manager(gateway).Lds!.LastError, StringComparison.Ordinal);
        Assert.EndsWith("\n", Manager(gateway).Lds!.LastError, StringComparison.Ordinal);

        using var dump = System.Text.Json.JsonDocument.Parse(await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump?resource=dynamic_listeners")));
        var listeners = dump.RootElement.GetProperty("configs").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        Assert.Equal("l2", listeners["second"].GetProperty("active_state").GetProperty("version_info").GetString());
        var error = listeners["bad"].GetProperty("error_state");
        Assert.Contains("HTTP3", error.GetProperty("details").GetString(), StringComparison.Ordinal);
        Assert.Equal("l2", error.GetProperty("version_info").GetString());
        Assert.False(listeners["bad"].TryGetProperty("active_state", out _));
    }

    [Fact]
    public void Load_LdsWithoutItsFile_ErrorNamesThePath()
    {
        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Bootstrap, "envoy.yaml")).Errors);
        Assert.Equal("dynamic_resources.lds_config.path_config_source", error.Location.Path);
    }
}
