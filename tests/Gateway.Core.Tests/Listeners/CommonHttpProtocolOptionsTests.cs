using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's <c>common_http_protocol_options</c>: <c>idle_timeout</c> and <c>max_headers_count</c> as
/// Kestrel's server-wide limits, <c>headers_with_underscores_action</c> per connection manager over both protocols,
/// and the connection and stream limits refused by path.
/// </summary>
public class CommonHttpProtocolOptionsTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private static string Yaml(EchoUpstream upstream, string options, string codec = "")
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: codec + "common_http_protocol_options: " + options);

    [Fact]
    public async Task Start_IdleTimeoutAndMaxHeadersCount_AreKestrelsLimits()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ idle_timeout: 300s, max_headers_count: 50 }"));
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(TimeSpan.FromSeconds(300), limits.KeepAliveTimeout);
        Assert.Equal(50, limits.MaxRequestHeaderCount);
    }

    [Fact]
    public async Task Start_IdleTimeoutZero_KeepsIdleConnectionsForEver()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ idle_timeout: 0s }"));
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        // Kestrel stores Timeout.InfiniteTimeSpan as its largest value.
        Assert.Equal(TimeSpan.MaxValue, limits.KeepAliveTimeout);
    }

    [Fact]
    public async Task Request_MoreHeadersThanMaxHeadersCount_Answers431AndReachesNoUpstream()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_headers_count: 10 }"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        for (var i = 0; i < 12; i++)
        {
            request.Headers.TryAddWithoutValidation("x-h" + i, "v");
        }

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Request_UnderscoreHeaderDropHeader_DroppedAndCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ headers_with_underscores_action: DROP_HEADER }"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.TryAddWithoutValidation("x_user", "mallory");
        request.Headers.TryAddWithoutValidation("x-user", "alice");
        request.Headers.TryAddWithoutValidation("_lead", "1");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(echoed.Headers.ContainsKey("x_user"));
        Assert.False(echoed.Headers.ContainsKey("_lead"));
        Assert.Equal("alice", echoed.Headers["x-user"]);
        await gateway.AssertStatAsync("http1.dropped_headers_with_underscores", 2);
    }

    [Fact]
    public async Task Request_UnderscoreHeaderRejectRequestHttp1_Answers400AndClosesConnection()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ headers_with_underscores_action: REJECT_REQUEST }"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.TryAddWithoutValidation("x_user", "mallory");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Bad Request", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.ConnectionClose);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http1.requests_rejected_with_underscores_in_headers", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_protocol_error", 1);
    }

    [Fact]
    public async Task Request_UnderscoreHeaderRejectRequestHttp2_StreamReset()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ headers_with_underscores_action: REJECT_REQUEST }", "codec_type: HTTP2\n"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("x_user", "mallory");

        await Assert.ThrowsAsync<HttpRequestException>(() => gateway.Client.SendAsync(request));

        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http2.requests_rejected_with_underscores_in_headers", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_active", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_tx_reset", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_rx_reset", 0);
    }

    [Fact]
    public async Task Request_UnderscoreHeaderAllow_Forwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.TryAddWithoutValidation("x_user", "bob");

        using var response = await gateway.Client.SendAsync(request);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        Assert.Equal("bob", echoed.Headers["x_user"]);
        Assert.Null(await gateway.StatAsync("http1.dropped_headers_with_underscores"));
    }

    [Fact]
    public async Task Request_MaxRequestsPerConnectionHttp1_LastResponseClosesTheConnection()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_requests_per_connection: 2 }"));

        using var first = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        using var second = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        using var third = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.False(first.Headers.ConnectionClose ?? false);
        Assert.True(second.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_requests_reached", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_total", 2);
    }

    [Fact]
    public async Task Request_MaxRequestsPerConnectionHttp2_GoawayMovesTheNextRequestToANewConnection()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_requests_per_connection: 2 }", "codec_type: HTTP2\n"));

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_requests_reached", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_total", 2);
    }

    [Fact]
    public async Task Connection_MaxConnectionDurationAfterARequest_NextRequestEndsTheDrainAndTheOneAfterOpensAnother()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await EchoUpstream.StartAsync();
        // No delayed close: on the fake clock the drained connection would wait for ever for HttpClient, which keeps it pooled.
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_connection_duration: 60s }", "delayed_close_timeout: 0s\n"), services => services.AddSingleton<TimeProvider>(time));
        using var first = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        time.Advance(TimeSpan.FromSeconds(61));
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_duration_reached", 1);
        // Draining (drain_timeout, 5 s by default): the next request is served on the connection, which it closes.
        using var second = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        using var third = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(second.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_total", 2);
    }

    [Fact]
    public async Task Connection_MaxConnectionDurationWithoutARequest_ClosedAtOnce()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_connection_duration: 60s }"), services => services.AddSingleton<TimeProvider>(time));
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, gateway.ListenerUri("/").Port);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_active", 1);

        time.Advance(TimeSpan.FromSeconds(61));
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await client.GetStream().ReadAsync(buffer, timeout.Token);

        Assert.Equal(0, read);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_max_duration_reached", 1);
    }

    [Theory]
    [InlineData("max_response_headers_kb: 80", "max_response_headers_kb")]
    public void Load_ConnectionOrStreamLimit_RefusedByPath(string option, string field)
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "common_http_protocol_options: { " + option + " }");

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith("common_http_protocol_options." + field, error.Location.Path, StringComparison.Ordinal);
        Assert.Contains("is not supported by this gateway yet on a connection manager", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_MaxStreamDurationSlowUpstream_Answers504DownstreamDurationTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ListenerYaml.Build(upstream.Port, string.Empty, routes: """
            - match: { prefix: "/own" }
              route: { cluster: echo, max_stream_duration: { max_stream_duration: 0s } }
            - match: { prefix: "/" }
              route: { cluster: echo }
            """, connectionManager: "common_http_protocol_options: { max_stream_duration: 0.3s }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var limited = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));
        using var unlimited = await gateway.Client.GetAsync(gateway.ListenerUri("/own/delay/600"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, limited.StatusCode);
        Assert.Equal("downstream duration timeout", await limited.Content.ReadAsStringAsync());
        // The route's max_stream_duration of 0 turns the connection manager's off (Envoy's refreshDurationTimeout).
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_max_duration_reached", 1);
    }

    [Fact]
    public void Load_MaxHeadersCountZero_Fails()
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "common_http_protocol_options: { max_headers_count: 0 }");

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains("'max_headers_count' must be greater than or equal to 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OneOfTwoListenersSetsIdleTimeout_FailsAsKestrelHasOne()
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "common_http_protocol_options: { idle_timeout: 300s }");
        var second = yaml[yaml.IndexOf("  - name: httpbin-demo", StringComparison.Ordinal)..yaml.IndexOf("  clusters:", StringComparison.Ordinal)]
            .Replace("name: httpbin-demo", "name: second", StringComparison.Ordinal)
            .Replace("common_http_protocol_options: { idle_timeout: 300s }", string.Empty, StringComparison.Ordinal);
        yaml = yaml.Replace("  clusters:", second + "  clusters:", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains("'idle_timeout' is 3600s here but 300s at", error.Message, StringComparison.Ordinal);
        Assert.Contains("an unset one has Envoy's default", error.Message, StringComparison.Ordinal);
    }
}
