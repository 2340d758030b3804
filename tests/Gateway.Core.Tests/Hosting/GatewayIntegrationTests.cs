using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Hosting;

/// <summary>The seed lab's configuration in-process, against a real Kestrel upstream: every header Envoy sets, asserted.</summary>
public partial class GatewayIntegrationTests
{
    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV4();

    private static string SeedAt(EchoUpstream upstream, string type = "LOGICAL_DNS", string address = "localhost", string routeExtra = "")
        => TestConfigs.Seed(address, upstream.Port, type, listenerPort: 0, adminPort: 0, routeExtra: routeExtra, listenerAddress: "127.0.0.1");

    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private static async Task<EchoedRequest> EchoAsync(HttpResponseMessage response)
        => JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

    [Fact]
    public async Task Proxy_SeedConfig_SendsEnvoysUpstreamHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/headers?a=1"));
        request.Headers.UserAgent.ParseAdd("curl/8.7.1");
        request.Headers.Add("x-envoy-retry-on", "5xx");
        request.Headers.Add("x-envoy-max-retries", "7");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = await EchoAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET", echoed.Method);
        Assert.Equal("/headers?a=1", echoed.Path);
        Assert.Equal("localhost", echoed.Headers["host"]);
        Assert.Equal("http", echoed.Headers["x-forwarded-proto"]);
        Assert.Equal("15000", echoed.Headers["x-envoy-expected-rq-timeout-ms"]);
        Assert.Matches(UuidV4(), echoed.Headers["x-request-id"]);
        Assert.Equal("curl/8.7.1", echoed.Headers["user-agent"]);
        Assert.False(echoed.Headers.ContainsKey("x-forwarded-for"));
        Assert.False(echoed.Headers.ContainsKey("x-forwarded-host"));
        Assert.False(echoed.Headers.ContainsKey("traceparent"));
        Assert.False(echoed.Headers.ContainsKey("x-envoy-retry-on"));
        Assert.False(echoed.Headers.ContainsKey("x-envoy-max-retries"));
        Assert.False(echoed.Headers.ContainsKey("x-envoy-internal"));
    }

    [Fact]
    public async Task Proxy_SeedConfig_AddsEnvoysResponseHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/headers"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        var serviceTime = Assert.Single(response.Headers.GetValues("x-envoy-upstream-service-time"));
        Assert.True(int.TryParse(serviceTime, out var ms) && ms >= 0, serviceTime);
        Assert.False(response.Headers.Contains("x-request-id"));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Proxy_ClientRequestId_IsPreserved()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Add("x-request-id", "my-id-1");
        request.Headers.Add("x-forwarded-proto", "https");

        var echoed = await EchoAsync(await gateway.Client.SendAsync(request));

        Assert.Equal("my-id-1", echoed.Headers["x-request-id"]);
        Assert.Equal("https", echoed.Headers["x-forwarded-proto"]);
    }

    [Fact]
    public async Task Proxy_StaticClusterWithAutoHostRewrite_KeepsClientHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream, "STATIC", "127.0.0.1"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Host = "client.example:1234";

        var echoed = await EchoAsync(await gateway.Client.SendAsync(request));

        Assert.Equal("client.example:1234", echoed.Headers["host"]);
    }

    [Fact]
    public async Task Proxy_UpstreamStatus_IsPassedThroughAndCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));

        using var ok = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
        using var unavailable = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_total", 2);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.rq_total", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.external.upstream_rq_503", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_completed", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_active", 0);
        await gateway.AssertStatAsync("cluster.httpbin_service.membership_total", 1);
    }

    [Fact]
    public async Task Proxy_RouteTimeout_Answers504WithEnvoysBody()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream, routeExtra: "\n                  timeout: 0.5s"));
        var started = DateTime.UtcNow;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));

        var elapsed = DateTime.UtcNow - started;
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(2.5));
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_timeout", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_504", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
    }

    [Fact]
    public async Task Proxy_TimeoutSent_IsTheRouteTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream, routeExtra: "\n                  timeout: 1s"));

        var echoed = await EchoAsync(await gateway.Client.GetAsync(gateway.ListenerUri("/")));

        Assert.Equal("1000", echoed.Headers["x-envoy-expected-rq-timeout-ms"]);
    }

    [Fact]
    public async Task Proxy_ZeroTimeout_SendsNoTimeoutHeader()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream, routeExtra: "\n                  timeout: 0s"));

        var echoed = await EchoAsync(await gateway.Client.GetAsync(gateway.ListenerUri("/")));

        Assert.False(echoed.Headers.ContainsKey("x-envoy-expected-rq-timeout-ms"));
    }

    [Fact]
    public async Task Proxy_UpstreamDown_Answers503WithEnvoysConnectErrorBody()
    {
        int closedPort;
        await using (var upstream = await EchoUpstream.StartAsync())
        {
            closedPort = upstream.Port;
        }
        var yaml = TestConfigs.Seed("127.0.0.1", closedPort, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_connect_fail", 1);
        // Envoy charges upstream_rq_total when the stream attaches to a connection: a failed connect never does.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 0);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_503", 1);
    }

    [Fact]
    public async Task Proxy_NoRoute_Answers404AndCountsNoRoute()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = SeedAt(upstream).Replace("match: { prefix: \"/\" }", "match: { prefix: \"/api\" }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/other"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.no_route", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
    }

    [Fact]
    public async Task Proxy_PrefixRewrite_RewritesPathAndKeepsOriginal()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = SeedAt(upstream, routeExtra: "\n                  prefix_rewrite: /v2/").Replace("match: { prefix: \"/\" }", "match: { prefix: \"/api/\" }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        var echoed = await EchoAsync(await gateway.Client.GetAsync(gateway.ListenerUri("/api/users?x=1")));

        Assert.Equal("/v2/users?x=1", echoed.Path);
        Assert.Equal("/api/users?x=1", echoed.Headers["x-envoy-original-path"]);
    }

    [Fact]
    public async Task Admin_ReadyAndStats_AnswerOnAdminPortOnly()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));

        using var ready = await gateway.Client.GetAsync(gateway.AdminUri("/ready"));
        using var viaListener = await gateway.Client.GetAsync(gateway.ListenerUri("/ready"));

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("LIVE\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal("no-cache, max-age=0", ready.Headers.CacheControl!.ToString());
        // On the data listener /ready is just a path, proxied to the upstream.
        var echoed = await EchoAsync(viaListener);
        Assert.Equal("/ready", echoed.Path);
        await gateway.AssertStatAsync("server.live", 1);
    }

    [Fact]
    public async Task Admin_UnknownPath_Answers404WithHelp()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(SeedAt(upstream));

        using var response = await gateway.Client.GetAsync(gateway.AdminUri("/nope"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("invalid path. admin commands are:\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>Hop-by-hop headers and the connection manager's server header settings.</summary>
public class ConnectionManagerHeaderTests
{
    private static readonly System.Text.Json.JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    [Fact]
    public async Task Proxy_HopByHopHeaders_AreNotForwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        request.Headers.TryAddWithoutValidation("Proxy-Connection", "keep-alive");
        request.Headers.TryAddWithoutValidation("x-envoy-internal", "true");
        request.Headers.TryAddWithoutValidation("x-kept", "yes");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.False(echoed.Headers.ContainsKey("keep-alive"));
        Assert.False(echoed.Headers.ContainsKey("proxy-connection"));
        Assert.False(echoed.Headers.ContainsKey("x-envoy-internal"));
        Assert.False(echoed.Headers.ContainsKey("transfer-encoding"));
        Assert.Equal("yes", echoed.Headers["x-kept"]);
    }

    [Theory]
    [InlineData("server_name: my-gateway", "my-gateway")]
    [InlineData("server_header_transformation: PASS_THROUGH", "upstream-server")]
    [InlineData("server_header_transformation: APPEND_IF_ABSENT", "upstream-server")]
    public async Task Proxy_ServerHeaderSettings_AreApplied(string setting, string expectedServer)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")
            .Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          " + setting, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(expectedServer, Assert.Single(response.Headers.GetValues("server")));
    }

    [Fact]
    public async Task Proxy_AlwaysSetRequestIdInResponse_EchoesTheId()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")
            .Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          always_set_request_id_in_response: true", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Add("x-request-id", "abc-123");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("abc-123", Assert.Single(response.Headers.GetValues("x-request-id")));
    }
}
