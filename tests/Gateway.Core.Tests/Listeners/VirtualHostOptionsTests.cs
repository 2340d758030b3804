using System.Net;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// Virtual host and route options through the in-process gateway in front of a real Kestrel upstream:
/// <c>virtual_clusters</c> and route <c>stat_prefix</c> stats, <c>require_tls</c>, <c>grpc</c> route matches and
/// <c>ignore_port_in_host_matching</c>.
/// </summary>
public class VirtualHostOptionsTests
{
    /// <summary>One listener, one cluster on the upstream; <paramref name="routeConfig"/> is the route configuration's YAML body (indented 10).</summary>
    private static string Config(EchoUpstream upstream, string routeConfig, string hcmExtra = "") => $$"""
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
                  stat_prefix: ingress_http{{hcmExtra}}
                  http_filters:
                  - name: envoy.filters.http.router
                  route_config:
        {{routeConfig}}
          clusters:
          - name: backend
            connect_timeout: 5s
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstream.Port}} } } }
        """;

    private const string VirtualClusters = """
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      virtual_clusters:
                      - name: get_users
                        headers:
                        - { name: ":method", string_match: { exact: GET } }
                        - { name: ":path", safe_regex_match: { regex: "/users/[0-9]+" } }
                      - name: posts
                        headers:
                        - { name: ":method", string_match: { exact: POST } }
                      routes:
                      - name: status
                        match: { prefix: "/status/" }
                        stat_prefix: status_route
                        route: { cluster: backend, retry_policy: { retry_on: 5xx, num_retries: 1 } }
                      - match: { prefix: "/" }
                        route: { cluster: backend, timeout: 0.3s }
        """;

    [Fact]
    public async Task VirtualClusters_Requests_ChargeTheFirstMatchingVirtualCluster()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, VirtualClusters));

        using var user = await gateway.Client.GetAsync(gateway.ListenerUri("/users/42"));
        using var post = await gateway.Client.PostAsync(gateway.ListenerUri("/users/42"), new StringContent("x"));
        using var other = await gateway.Client.GetAsync(gateway.ListenerUri("/users/abc"));
        using var missing = await gateway.Client.GetAsync(gateway.ListenerUri("/status/404"));

        Assert.Equal(HttpStatusCode.OK, user.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await gateway.AssertStatAsync("vhost.api.vcluster.get_users.upstream_rq_total", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.get_users.upstream_rq_200", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.get_users.upstream_rq_2xx", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.get_users.upstream_rq_completed", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.posts.upstream_rq_total", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.posts.upstream_rq_200", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_total", 2);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_200", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_404", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_4xx", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.posts.upstream_rq_timeout", 0);
        var histograms = await gateway.Client.GetStringAsync(gateway.AdminUri("/stats?filter=vcluster.get_users.upstream_rq_time"));
        Assert.Contains("vhost.api.vcluster.get_users.upstream_rq_time", histograms, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VirtualClusters_RouteTimeout_ChargesTimeoutAnd504()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, VirtualClusters));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_timeout", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_504", 1);
        await gateway.AssertStatAsync("vhost.api.vcluster.get_users.upstream_rq_timeout", 0);
    }

    [Fact]
    public async Task VirtualClusters_NoneConfigured_NoVirtualClusterStats()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, """
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: backend }
        """));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_200", 1);
        Assert.Null(await gateway.StatAsync("vhost.api.vcluster.other.upstream_rq_total"));
    }

    [Fact]
    public async Task StatPrefix_RetriedRequest_ChargesRouteStatsLikeTheCluster()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, VirtualClusters));

        using var flaky = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));
        using var fine = await gateway.Client.GetAsync(gateway.ListenerUri("/status/201"));
        using var unprefixed = await gateway.Client.GetAsync(gateway.ListenerUri("/users/1"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, flaky.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fine.StatusCode);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_total", 3);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_retry_limit_exceeded", 1);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_503", 1);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_201", 1);
        await gateway.AssertStatAsync("vhost.api.route.status_route.upstream_rq_completed", 2);
        await gateway.AssertStatAsync("vhost.api.vcluster.other.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_total", 4);
    }

    private const string RequireTls = """
                    virtual_hosts:
                    - name: secure
                      domains: ["secure.example", "secure.example:*"]
                      require_tls: ALL
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: backend }
                    - name: external
                      domains: ["*"]
                      require_tls: EXTERNAL_ONLY
                      routes:
                      - match: { prefix: "/only" }
                        route: { cluster: backend }
        """;

    private const string InternalRanges = """

                  internal_address_config:
                    cidr_ranges: [ { address_prefix: 10.0.0.0, prefix_len: 8 } ]
        """;

    [Theory]
    [InlineData("secure.example", "/a?b=1", null, null, "https://secure.example/a?b=1")]
    [InlineData("secure.example:8080", "/x", "http", null, "https://secure.example:8080/x")]
    [InlineData("other.example", "/none", null, null, "https://other.example/none")]
    [InlineData("other.example", "/only", "http", "10.1.2.3", null)]
    [InlineData("secure.example", "/a", "https", null, null)]
    [InlineData("secure.example", "/a", "http", "10.1.2.3", "https://secure.example/a")]
    public async Task RequireTls_PlainRequest_IsRedirectedToHttps(string host, string path, string? forwardedProto, string? forwardedFor, string? location)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, RequireTls, InternalRanges));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        request.Headers.Host = host;
        if (forwardedProto is not null)
        {
            request.Headers.Add("x-forwarded-proto", forwardedProto);
        }
        if (forwardedFor is not null)
        {
            request.Headers.Add("x-forwarded-for", forwardedFor);
        }

        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await client.SendAsync(request);

        if (location is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, upstream.Requests);
            return;
        }
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.rq_direct_response", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_3xx", 1);
    }

    [Fact]
    public async Task GrpcMatch_GrpcContentTypes_TakeTheGrpcRoute()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, """
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/", grpc: {} }
                        direct_response: { status: 200, body: { inline_string: grpc } }
                      - match: { prefix: "/" }
                        direct_response: { status: 200, body: { inline_string: plain } }
        """));

        Assert.Equal("grpc", await PostAsync("application/grpc"));
        Assert.Equal("grpc", await PostAsync("application/grpc+proto"));
        Assert.Equal("grpc", await PostAsync("application/grpc;charset=utf-8"));
        Assert.Equal("plain", await PostAsync("application/grpcx"));
        Assert.Equal("plain", await PostAsync("application/json"));
        Assert.Equal("plain", await PostAsync(null));

        async Task<string> PostAsync(string? contentType)
        {
            using var content = new ByteArrayContent([1]);
            if (contentType is not null)
            {
                content.Headers.TryAddWithoutValidation("content-type", contentType);
            }
            using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/svc/Method"), content);
            // A direct response is a local reply: a gRPC request gets its body as grpc-message (Envoy's prepareLocalReply).
            return response.Headers.TryGetValues("grpc-message", out var message) ? string.Join(",", message) : await response.Content.ReadAsStringAsync();
        }
    }

    [Theory]
    [InlineData(true, "api.example:9999", "api")]
    [InlineData(true, "api.example", "api")]
    [InlineData(true, "[::1]:80", "v6")]
    [InlineData(true, "[::1]", "v6")]
    [InlineData(false, "api.example:9999", "fallback")]
    [InlineData(false, "api.example", "api")]
    public async Task IgnorePortInHostMatching_Authority_SelectsVirtualHost(bool ignorePort, string host, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, $$"""
                    ignore_port_in_host_matching: {{(ignorePort ? "true" : "false")}}
                    virtual_hosts:
                    - name: api
                      domains: ["api.example"]
                      routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: api } } } ]
                    - name: v6
                      domains: ["[::1]"]
                      routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: v6 } } } ]
                    - name: fallback
                      domains: ["*"]
                      routes: [ { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: fallback } } } ]
        """));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.TryAddWithoutValidation("host", host);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    private static string DurationRoutes(string maxStreamDuration) => $$"""
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: backend, timeout: 0.2s, max_stream_duration: {{maxStreamDuration}} }
        """;

    [Fact]
    public async Task MaxStreamDuration_SlowUpstream_Answers504DurationTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, DurationRoutes("{ max_stream_duration: 0.4s }")));
        var started = DateTime.UtcNow;

        using var slow = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));

        var elapsed = DateTime.UtcNow - started;
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Equal("downstream duration timeout", await slow.Content.ReadAsStringAsync());
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2.5));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_max_duration_reached", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_cancelled", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_timeout", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
    }

    [Fact]
    public async Task MaxStreamDuration_Set_RouteTimeoutNoLongerApplies()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, DurationRoutes("{ max_stream_duration: 0s }")));

        // The route's 0.2 s timeout would cut this; with max_stream_duration (0: none) Envoy uses neither.
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/400"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("x-envoy-expected-rq-timeout-ms", echoed, StringComparison.Ordinal);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_max_duration_reached", 0);
    }

    [Theory]
    [InlineData("application/grpc", "10S", "{ grpc_timeout_header_max: 0.3s }", "300m")]
    [InlineData("application/grpc", "1S", "{ grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 0.2s }", "800m")]
    [InlineData("application/grpc+proto", "1500001u", "{ grpc_timeout_header_max: 5s }", "1501m")]
    [InlineData("application/json", "1S", "{ grpc_timeout_header_max: 5s }", "1S")]
    [InlineData("application/grpc", "1S", "{ max_stream_duration: 5s }", "5000m")]
    public async Task MaxStreamDuration_GrpcTimeoutHeader_IsTheLimitSentUpstream(string contentType, string grpcTimeout, string config, string upstreamSees)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, DurationRoutes(config)));
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/echo")) { Content = new ByteArrayContent([0]) };
        request.Content.Headers.TryAddWithoutValidation("content-type", contentType);
        request.Headers.Add("grpc-timeout", grpcTimeout);

        using var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var echoed = System.Text.Json.JsonDocument.Parse(text);

        Assert.Equal(upstreamSees, echoed.RootElement.GetProperty("Headers").GetProperty("grpc-timeout").GetString());
    }

    [Fact]
    public async Task MaxStreamDuration_GrpcTimeoutUnderTheCap_EndsTheSlowRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, DurationRoutes("{ max_stream_duration: 10s, grpc_timeout_header_max: 10s }")));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/delay/3000"));
        request.Headers.Add("grpc-timeout", "300m");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("downstream duration timeout", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_max_duration_reached", 1);
    }

    [Fact]
    public async Task MaxStreamDuration_RequestBodyNeverEnds_Answers408()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, DurationRoutes("{ max_stream_duration: 0.3s }")));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        // Ten bytes announced, two sent: the request is never received in full.
        await connection.WriteAsync("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(408, response.Status);
        Assert.Equal("downstream duration timeout", response.Body);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_max_duration_reached", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
    }

    private static string IdleRoutes(string idleTimeout) => $$"""
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: backend, idle_timeout: {{idleTimeout}} }
        """;

    [Fact]
    public async Task IdleTimeout_SlowUpstream_Answers504StreamTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, IdleRoutes("0.3s")));
        var started = DateTime.UtcNow;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));

        var elapsed = DateTime.UtcNow - started;
        // The GET was all in: Envoy's maybeRequestTimeoutCode answers 504, not 408.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("stream timeout", await response.Content.ReadAsStringAsync());
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2.5));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_cancelled", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
    }

    [Fact]
    public async Task IdleTimeout_RequestBodyKeepsComing_IsNeverIdle()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, IdleRoutes("1.5s")));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        // Eight bytes, one every 250 ms: 2 s in all, longer than the timeout, but never 1.5 s without
        // one; the 1.25 s of slack per gap absorbs a loaded CI machine's late timers.
        await connection.WriteAsync("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n");
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(250);
            await connection.WriteAsync("x");
        }
        var response = await connection.ReadResponseAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal("xxxxxxxx", Assert.Single(upstream.Bodies));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 0);
    }

    [Fact]
    public async Task IdleTimeout_Zero_DisablesIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, IdleRoutes("0s")));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/300"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 0);
    }
}
