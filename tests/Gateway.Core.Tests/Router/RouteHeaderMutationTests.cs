using System.Net;
using System.Text.Json;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Router;

/// <summary>
/// Route, virtual host and route configuration header mutations through the in-process gateway in front of a real
/// Kestrel upstream: exact upstream request headers and client response headers for each level and order.
/// </summary>
public class RouteHeaderMutationTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static string Config(int upstreamPort, bool mostSpecificWins = false, int deadPort = 1) => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  internal_address_config: { cidr_ranges: [ { address_prefix: 10.0.0.0, prefix_len: 8 } ] }
                  http_filters:
                  - name: envoy.filters.http.router
                  route_config:
                    name: local
                    most_specific_header_mutations_wins: {{(mostSpecificWins ? "true" : "false")}}
                    internal_only_headers: [X-Secret]
                    request_headers_to_add:
                    - header: { key: x-level, value: rc }
                    - header: { key: x-order, value: rc }
                      append_action: OVERWRITE_IF_EXISTS_OR_ADD
                    request_headers_to_remove: [x-drop-rc]
                    response_headers_to_add:
                    - header: { key: x-resp-level, value: rc }
                    - header: { key: x-resp-order, value: rc }
                      append: false
                    response_headers_to_remove: [x-up-drop-rc]
                    virtual_hosts:
                    - name: vh
                      domains: ["*"]
                      request_headers_to_add:
                      - header: { key: x-level, value: vh }
                      - header: { key: x-order, value: vh }
                        append_action: OVERWRITE_IF_EXISTS_OR_ADD
                      request_headers_to_remove: [x-drop-vh]
                      response_headers_to_add:
                      - header: { key: x-resp-level, value: vh }
                      - header: { key: x-resp-order, value: vh }
                        append_action: OVERWRITE_IF_EXISTS_OR_ADD
                      response_headers_to_remove: [x-up-drop-vh]
                      routes:
                      - match: { prefix: "/direct" }
                        direct_response: { status: 202, body: { inline_string: direct } }
                        response_headers_to_add:
                        - header: { key: x-resp-level, value: route }
                      - match: { prefix: "/dead" }
                        route: { cluster: dead }
                      - match: { prefix: "/" }
                        route: { cluster: up }
                        request_headers_to_add:
                        - header: { key: x-level, value: route }
                        - header: { key: x-order, value: route }
                          append_action: OVERWRITE_IF_EXISTS_OR_ADD
                        - header: { key: x-keep, value: gateway }
                          append_action: ADD_IF_ABSENT
                        - header: { key: x-only-if, value: replaced }
                          append_action: OVERWRITE_IF_EXISTS
                        - header: { key: x-only-if-missing, value: replaced }
                          append_action: OVERWRITE_IF_EXISTS
                        - header: { key: x-empty, value: "%REQ(x-nothing)%" }
                          keep_empty_value: true
                        - header: { key: x-empty-skipped, value: "%REQ(x-nothing)%" }
                        - header: { key: x-from, value: "<%REQ(x-in)%>" }
                        - header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
                        - header: { key: x-start, value: "%START_TIME(%s)%" }
                        - header: { key: x-upstream, value: "%UPSTREAM_REMOTE_ADDRESS%" }
                        - header: { key: x-percent, value: "100%%" }
                        request_headers_to_remove: [x-drop-route]
                        response_headers_to_add:
                        - header: { key: x-resp-level, value: route }
                        - header: { key: x-resp-order, value: route }
                          append_action: OVERWRITE_IF_EXISTS_OR_ADD
                        - header: { key: x-resp-copy, value: "%RESP(x-up)%/%REQ(x-level)%" }
                        - header: { key: x-resp-host, value: "%UPSTREAM_REMOTE_ADDRESS%" }
                        - header: { key: x-up, value: mine }
                          append_action: OVERWRITE_IF_EXISTS
                        response_headers_to_remove: [x-up-drop-route]
          clusters:
          - name: up
            connect_timeout: 5s
            type: STATIC
            load_assignment:
              cluster_name: up
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } }
          - name: dead
            connect_timeout: 5s
            type: STATIC
            load_assignment:
              cluster_name: dead
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{deadPort}} } } }
        """;

    [Theory]
    [InlineData(false, "route, vh, rc", "rc")]
    [InlineData(true, "rc, vh, route", "route")]
    public async Task Request_ThreeLevels_ReachTheUpstreamInEnvoysOrder(bool mostSpecificWins, string level, string order)
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream.Port, mostSpecificWins));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/anything"));
        foreach (var name in new[] { "x-drop-route", "x-drop-vh", "x-drop-rc" })
        {
            request.Headers.Add(name, "client");
        }
        request.Headers.Add("x-keep", "client");
        request.Headers.Add("x-only-if", "client");
        request.Headers.Add("x-in", "abc");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await upstream.LastRequestAsync();
        Assert.Equal(level, seen["x-level"]);
        Assert.Equal(order, seen["x-order"]);
        Assert.Equal("client", seen["x-keep"]);
        Assert.Equal("replaced", seen["x-only-if"]);
        Assert.False(seen.ContainsKey("x-only-if-missing"));
        Assert.Equal(string.Empty, seen["x-empty"]);
        Assert.False(seen.ContainsKey("x-empty-skipped"));
        Assert.Equal("<abc>", seen["x-from"]);
        Assert.Equal("127.0.0.1", seen["x-client"]);
        Assert.Equal(Start.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), seen["x-start"]);
        // Envoy finalizes the request headers before choosing the host: the upstream address is not known yet.
        Assert.False(seen.ContainsKey("x-upstream"));
        Assert.Equal("100%", seen["x-percent"]);
        Assert.False(seen.ContainsKey("x-drop-route"));
        Assert.False(seen.ContainsKey("x-drop-vh"));
        Assert.False(seen.ContainsKey("x-drop-rc"));
    }

    [Theory]
    [InlineData(false, new[] { "route", "vh", "rc" }, "rc")]
    [InlineData(true, new[] { "rc", "vh", "route" }, "route")]
    public async Task Response_FromTheUpstream_GetsEveryLevelInEnvoysOrder(bool mostSpecificWins, string[] level, string order)
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream.Port, mostSpecificWins));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/anything"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(level, response.Headers.GetValues("x-resp-level"));
        Assert.Equal(order, Assert.Single(response.Headers.GetValues("x-resp-order")));
        // Formatted on the upstream's headers and the request as the router sent it; the host is known now.
        // %REQ(x)% prints the first of a repeated header, as Envoy's formatter.
        Assert.Equal("upstream/" + level[0], Assert.Single(response.Headers.GetValues("x-resp-copy")));
        Assert.Equal($"127.0.0.1:{upstream.Port}", Assert.Single(response.Headers.GetValues("x-resp-host")));
        Assert.Equal("mine", Assert.Single(response.Headers.GetValues("x-up")));
        Assert.False(response.Headers.Contains("x-up-drop-route"));
        Assert.False(response.Headers.Contains("x-up-drop-vh"));
        Assert.False(response.Headers.Contains("x-up-drop-rc"));
        Assert.Equal("kept", Assert.Single(response.Headers.GetValues("x-up-kept")));
    }

    [Fact]
    public async Task Response_DirectResponse_GetsTheRouteAndEnclosingLevels()
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream.Port));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/direct"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("direct", await response.Content.ReadAsStringAsync());
        Assert.Equal(["route", "vh", "rc"], response.Headers.GetValues("x-resp-level"));
        Assert.Equal("rc", Assert.Single(response.Headers.GetValues("x-resp-order")));
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Response_RouterLocalReplyOnAMatchedRoute_GetsTheHeaders()
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream.Port, deadPort: ClosedPort()));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/dead"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(["vh", "rc"], response.Headers.GetValues("x-resp-level"));
        Assert.Equal("rc", Assert.Single(response.Headers.GetValues("x-resp-order")));
    }

    [Fact]
    public async Task Response_NoRoute_GetsNoRouteHeaders()
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        var yaml = Config(upstream.Port).Replace("domains: [\"*\"]", "domains: [\"only.example\"]", StringComparison.Ordinal);
        await using var gateway = await StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/anything"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("x-resp-level"));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("192.168.0.1", false)]
    [InlineData("10.1.2.3", true)]
    public async Task InternalOnlyHeaders_ExternalRequest_AreRemoved(string? forwardedFor, bool kept)
    {
        await using var upstream = await HeaderUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream.Port));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/anything"));
        request.Headers.Add("x-secret", "s");
        if (forwardedFor is not null)
        {
            request.Headers.Add("x-forwarded-for", forwardedFor);
        }

        using var response = await gateway.Client.SendAsync(request);

        var seen = await upstream.LastRequestAsync();
        Assert.Equal(kept, seen.ContainsKey("x-secret"));
        Assert.Equal(kept, seen.ContainsKey("x-envoy-internal"));
    }

    private static Task<InProcessGateway> StartAsync(string yaml)
        => InProcessGateway.StartAsync(yaml, services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(Start)));

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A Kestrel upstream recording each request's headers, answering with headers the routes remove or copy.</summary>
    private sealed class HeaderUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly System.Threading.Channels.Channel<Dictionary<string, string>> _seen = System.Threading.Channels.Channel.CreateUnbounded<Dictionary<string, string>>();
        private int _requests;

        private HeaderUpstream(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<HeaderUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var upstream = new HeaderUpstream(app);
            app.Run(context =>
            {
                Interlocked.Increment(ref upstream._requests);
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var header in context.Request.Headers)
                {
                    headers[header.Key] = header.Value.ToString();
                }
                upstream._seen.Writer.TryWrite(headers);
                var response = context.Response.Headers;
                response["x-up"] = "upstream";
                response["x-up-drop-route"] = "1";
                response["x-up-drop-vh"] = "1";
                response["x-up-drop-rc"] = "1";
                response["x-up-kept"] = "kept";
                return context.Response.WriteAsync("ok");
            });
            await app.StartAsync();
            upstream.Port = new Uri(app.Urls.First()).Port;
            return upstream;
        }

        public async Task<Dictionary<string, string>> LastRequestAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _seen.Reader.ReadAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
