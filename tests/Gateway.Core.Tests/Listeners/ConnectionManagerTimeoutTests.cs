using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's own timeouts through real Kestrel: <c>stream_idle_timeout</c> (and a route's
/// <c>idle_timeout</c> over it), <c>request_timeout</c> and <c>request_headers_timeout</c>.
/// </summary>
public class ConnectionManagerTimeoutTests
{
    private static string Yaml(EchoUpstream upstream, string connectionManager, string route = "route: { cluster: echo }") => Common.ListenerYaml.Build(
        upstream.Port,
        httpFilters: "",
        routes: $$"""
            - match: { prefix: "/" }
              {{route}}
            """,
        connectionManager: connectionManager);

    [Fact]
    public async Task StreamIdleTimeout_SlowUpstreamRequestComplete_Answers504StreamTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "stream_idle_timeout: 0.3s", "route: { cluster: echo, timeout: 0s }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3000"));

        // Envoy's maybeRequestTimeoutCode: the request was all in, so the gateway, not the client, is waiting.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("stream timeout", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
    }

    [Fact]
    public async Task StreamIdleTimeout_RouteIdleTimeoutZero_DisablesItOnTheRoute()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "stream_idle_timeout: 0.2s", "route: { cluster: echo, idle_timeout: 0s }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/600"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 0);
    }

    [Fact]
    public async Task StreamIdleTimeout_Zero_DisablesIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "stream_idle_timeout: 0s"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/300"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 0);
    }

    [Fact]
    public async Task RequestTimeout_BodyNeverArrives_Answers408RequestTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "request_timeout: 0.3s"));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        // Ten bytes announced, two sent: the request never arrives in full.
        await connection.WriteAsync("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(408, response.Status);
        Assert.Equal("request timeout", response.Body);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_timeout", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
    }

    [Fact]
    public async Task RequestTimeout_RequestInBeforeItFires_DoesNotLimitTheResponse()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "request_timeout: 0.2s"));

        using var get = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/600"));
        using var post = await gateway.Client.PostAsync(gateway.ListenerUri("/delay/600"), new StringContent("body"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_timeout", 0);
    }

    [Fact]
    public async Task RequestHeadersTimeout_HeadersNeverEnd_Answers408AndCountsIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "request_headers_timeout: 1s"));
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);

        await connection.WriteAsync("GET /echo HTTP/1.1\r\nHost: a\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Equal(408, response.Status);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_header_timeout", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_cx_protocol_error", 0);
    }

    [Theory]
    [InlineData("stream_idle_timeout")]
    [InlineData("request_timeout")]
    [InlineData("request_headers_timeout")]
    public void Load_NegativeTimeout_FailsNamingTheField(string field)
    {
        var yaml = Common.ListenerYaml.Build(1, "", connectionManager: field + ": -1s");

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith("." + field, error.Location.Path, StringComparison.Ordinal);
        Assert.Contains($"'{field}' may not be negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TwoListenersDisagreeOnRequestHeadersTimeout_FailsAsKestrelHasOne()
    {
        var yaml = Common.ListenerYaml.Build(1, "", connectionManager: "request_headers_timeout: 2s");
        var second = yaml[yaml.IndexOf("  - name: httpbin-demo", StringComparison.Ordinal)..yaml.IndexOf("  clusters:", StringComparison.Ordinal)]
            .Replace("name: httpbin-demo", "name: second", StringComparison.Ordinal)
            .Replace("request_headers_timeout: 2s", "request_headers_timeout: 3s", StringComparison.Ordinal);
        yaml = yaml.Replace("  clusters:", second + "  clusters:", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains("'request_headers_timeout' is 3s here but 2s at", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel applies one value to every listener", error.Message, StringComparison.Ordinal);
    }
}
