using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Tests.Clusters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.TcpProxy;

/// <summary>
/// <c>tunneling_config</c>: the TCP proxy carries each connection inside one HTTP stream, over real sockets on 127.0.0.1.
/// HTTP/2 POST: into a second in-process gateway whose router terminates it (<c>connect_config: { allow_post: true }</c>)
/// into a TCP echo. HTTP/1.1 CONNECT: into a raw-socket terminator (<see cref="TcpTestServer.Http1ConnectTerminator"/>:
/// Kestrel cannot terminate an HTTP/1.1 CONNECT) that records the request head. What the gateway refuses at load.
/// </summary>
public sealed class TcpProxyTunnelingTests
{
    private const string Tunnel = """
        tunneling_config:
          hostname: "echo.internal:%DOWNSTREAM_LOCAL_PORT%"
          headers_to_add:
          - header: { key: x-tunnel-peer, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
          - header: { key: x-tunnel, value: "yes" }
        """;

    private static int Port(InProcessGateway gateway) => gateway.Gateway.ListenerBoundEndPoint("tcp")!.Port;

    private static string Http2Cluster(int port) => TcpProxyIntegrationTests.Cluster("terminator", [port], UpstreamProtocolIntegrationTests.Typed(UpstreamProtocolIntegrationTests.ExplicitHttp2));

    /// <summary>
    /// A gateway whose router terminates a POST to <c>/tunnel</c> from an <c>echo.internal</c> authority with an
    /// <c>x-tunnel: yes</c> header (anything else: 404) into a TCP connection to <paramref name="echoPort"/>, logging each.
    /// </summary>
    private static string PostTerminator(int echoPort, string logPath) => ListenerYaml.Build(
        echoPort,
        string.Empty,
        routes: """
            - name: tunnel
              match:
                prefix: "/tunnel"
                headers:
                - { name: ":authority", string_match: { safe_regex: { regex: "echo\\.internal:[0-9]+" } } }
                - { name: x-tunnel, string_match: { exact: "yes" } }
              route:
                cluster: echo
                upgrade_configs: [{ upgrade_type: CONNECT, connect_config: { allow_post: true } }]
            """,
        connectionManager: "codec_type: HTTP2\n" + AccessLogLines.FileLogger(logPath, "%REQ(:METHOD)% %REQ(:AUTHORITY)% %REQ(:PATH)% %REQ(X-TUNNEL-PEER)% %REQ(X-ENVOY-INTERNAL)% %RESPONSE_CODE%"));

    [Fact]
    public async Task Post_Http1ClusterIntoATerminatingGateway_ChunkedBothWaysBytesEchoAndStatsExact()
    {
        using var log = new TempLogFile();
        await using var echo = TcpTestServer.Echo();
        await using var terminator = await InProcessGateway.StartAsync(PostTerminator(echo.Port, log.Path).Replace("codec_type: HTTP2", "codec_type: AUTO", StringComparison.Ordinal));
        var proxy = "stat_prefix: tunnel\ncluster: terminator\n" + Tunnel + "\n  use_post: true\n  post_path: /tunnel/h1";
        await using var gateway = await InProcessGateway.StartAsync(TcpProxyIntegrationTests.Yaml(proxy, TcpProxyIntegrationTests.Cluster("terminator", [terminator.ListenerUri("/").Port])));

        // The chunked request body streams to the echo and its answer streams back in the chunked response.
        await TcpTestClient.EchoWithHalfCloseAsync(Port(gateway));

        Assert.Equal([$"POST echo.internal:{Port(gateway)} /tunnel/h1 127.0.0.1 - 200"], await AccessLogLines.ReadAsync(terminator, log.Path));
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_rx_bytes_total", 11);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_tx_bytes_total", 11);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_active", 0);
        // The wire: the head, each read as one chunk ("6\r\nhello \r\n", "5\r\nworld\r\n"), the last chunk.
        var head = $"POST /tunnel/h1 HTTP/1.1\r\nhost: echo.internal:{Port(gateway)}\r\nx-tunnel-peer: 127.0.0.1\r\nx-tunnel: yes\r\ntransfer-encoding: chunked\r\n\r\n";
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_tx_bytes_total", head.Length + 11 + 10 + 5);
        await terminator.AssertStatAsync("cluster.echo.upstream_cx_tx_bytes_total", 11);
        await terminator.AssertStatAsync("cluster.echo.upstream_cx_rx_bytes_total", 11);
    }

    /// <summary>A POST terminator gateway in front of an echo, and a tunnelling gateway (<c>use_post</c> and <paramref name="tunnelFields"/>) in front of it.</summary>
    private sealed record PostTunnel(InProcessGateway Terminator, InProcessGateway Gateway) : IAsyncDisposable
    {
        public static async Task<PostTunnel> StartAsync(TcpTestServer echo, TempLogFile log, string tunnelFields, string proxyFields = "", Action<IServiceCollection>? services = null)
        {
            var terminator = await InProcessGateway.StartAsync(PostTerminator(echo.Port, log.Path));
            var proxy = "stat_prefix: tunnel\ncluster: terminator\n" + proxyFields + Tunnel + "\n  use_post: true" + tunnelFields;
            return new PostTunnel(terminator, await InProcessGateway.StartAsync(TcpProxyIntegrationTests.Yaml(proxy, Http2Cluster(terminator.ListenerUri("/").Port)), services));
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Terminator.DisposeAsync();
        }
    }

    [Fact]
    public async Task Post_Http2ClusterIntoATerminatingGateway_BytesEchoBothWaysAndStatsExact()
    {
        using var log = new TempLogFile();
        await using var echo = TcpTestServer.Echo();
        await using var pair = await PostTunnel.StartAsync(echo, log, "\n  post_path: /tunnel/path");
        var (terminator, gateway) = (pair.Terminator, pair.Gateway);

        // Our FIN ends the POST's body; the echo's end ends the response, which ends our connection.
        await TcpTestClient.EchoWithHalfCloseAsync(Port(gateway));

        // The stream reached the terminator as Envoy's HttpUpstream sends it: the formatted hostname as :authority,
        // post_path, headers_to_add formatted, no x-envoy-internal.
        Assert.Equal([$"POST echo.internal:{Port(gateway)} /tunnel/path 127.0.0.1 - 200"], await AccessLogLines.ReadAsync(terminator, log.Path));
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_total", 1);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_rx_bytes_total", 11);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_tx_bytes_total", 11);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        // Counted as an external request (no x-envoy-internal), as Envoy's HttpUpstream's stream.
        await gateway.AssertStatAsync("cluster.terminator.external.upstream_rq_200", 1);
        Assert.Null(await gateway.StatAsync("cluster.terminator.internal.upstream_rq_200"));
        // One HTTP/2 connection, kept by the cluster's pool after the stream (as Envoy's HTTP/2 pool keeps it).
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_connect_fail", 0);
        await terminator.AssertStatAsync("cluster.echo.upstream_cx_total", 1);
        await terminator.AssertStatAsync("cluster.echo.upstream_cx_tx_bytes_total", 11);
        await terminator.AssertStatAsync("cluster.echo.upstream_cx_rx_bytes_total", 11);
    }

    [Fact]
    public async Task Post_ServerSpeaksFirstOnAKeptHttp2Connection_TheHeadersGoOutBeforeAnyDownstreamByte()
    {
        using var log = new TempLogFile();
        await using var greeter = TcpTestServer.Named("greeting");
        await using var pair = await PostTunnel.StartAsync(greeter, log, "\n  post_path: /tunnel");
        var gateway = pair.Gateway;

        // The downstream sends nothing: only the POST's HEADERS frame, flushed at once, opens the tunnel. The second
        // tunnel rides the connection the first left in the pool, where no SETTINGS exchange flushes it by chance.
        for (var i = 0; i < 2; i++)
        {
            await using var client = await TcpTestClient.ConnectAsync(Port(gateway));
            Assert.Equal("greeting", await client.ReadToEndAsync());
        }

        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_200", 2);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_total", 1);
        Assert.Equal(2, greeter.Accepted);
    }

    [Fact]
    public async Task IdleTimeout_Http2PostTunnelWithoutBytes_BothEndsClosedAndTheStreamReset()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var log = new TempLogFile();
        await using var echo = TcpTestServer.Echo();
        await using var pair = await PostTunnel.StartAsync(echo, log, "\n  post_path: /tunnel", "idle_timeout: 10s\n", services => services.AddSingleton<TimeProvider>(time));
        await using var client = await TcpTestClient.ConnectAsync(Port(pair.Gateway));
        await client.WriteAsync("ping");
        Assert.Equal("ping", await client.ReadAsync(4));

        time.Advance(TimeSpan.FromSeconds(10));

        // The idle timer closes the connection and resets the tunnel's stream, which ends the terminator's TCP connection.
        Assert.Equal(string.Empty, await client.ReadToEndAsync());
        await pair.Gateway.AssertStatAsync("tcp.tunnel.idle_timeout", 1);
        await pair.Gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        await pair.Gateway.AssertStatAsync("cluster.terminator.upstream_rq_200", 1);
        await pair.Terminator.AssertStatAsync("cluster.echo.upstream_cx_active", 0);
        await pair.Terminator.AssertStatAsync("cluster.echo.upstream_cx_destroy_local", 1);
    }

    [Fact]
    public async Task Connect_Http1ClusterIntoARawTerminator_HostnameAndHeadersFormattedBytesEchoAndStatsExact()
    {
        var heads = new ConcurrentQueue<string>();
        await using var terminator = TcpTestServer.Http1ConnectTerminator(heads);
        await using var gateway = await InProcessGateway.StartAsync(TcpProxyIntegrationTests.Yaml("stat_prefix: tunnel\ncluster: terminator\n" + Tunnel,
            TcpProxyIntegrationTests.Cluster("terminator", [terminator.Port])));

        await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
        {
            await client.WriteAsync("hello");
            Assert.Equal("hello", await client.ReadAsync(5));
            // The half-close reaches the terminator as a FIN (Envoy's HTTP/1 codec ends a CONNECT so); its FIN ends ours.
            client.ShutdownSend();
            Assert.Equal(string.Empty, await client.ReadToEndAsync());
        }

        var port = Port(gateway);
        var head = $"CONNECT echo.internal:{port} HTTP/1.1\r\nhost: echo.internal:{port}\r\nx-tunnel-peer: 127.0.0.1\r\nx-tunnel: yes\r\n\r\n";
        Assert.Equal([head], heads);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_total", 1);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_rx_bytes_total", 5);
        await gateway.AssertStatAsync("tcp.tunnel.downstream_cx_tx_bytes_total", 5);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_total", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_active", 0);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_destroy_remote", 1);
        // The wire bytes: the request head and the payload out, the response head and the payload in.
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_tx_bytes_total", head.Length + 5);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_rx_bytes_total", "HTTP/1.1 200 Connection established\r\n\r\n".Length + 5);
    }

    [Fact]
    public async Task Connect_UpstreamAnswers403_DownstreamClosedEachAttemptUfThenUrx()
    {
        using var log = new TempLogFile();
        var heads = new ConcurrentQueue<string>();
        await using var terminator = TcpTestServer.Http1ConnectTerminator(heads, "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
        var proxy = $$"""
            stat_prefix: refused
            cluster: terminator
            max_connect_attempts: 2
            {{AccessLogLines.FileLogger(log.Path, "%RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %BYTES_SENT%")}}
            {{Tunnel}}
            """;
        await using var gateway = await InProcessGateway.StartAsync(TcpProxyIntegrationTests.Yaml(proxy, TcpProxyIntegrationTests.Cluster("terminator", [terminator.Port])));

        await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
        {
            await client.WriteAsync("never tunnelled");
            Assert.Equal(string.Empty, await client.ReadToEndAsync());
        }

        // Only a 2xx opens the tunnel: each 403 fails the attempt as a connect failure (UF), the last the attempts (URX).
        Assert.Equal(["UF,URX 2 0"], await AccessLogLines.ReadAsync(gateway, log.Path));
        Assert.Equal(2, heads.Count);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_total", 2);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_403", 2);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_total", 2);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_active", 0);
        await gateway.AssertStatAsync("cluster.terminator.upstream_cx_connect_attempts_exceeded", 1);
        await gateway.AssertStatAsync("tcp.refused.downstream_cx_total", 1);
        await gateway.AssertStatAsync("tcp.refused.downstream_cx_tx_bytes_total", 0);
    }

    [Fact]
    public async Task Post_TerminatorAnswers404_DownstreamClosedAndTheCodeCounted()
    {
        using var log = new TempLogFile();
        await using var echo = TcpTestServer.Echo();
        // Not /tunnel (the default post_path, /): the terminator's router answers 404.
        await using var pair = await PostTunnel.StartAsync(echo, log, string.Empty);
        var (terminator, gateway) = (pair.Terminator, pair.Gateway);

        await using (var client = await TcpTestClient.ConnectAsync(Port(gateway)))
        {
            Assert.Equal(string.Empty, await client.ReadToEndAsync());
        }

        Assert.Equal([$"POST echo.internal:{Port(gateway)} / 127.0.0.1 - 404"], await AccessLogLines.ReadAsync(terminator, log.Path));
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_404", 1);
        await gateway.AssertStatAsync("cluster.terminator.upstream_rq_active", 0);
        Assert.Equal(0, echo.Accepted);
    }

    [Theory]
    [InlineData("cluster: h2\ntunneling_config: { hostname: a.example }", ".tunneling_config", "cluster 'h2' speaks HTTP/2, and an HTTP/2 CONNECT tunnel is not supported by this gateway")]
    [InlineData("cluster: downstream\ntunneling_config: { hostname: a.example, use_post: true }", ".tunneling_config", "cluster 'downstream' chooses its protocol per connection")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, post_path: /p }", ".tunneling_config.post_path", "Can't set a post path when POST method isn't used")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, use_post: true, post_path: tunnel }", ".tunneling_config.post_path", "'post_path' must be a path starting with '/'")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: \"\" }", ".tunneling_config.hostname", "'hostname' is required")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: \"%NOT_AN_OPERATOR%\" }", ".tunneling_config.hostname", "")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, propagate_response_headers: true }", ".tunneling_config.propagate_response_headers", "'propagate_response_headers' is not supported by this gateway")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, propagate_response_trailers: true }", ".tunneling_config.propagate_response_trailers", "'propagate_response_trailers' is not supported by this gateway")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, headers_to_add: [ { header: { key: host, value: x } } ] }", ".tunneling_config.headers_to_add[0].header.key", ":-prefixed or host headers may not be modified")]
    [InlineData("cluster: h1\ntunneling_config: { hostname: a.example, request_id_extension: {} }", ".tunneling_config.request_id_extension", "")]
    public void Load_TunnelingConfigTheGatewayCannotRun_RefusedByItsPath(string fields, string path, string message)
    {
        var clusters = TcpProxyIntegrationTests.Cluster("h1", [10001]) + "\n" + TcpProxyIntegrationTests.Cluster("h2", [10002], UpstreamProtocolIntegrationTests.Typed(UpstreamProtocolIntegrationTests.ExplicitHttp2))
            + "\n" + TcpProxyIntegrationTests.Cluster("downstream", [10003], UpstreamProtocolIntegrationTests.Typed("use_downstream_protocol_config: {}"));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TcpProxyIntegrationTests.Yaml("stat_prefix: s\n" + fields, clusters), "envoy.yaml")).Errors);

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config" + path, error.Location.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_TunnelingConfig_InThePlanWithEnvoysDefaultPostPath()
    {
        var yaml = TcpProxyIntegrationTests.Yaml("stat_prefix: s\ncluster: h2\ntunneling_config: { hostname: a.example, use_post: true }",
            TcpProxyIntegrationTests.Cluster("h2", [10002], UpstreamProtocolIntegrationTests.Typed(UpstreamProtocolIntegrationTests.ExplicitHttp2)));

        var plan = Assert.Single(Assert.Single(Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Listeners).FilterChains).TcpProxy!;

        Assert.Equal("a.example", plan.Tunnel!.Hostname);
        Assert.True(plan.Tunnel.UsePost);
        Assert.Equal("/", plan.Tunnel.PostPath);
    }
}
