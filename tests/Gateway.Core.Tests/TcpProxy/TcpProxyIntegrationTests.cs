using System.Net;
using System.Net.Sockets;
using Gateway.Clusters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.TcpProxy;

/// <summary>
/// The <c>envoy.filters.network.tcp_proxy</c> filter through real sockets on 127.0.0.1: raw echo, a Redis-like line
/// protocol, idle timeout and maximum duration (fake clock), weighted clusters (scripted random), connect attempts to a
/// dead port, circuit breakers, hash policy, no route, a TLS-terminated TCP chain next to an HTTP chain, access logs.
/// </summary>
public class TcpProxyIntegrationTests
{
    private const string Listener = "listener.127.0.0.1_0.";

    private const string TcpProxyType = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

    /// <summary>A bootstrap with one listener whose chain is a TCP proxy with <paramref name="proxy"/>'s fields, and <paramref name="clusters"/>.</summary>
    internal static string Yaml(string proxy, string clusters, string listenerExtra = "") => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: tcp
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        {{ListenerYaml.Indent(ListenerYaml.Dedent(listenerExtra), 4)}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": {{TcpProxyType}}
        {{ListenerYaml.Indent(ListenerYaml.Dedent(proxy), 10)}}
          clusters:
        {{ListenerYaml.Indent(ListenerYaml.Dedent(clusters), 2)}}
        """;

    /// <summary>A STATIC cluster over 127.0.0.1 <paramref name="ports"/>, with <paramref name="extra"/> cluster fields.</summary>
    internal static string Cluster(string name, IEnumerable<int> ports, string extra = "") => $"""
        - name: {name}
          type: STATIC
          connect_timeout: 1s
        {ListenerYaml.Indent(ListenerYaml.Dedent(extra), 2)}
          load_assignment:
            cluster_name: {name}
            endpoints:
            - lb_endpoints:
        {string.Join('\n', ports.Select(p => $"      - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {p} }} }} }}"))}
        """;

    private static int Port(InProcessGateway gateway) => gateway.Gateway.ListenerBoundEndPoint("tcp")!.Port;

    /// <summary>Makes the RANDOM picker of <paramref name="name"/> pick the hosts on <paramref name="ports"/>, in order.</summary>
    private static void ScriptPicks(InProcessGateway gateway, string name, params int[] ports)
    {
        Assert.True(gateway.Services.GetRequiredService<ClusterRegistry>().TryGet(name, out var cluster));
        var available = cluster.ProxyCluster!.DestinationsState.AvailableDestinations;
        var indexes = new long[ports.Length];
        for (var i = 0; i < ports.Length; i++)
        {
            indexes[i] = available.Select((d, index) => (d, index)).First(x => ClusterRuntime.HostPortOf(x.d.Model.Config.Address) == "127.0.0.1:" + ports[i]).index;
        }
        cluster.PickerRandom = new ScriptedRandom(indexes);
    }

    [Fact]
    public async Task RawEcho_ClientHalfCloses_BytesComeBackAndStatsExact()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: echo\ncluster: echo", Cluster("echo", [echo.Port])));

        await TcpTestClient.EchoWithHalfCloseAsync(Port(gateway));

        await gateway.AssertStatAsync("cluster.echo.upstream_cx_active", 0);
        await gateway.AssertStatAsync(Listener + "downstream_cx_active", 0);
        await gateway.AssertStatAsync("tcp.echo.downstream_cx_total", 1);
        await gateway.AssertStatAsync("tcp.echo.downstream_cx_rx_bytes_total", 11);
        await gateway.AssertStatAsync("tcp.echo.downstream_cx_tx_bytes_total", 11);
        await gateway.AssertStatAsync("tcp.echo.downstream_cx_no_route", 0);
        await gateway.AssertStatAsync("tcp.echo.idle_timeout", 0);
        await gateway.AssertStatAsync("tcp.echo.upstream_flush_total", 0);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_connect_fail", 0);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_rx_bytes_total", 11);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_tx_bytes_total", 11);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_destroy", 1);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_destroy_remote", 1);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_destroy_local", 0);
        await gateway.AssertStatAsync(Listener + "downstream_cx_total", 1);
        await gateway.AssertStatAsync(Listener + "downstream_cx_destroy", 1);
        // The chain has no connection manager: no http.* stats.
        Assert.Null(await gateway.StatAsync("http.tcp_proxy.downstream_cx_total"));
    }

    [Fact]
    public async Task Admin_ConfigDumpListenersAndClusters_ShowTheTcpProxy()
    {
        await using var echo = TcpTestServer.Echo();
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: echo\ncluster: echo\nidle_timeout: 30s", Cluster("echo", [echo.Port])));

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));
        var listeners = await gateway.Client.GetStringAsync(gateway.AdminUri("/listeners"));
        var clusters = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));

        Assert.Contains("type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", dump, StringComparison.Ordinal);
        Assert.Contains("\"idle_timeout\": \"30s\"", dump, StringComparison.Ordinal);
        Assert.Contains("tcp::", listeners, StringComparison.Ordinal);
        Assert.Contains("echo::127.0.0.1:" + echo.Port, clusters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamTls_ClusterTransportSocket_BytesGoOverTlsToTheHost()
    {
        using var certificate = TestCertificates.Shared.Client("server");
        await using var echo = TcpTestServer.TlsEcho(certificate);
        var tls = "transport_socket:\n  name: envoy.transport_sockets.tls\n  typed_config: { \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: localhost }";
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: secure\ncluster: secure", Cluster("secure", [echo.Port], tls)));

        await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
        {
            await client.WriteAsync("over tls");
            Assert.Equal("over tls", await client.ReadAsync(8));
            client.ShutdownSend();
            Assert.Equal(string.Empty, await client.ReadToEndAsync());
        }

        await gateway.AssertStatAsync("cluster.secure.ssl.handshake", 1);
        await gateway.AssertStatAsync("cluster.secure.upstream_cx_connect_fail", 0);
        await gateway.AssertStatAsync("tcp.secure.downstream_cx_rx_bytes_total", 8);
        await gateway.AssertStatAsync("cluster.secure.upstream_cx_active", 0);
    }

    [Fact]
    public async Task RedisLikeProtocol_RequestsAndRepliesOnOneConnection_ServerQuitClosesTheClient()
    {
        await using var redis = TcpTestServer.RedisLike();
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: redis\ncluster: redis", Cluster("redis", [redis.Port])));
        await using var client = await TcpTestClient.ConnectAsync(Port(gateway));

        await client.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await client.ReadAsync(7));
        await client.WriteAsync("SET greeting hi\r\nGET greeting\r\n");
        Assert.Equal("+OK\r\n$2\r\nhi\r\n", await client.ReadAsync(13));
        await client.WriteAsync("GET missing\r\nQUIT\r\n");

        // The server's close after QUIT reaches the client once the reply is through.
        Assert.Equal("$-1\r\n+OK\r\n", await client.ReadToEndAsync());
        await gateway.AssertStatAsync("cluster.redis.upstream_cx_destroy_remote", 1);
        await gateway.AssertStatAsync("tcp.redis.downstream_cx_rx_bytes_total", 6 + 31 + 19);
        await gateway.AssertStatAsync("tcp.redis.downstream_cx_tx_bytes_total", 7 + 13 + 10);
        Assert.Equal(1, redis.Accepted);
    }

    [Fact]
    public async Task IdleTimeout_NoBytesForTheTimeout_BothConnectionsClosed_TrafficResetsTheTimer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var redis = TcpTestServer.RedisLike();
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: idle\ncluster: redis\nidle_timeout: 10s", Cluster("redis", [redis.Port])),
            services => services.AddSingleton<TimeProvider>(time));
        await using var client = await TcpTestClient.ConnectAsync(Port(gateway));
        await client.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await client.ReadAsync(7));

        time.Advance(TimeSpan.FromSeconds(6));
        await client.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await client.ReadAsync(7));
        // 12 s after the start but 6 s after the last bytes: still open.
        time.Advance(TimeSpan.FromSeconds(6));
        await client.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await client.ReadAsync(7));
        await gateway.AssertStatAsync("tcp.idle.idle_timeout", 0);

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(string.Empty, await client.ReadToEndAsync());
        await gateway.AssertStatAsync("tcp.idle.idle_timeout", 1);
        await gateway.AssertStatAsync("cluster.redis.upstream_cx_destroy_local", 1);
        await gateway.AssertStatAsync("cluster.redis.upstream_cx_active", 0);
        await gateway.AssertStatAsync(Listener + "downstream_cx_active", 0);
    }

    [Fact]
    public async Task MaxDownstreamConnectionDuration_Reached_ConnectionClosedAndCounted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var redis = TcpTestServer.RedisLike();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml("stat_prefix: capped\ncluster: redis\nmax_downstream_connection_duration: 5s\nidle_timeout: 0s", Cluster("redis", [redis.Port])),
            services => services.AddSingleton<TimeProvider>(time));
        await using var client = await TcpTestClient.ConnectAsync(Port(gateway));
        await client.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await client.ReadAsync(7));

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(string.Empty, await client.ReadToEndAsync());
        await gateway.AssertStatAsync("tcp.capped.max_downstream_connection_duration", 1);
        await gateway.AssertStatAsync("tcp.capped.idle_timeout", 0);
    }

    [Fact]
    public async Task WeightedClusters_ScriptedRandom_SplitByWeight()
    {
        await using var a = TcpTestServer.Named("a");
        await using var b = TcpTestServer.Named("b");
        var proxy = """
            stat_prefix: split
            weighted_clusters:
              clusters:
              - { name: a, weight: 1 }
              - { name: b, weight: 3 }
            """;
        var random = new SequenceRandom(0, 1, 2, 3, 4, 5, 6, 7);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(proxy, Cluster("a", [a.Port]) + "\n" + Cluster("b", [b.Port])),
            services => services.AddSingleton<Random>(random));

        var reached = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            await using var client = await TcpTestClient.ConnectAsync(Port(gateway));
            reached.Add(await client.ReadToEndAsync());
        }

        // Envoy's pickCluster: the random value modulo the total weight (4) falls in a's [0, 1) or b's [1, 4).
        Assert.Equal(["a", "b", "b", "b", "a", "b", "b", "b"], reached);
        await gateway.AssertStatAsync("cluster.a.upstream_cx_total", 2);
        await gateway.AssertStatAsync("cluster.b.upstream_cx_total", 6);
        await gateway.AssertStatAsync("tcp.split.downstream_cx_total", 8);
    }

    [Fact]
    public async Task MaxConnectAttempts_FirstHostRefuses_SecondHostServes_FailureChargedToOutlierDetection()
    {
        await using var echo = TcpTestServer.Echo();
        var dead = TcpTestServer.DeadPort();
        var outlier = "lb_policy: RANDOM\noutlier_detection: { consecutive_5xx: 1, max_ejection_percent: 100, interval: 3600s }";
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml("stat_prefix: retry\ncluster: pair\nmax_connect_attempts: 2", Cluster("pair", [dead, echo.Port], outlier)));
        ScriptPicks(gateway, "pair", dead, echo.Port, echo.Port);

        await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
        {
            await client.WriteAsync("ping");
            client.ShutdownSend();
            Assert.Equal("ping", await client.ReadToEndAsync());
        }

        await gateway.AssertStatAsync("cluster.pair.upstream_cx_total", 2);
        await gateway.AssertStatAsync("cluster.pair.upstream_cx_connect_fail", 1);
        await gateway.AssertStatAsync("cluster.pair.upstream_cx_connect_attempts_exceeded", 0);
        await gateway.AssertStatAsync("cluster.pair.upstream_cx_destroy", 2);
        // The refused connect is Envoy's LocalOriginConnectFailed: a 503 to the (non-split) outlier detector.
        await gateway.AssertStatAsync("cluster.pair.outlier_detection.ejections_enforced_consecutive_5xx", 1);
        Assert.Equal(1, echo.Accepted);
    }

    [Fact]
    public async Task MaxConnectAttempts_OnlyDeadHosts_GivesUpAfterTheAttempts()
    {
        var dead = TcpTestServer.DeadPort();
        await using var gateway = await InProcessGateway.StartAsync(
            Yaml("stat_prefix: dead\ncluster: dead\nmax_connect_attempts: 3", Cluster("dead", [dead])));
        await using var client = await TcpTestClient.ConnectAsync(Port(gateway));

        Assert.Equal(string.Empty, await client.ReadToEndAsync());
        await gateway.AssertStatAsync("cluster.dead.upstream_cx_connect_attempts_exceeded", 1);
        await gateway.AssertStatAsync("cluster.dead.upstream_cx_connect_fail", 3);
        await gateway.AssertStatAsync("cluster.dead.upstream_cx_total", 3);
        await gateway.AssertStatAsync("cluster.dead.upstream_cx_active", 0);
        await gateway.AssertStatAsync("tcp.dead.downstream_cx_total", 1);
    }

    [Fact]
    public async Task MaxConnections_Reached_NextConnectionClosedWithOverflow()
    {
        await using var redis = TcpTestServer.RedisLike();
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: limited\ncluster: redis",
            Cluster("redis", [redis.Port], "circuit_breakers: { thresholds: [ { max_connections: 1 } ] }")));
        await using var first = await TcpTestClient.ConnectAsync(Port(gateway));
        await first.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await first.ReadAsync(7));

        await using var second = await TcpTestClient.ConnectAsync(Port(gateway));

        Assert.Equal(string.Empty, await second.ReadToEndAsync());
        await gateway.AssertStatAsync("cluster.redis.upstream_cx_overflow", 1);
        await gateway.AssertStatAsync("cluster.redis.upstream_cx_total", 1);
        await first.WriteAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await first.ReadAsync(7));
    }

    [Fact]
    public async Task HashPolicySourceIp_RingHash_EveryConnectionFromOneAddressReachesOneHost()
    {
        await using var a = TcpTestServer.Named("a");
        await using var b = TcpTestServer.Named("b");
        await using var c = TcpTestServer.Named("c");
        await using var gateway = await InProcessGateway.StartAsync(Yaml("stat_prefix: sticky\ncluster: ring\nhash_policy: [ { source_ip: {} } ]",
            Cluster("ring", [a.Port, b.Port, c.Port], "lb_policy: RING_HASH")));

        var reached = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            await using var client = await TcpTestClient.ConnectAsync(Port(gateway));
            reached.Add(await client.ReadToEndAsync());
        }

        Assert.Single(reached);
    }

    [Fact]
    public async Task UnknownCluster_ConnectionClosed_NoRouteCountedAndLoggedAsNR()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tcp-proxy-{Guid.NewGuid():N}.log");
        await using var echo = TcpTestServer.Echo();
        var proxy = $$"""
            stat_prefix: lost
            cluster: missing
            {{AccessLogLines.FileLogger(path, "%RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%")}}
            """;
        try
        {
            await using var gateway = await InProcessGateway.StartAsync(Yaml(proxy, Cluster("echo", [echo.Port])));
            await using var client = await TcpTestClient.ConnectAsync(Port(gateway));

            Assert.Equal(string.Empty, await client.ReadToEndAsync());
            await gateway.AssertStatAsync("tcp.lost.downstream_cx_no_route", 1);
            Assert.Equal(["NR - -"], await AccessLogLines.ReadAsync(gateway, path));
            Assert.Null(await gateway.StatAsync("cluster.missing.upstream_cx_total"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AccessLog_ProxiedConnection_UpstreamHostClusterBytesAndFlags()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tcp-proxy-{Guid.NewGuid():N}.log");
        await using var echo = TcpTestServer.Echo();
        var dead = TcpTestServer.DeadPort();
        var proxy = $$"""
            stat_prefix: logged
            cluster: pair
            max_connect_attempts: 2
            {{AccessLogLines.FileLogger(path, "%RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %ACCESS_LOG_TYPE%")}}
            """;
        try
        {
            await using var gateway = await InProcessGateway.StartAsync(Yaml(proxy, Cluster("pair", [dead, echo.Port], "lb_policy: RANDOM")));
            ScriptPicks(gateway, "pair", dead, echo.Port);
            await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
            {
                await client.WriteAsync("abc");
                client.ShutdownSend();
                Assert.Equal("abc", await client.ReadToEndAsync());
            }

            // UF: the first connect failed (Envoy keeps the flag after the retry succeeded).
            Assert.Equal([$"UF pair 127.0.0.1:{echo.Port} 3 3 2 TcpConnectionEnd"], await AccessLogLines.ReadAsync(gateway, path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AccessLogOptions_OnConnectedAndPeriodic_EntriesOfEachTypeWithTheBytesSoFar()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tcp-proxy-{Guid.NewGuid():N}.log");
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var redis = TcpTestServer.RedisLike();
        var proxy = $$"""
            stat_prefix: periodic
            cluster: redis
            access_log_options: { access_log_flush_interval: 10s, flush_access_log_on_connected: true }
            {{AccessLogLines.FileLogger(path, "%ACCESS_LOG_TYPE% %BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_REQUEST_ATTEMPT_COUNT%")}}
            """;
        try
        {
            await using var gateway = await InProcessGateway.StartAsync(Yaml(proxy, Cluster("redis", [redis.Port])), services => services.AddSingleton<TimeProvider>(time));
            await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
            {
                Assert.Equal(["TcpUpstreamConnected 0 0 1"], await AccessLogLines.ReadAsync(gateway, path));
                await client.WriteAsync("PING\r\n");
                Assert.Equal("+PONG\r\n", await client.ReadAsync(7));

                time.Advance(TimeSpan.FromSeconds(10));
                Assert.Equal("TcpPeriodic 6 7 1", (await AccessLogLines.ReadAsync(gateway, path, 2))[^1]);

                await client.WriteAsync("QUIT\r\n");
                Assert.Equal("+OK\r\n", await client.ReadToEndAsync());
            }

            Assert.Equal(["TcpUpstreamConnected 0 0 1", "TcpPeriodic 6 7 1", "TcpConnectionEnd 12 12 1"], await AccessLogLines.ReadAsync(gateway, path, 3));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task TlsTerminatedTcpProxyChain_NextToAnHttpChain_ChosenByServerName()
    {
        var certs = TestCertificates.Shared;
        await using var echo = TcpTestServer.Echo();
        string Tls(string certificate) => $$"""
                  transport_socket:
                    name: envoy.transport_sockets.tls
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                      common_tls_context:
                        tls_certificates:
                        - certificate_chain: { filename: {{certs.PathOf(certificate + ".pem")}} }
                          private_key: { filename: {{certs.PathOf(certificate + "-key.pem")}} }
            """;
        var yaml = $$"""
            admin:
              address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            static_resources:
              listeners:
              - name: tcp
                address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                listener_filters:
                - name: envoy.filters.listener.tls_inspector
                  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
                filter_chains:
                - name: raw
                  filter_chain_match: { server_names: [tcp.example.com] }
            {{Tls("server")}}
                  filters:
                  - name: envoy.filters.network.tcp_proxy
                    typed_config: { "@type": {{TcpProxyType}}, stat_prefix: raw, cluster: echo }
                - name: web
                  filter_chain_match: { server_names: [web.example.com] }
            {{Tls("server")}}
                  filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: web
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                      route_config:
                        virtual_hosts:
                        - name: all
                          domains: ["*"]
                          routes:
                          - match: { prefix: "/" }
                            direct_response: { status: 200, body: { inline_string: "web" } }
              clusters:
            {{ListenerYaml.Indent(ListenerYaml.Dedent(Cluster("echo", [echo.Port])), 2)}}
            """;
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var port = Port(gateway);

        await using (var client = await TcpTestClient.ConnectTlsAsync(port, "tcp.example.com"))
        {
            await client.WriteAsync("secret bytes");
            Assert.Equal("secret bytes", await client.ReadAsync(12));
        }
        using var https = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null },
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        Assert.Equal("web", await https.GetStringAsync($"https://web.example.com:{port}/"));

        await gateway.AssertStatAsync("tcp.raw.downstream_cx_total", 1);
        // The decrypted bytes are what the TCP proxy counts.
        await gateway.AssertStatAsync("tcp.raw.downstream_cx_rx_bytes_total", 12);
        await gateway.AssertStatAsync("cluster.echo.upstream_cx_tx_bytes_total", 12);
        await gateway.AssertStatAsync("http.web.downstream_rq_total", 1);
        await gateway.AssertStatAsync(Listener + "ssl.handshake", 2);
        await gateway.AssertStatAsync(Listener + "downstream_cx_total", 2);
    }

    /// <summary>A Random whose <see cref="Random.NextInt64()"/> draws are a fixed sequence (the weighted cluster choice).</summary>
    private sealed class SequenceRandom(params long[] values) : Random
    {
        private int _next;

        public override long NextInt64() => values[Math.Min(Interlocked.Increment(ref _next) - 1, values.Length - 1)];
    }
}
