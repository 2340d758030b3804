using System.Globalization;
using System.Net;
using System.Text;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>
/// The real gateway process in front of a <see cref="RawUpstream"/>: one HTTP/1 listener whose first route is a
/// <c>/blocked</c> direct response (403) and whose catch-all route goes to the raw upstream (no retries), with every
/// other HCM field at Envoy's default. Shared by a test class (one process for the whole battery).
/// </summary>
public sealed class HardeningGateway : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The listener's stat prefix (<c>http.battery.*</c>).</summary>
    public const string StatPrefix = "battery";

    private GatewayProcess? _gateway;

    public RawUpstream Upstream { get; private set; } = null!;

    public GatewayProcess Gateway => _gateway ?? throw new InvalidOperationException("not started");

    public int ListenerPort => Gateway.ListenerPort;

    public static string Config(int listenerPort, int adminPort, int upstreamPort) => $$"""
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: {{adminPort}} }
        static_resources:
          listeners:
          - name: battery
            address:
              socket_address: { address: 127.0.0.1, port_value: {{listenerPort}} }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: {{StatPrefix}}
                  codec_type: HTTP1
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                  route_config:
                    name: battery
                    virtual_hosts:
                    - name: battery
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/blocked" }
                        direct_response: { status: 403, body: { inline_string: "blocked" } }
                      - match: { prefix: "/" }
                        route: { cluster: raw_upstream }
          clusters:
          - name: raw_upstream
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: raw_upstream
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address:
                      socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} }
        """;

    public async Task InitializeAsync()
    {
        Upstream = RawUpstream.Start();
        var ports = FreePort.Next(2);
        _gateway = await GatewayProcess.StartAsync(Config(ports[0], ports[1], Upstream.Port), ports[0], ports[1]);
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        await Upstream.DisposeAsync();
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    /// <summary>
    /// The gateway is healthy: its process runs, a normal request on a new connection gets 200 from the upstream
    /// (which logged it under <paramref name="tag"/>), and admin <c>/ready</c> answers 200 <c>LIVE</c>.
    /// </summary>
    public async Task AssertHealthyAsync(string tag)
    {
        Assert.False(Gateway.HasExited, $"the gateway exited. Output:\n{Gateway.Output}");
        await using (var connection = await RawConnection.OpenAsync(ListenerPort))
        {
            await connection.SendAsync($"GET /health HTTP/1.1\r\nHost: battery\r\nx-case: {tag}\r\n\r\n");
            var response = await connection.ReadResponseAsync(TimeSpan.FromSeconds(10));
            Assert.True(response is { Status: 200 }, $"health request after the case: {response?.StatusLine ?? "connection closed"}");
            Assert.Equal("ok", Encoding.ASCII.GetString(response!.Body));
        }
        Assert.Single(Upstream.RequestsFor(tag));
        using var ready = await Gateway.Client.GetAsync(Gateway.AdminUri("/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("LIVE\n", await ready.Content.ReadAsStringAsync());
    }

    /// <summary>A gauge or counter from <c>/stats</c> (0 when absent).</summary>
    public async Task<long> StatAsync(string name)
    {
        var line = GatewayProcess.FindStatLine(await Gateway.GetStatsAsync(), name);
        return line is null ? 0 : long.Parse(line.AsSpan(name.Length + 2), CultureInfo.InvariantCulture);
    }
}
