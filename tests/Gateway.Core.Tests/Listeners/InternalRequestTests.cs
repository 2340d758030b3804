using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>Internal requests (internal_address_config) and the router headers only they may use, over real loopback sockets.</summary>
public class InternalRequestTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private static string Config(EchoUpstream upstream, string routeExtra = "")
        => TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1", routeExtra: routeExtra)
            .Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          internal_address_config: { cidr_ranges: [ { address_prefix: 10.1.2.3, prefix_len: 8 } ] }", StringComparison.Ordinal);

    private static HttpRequestMessage Request(InProcessGateway gateway, string path, string? forwardedFor, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        if (forwardedFor is not null)
        {
            request.Headers.Add("x-forwarded-for", forwardedFor);
        }
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }
        return request;
    }

    [Fact]
    public async Task RetryOnHeader_InternalRequest_IsHonouredAndConsumed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = Request(gateway, "/flaky/2/503", "10.9.9.9", ("x-envoy-retry-on", "5xx"), ("x-envoy-max-retries", "2"));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.Requests);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;
        Assert.Equal("true", echoed.Headers["x-envoy-internal"]);
        Assert.False(echoed.Headers.ContainsKey("x-envoy-retry-on"));
        Assert.False(echoed.Headers.ContainsKey("x-envoy-max-retries"));
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 2);
        // Envoy counts internal requests' codes under internal., not external.
        await gateway.AssertStatAsync("cluster.httpbin_service.internal.upstream_rq_200", 1);
        Assert.Null(await gateway.StatAsync("cluster.httpbin_service.external.upstream_rq_200"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("192.168.1.1")]
    [InlineData("10.9.9.9, 10.8.8.8")]
    public async Task RetryOnHeader_ExternalRequest_IsStrippedAndIgnored(string? forwardedFor)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = Request(gateway, "/flaky/1/503", forwardedFor, ("x-envoy-retry-on", "5xx"), ("x-envoy-internal", "true"));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
    }

    [Fact]
    public async Task TimeoutHeader_InternalRequest_ReplacesTheRouteTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = Request(gateway, "/delay/3000", "10.0.0.1", ("x-envoy-upstream-rq-timeout-ms", "200"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_timeout", 1);
    }

    [Fact]
    public async Task PerTryTimeoutHeader_InternalRequest_IsAnnouncedUpstreamAndNotForwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = Request(gateway, "/", "10.0.0.1", ("x-envoy-upstream-rq-per-try-timeout-ms", "700"));

        using var response = await gateway.Client.SendAsync(request);

        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;
        Assert.Equal("700", echoed.Headers["x-envoy-expected-rq-timeout-ms"]);
        Assert.False(echoed.Headers.ContainsKey("x-envoy-upstream-rq-per-try-timeout-ms"));
    }

    [Fact]
    public async Task RetriableStatusCodesHeader_InternalRequest_AddsToTheRoutePolicy()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "\n                  retry_policy: { retry_on: gateway-error }"));
        using var request = Request(gateway, "/flaky/1/418", "10.0.0.1", ("x-envoy-retry-on", "retriable-status-codes"), ("x-envoy-retriable-status-codes", "418"));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.Requests);
    }

    [Theory]
    [InlineData("{ cidr_ranges: [ { address_prefix: 10.0.0.300, prefix_len: 8 } ] }", "malformed IP address: '10.0.0.300'")]
    [InlineData("{ cidr_ranges: [ { address_prefix: 10.0.0.0, prefix_len: 33 } ] }", "'prefix_len' 33 is too long for 10.0.0.0")]
    [InlineData("{ unix_sockets: true }", "field 'unix_sockets' of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig is not supported by this gateway yet")]
    public void LoadYaml_BadInternalAddressConfig_IsRejected(string config, string message)
    {
        var yaml = TestConfigs.Seed().Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          internal_address_config: " + config, StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Equal(message, Assert.Single(ex.Errors).Message);
    }
}
