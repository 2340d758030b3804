using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Gateway.Tests.Hosting;

/// <summary>Several listeners, several endpoints, DNS clusters and connect timeouts, over real loopback sockets.</summary>
public class ListenerAndClusterIntegrationTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private const string Hcm = "\"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    private static string Listener(string name, string statPrefix, string routes) => $$"""
          - name: {{name}}
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  {{Hcm}}
                  stat_prefix: {{statPrefix}}
                  http_filters: [ { name: envoy.filters.http.router } ]
                  route_config:
                    virtual_hosts:
                    - name: {{name}}_vh
                      domains: ["*"]
                      routes:
        {{routes}}
        """;

    private static string Cluster(string name, string type, params string[] endpoints)
    {
        var lines = endpoints.Select(e => "          - endpoint: { address: { socket_address: { address: " + e.Split(':')[0] + ", port_value: " + e.Split(':')[1] + " } } }");
        return $$"""
              - name: {{name}}
                type: {{type}}
                dns_lookup_family: V4_ONLY
                connect_timeout: 0.25s
                load_assignment:
                  endpoints:
                  - lb_endpoints:
            {{string.Join("\n", lines)}}
            """;
    }

    private static string Bootstrap(string listeners, string clusters) => $$"""
        admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
        static_resources:
          listeners:
        {{listeners}}
          clusters:
        {{clusters}}
        """;

    [Fact]
    public async Task Listeners_EachServesOnlyItsOwnRouteTable()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        var yaml = Bootstrap(
            Listener("public", "public_http", "              - { match: { prefix: \"/a\" }, direct_response: { status: 200, body: { inline_string: public } } }") + "\n" +
            Listener("internal", "internal_http", "              - { match: { prefix: \"/\" }, route: { cluster: b } }"),
            Cluster("a", "STATIC", $"127.0.0.1:{a.Port}") + "\n" + Cluster("b", "STATIC", $"127.0.0.1:{b.Port}"));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var publicA = await gateway.Client.GetAsync(gateway.ListenerUri("/a", "public"));
        using var publicOther = await gateway.Client.GetAsync(gateway.ListenerUri("/other", "public"));
        using var internalA = await gateway.Client.GetAsync(gateway.ListenerUri("/a", "internal"));

        Assert.Equal("public", await publicA.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, publicOther.StatusCode);
        Assert.Equal(HttpStatusCode.OK, internalA.StatusCode);
        Assert.Equal(1, b.Requests);
        Assert.Equal(0, a.Requests);
        await gateway.AssertStatAsync("http.public_http.no_route", 1);
        await gateway.AssertStatAsync("http.public_http.rq_direct_response", 1);
        await gateway.AssertStatAsync("http.internal_http.downstream_rq_2xx", 1);
    }

    [Fact]
    public async Task RoundRobin_TwoEndpoints_Alternate()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        var yaml = Bootstrap(
            Listener("httpbin-demo", "ingress_http", "              - { match: { prefix: \"/\" }, route: { cluster: pair } }"),
            Cluster("pair", "STATIC", $"127.0.0.1:{first.Port}", $"127.0.0.1:{second.Port}"));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(5, first.Requests);
        Assert.Equal(5, second.Requests);
        await gateway.AssertStatAsync("cluster.pair.membership_total", 2);
    }

    [Fact]
    public async Task StrictDns_Localhost_ResolvesToLoopbackAndRewritesHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = Bootstrap(
            Listener("httpbin-demo", "ingress_http", "              - { match: { prefix: \"/\" }, route: { cluster: dns, auto_host_rewrite: true } }"),
            Cluster("dns", "STRICT_DNS", $"localhost:{upstream.Port}"));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.Equal("localhost", echoed.Headers["host"]);
        await gateway.AssertStatAsync("cluster.dns.membership_total", 1);
    }

    [Fact]
    public async Task ConnectTimeout_UpstreamNeverAccepts_Answers503AfterConnectTimeout()
    {
        // A listening socket whose accept queue is full drops further SYNs, so connects hang (loopback only).
        using var blackhole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blackhole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blackhole.Listen(0);
        var port = ((IPEndPoint)blackhole.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        for (var i = 0; i < 4; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _ = filler.ConnectAsync(IPAddress.Loopback, port);
            fillers.Add(filler);
        }
        await Task.Delay(200);
        try
        {
            var yaml = Bootstrap(
                Listener("httpbin-demo", "ingress_http", "              - { match: { prefix: \"/\" }, route: { cluster: slow } }"),
                Cluster("slow", "STATIC", $"127.0.0.1:{port}"));
            await using var gateway = await InProcessGateway.StartAsync(yaml);
            var started = DateTime.UtcNow;

            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection timeout", await response.Content.ReadAsStringAsync());
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3));
            await gateway.AssertStatAsync("cluster.slow.upstream_cx_connect_timeout", 1);
            await gateway.AssertStatAsync("cluster.slow.upstream_cx_connect_fail", 1);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }
}
