using System.Text.Json;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's <c>http_protocol_options</c> (Envoy's Http1ProtocolOptions downstream): HTTP/1.0 with
/// <c>accept_http_10</c> and <c>default_host_for_http_10</c>, <c>allow_chunked_length</c>, and Proper-Case response
/// header names, over raw HTTP/1 bytes against a real echo upstream.
/// </summary>
public sealed class HttpProtocolOptionsTests
{
    private static string Yaml(EchoUpstream upstream, string options)
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: "http_protocol_options: " + options);

    private static async Task<(InProcessGateway Gateway, int Port)> StartAsync(EchoUpstream upstream, string options)
    {
        var gateway = await InProcessGateway.StartAsync(Yaml(upstream, options));
        return (gateway, gateway.ListenerUri("/").Port);
    }

    [Fact]
    public async Task Http10_AcceptHttp10_ProxiedWithItsHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ accept_http_10: true }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port, "GET /ten HTTP/1.0\r\nHost: old.example\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("old.example", EchoedHeader(response, "host"));
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task Http10_NoHostWithDefaultHost_UpstreamSeesTheDefault()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ accept_http_10: true, default_host_for_http_10: default.example }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port, "GET /ten HTTP/1.0\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("default.example", EchoedHeader(response, "host"));
    }

    [Fact]
    public async Task Http10_NoHostWithoutDefaultHost_Answers400AndReachesNoUpstream()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ accept_http_10: true }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port, "GET /ten HTTP/1.0\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Http10_WithoutAcceptHttp10_Answers426()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ allow_chunked_length: true }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port, "GET /ten HTTP/1.0\r\nHost: old.example\r\n\r\n");

        Assert.Equal(426, response.Status);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task ContentLengthWithChunked_AllowChunkedLength_ChunkedBodyForwardedWithoutTheLength()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ allow_chunked_length: true }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port,
            "POST /both HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("hello", Assert.Single(upstream.Bodies));
        Assert.Null(EchoedHeader(response, "content-length"));
        Assert.Null(EchoedHeader(response, "x-content-length"));
    }

    [Fact]
    public async Task ContentLengthWithChunked_Default_Answers400()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ accept_http_10: false }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port,
            "POST /both HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task ResponseHeaders_ProperCaseWords_NamesInProperCaseOnTheWire()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, port) = await StartAsync(upstream, "{ header_key_format: { proper_case_words: {} } }");
        await using var _ = gateway;

        var response = await RawHttpClient.SendRawAsync(port, "GET /x HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        var names = response.Headers.Select(h => h.Key).ToList();
        Assert.Contains("X-Envoy-Upstream-Service-Time", names);
        Assert.DoesNotContain("x-envoy-upstream-service-time", names);
    }

    [Theory]
    [InlineData("x-request-id", "X-Request-Id")]
    [InlineData("X-REQUEST-ID", "X-Request-Id")]
    [InlineData("content-type", "Content-Type")]
    [InlineData("x-b3-traceid", "X-B3-Traceid")]
    [InlineData("a1b2-c", "A1b2-C")]
    public void Format_HeaderName_EnvoysProperCase(string name, string expected)
        => Assert.Equal(expected, ProperCaseHeaderNames.Format(name));

    [Theory]
    [InlineData("http_protocol_options: { header_key_format: {} }", ".http_protocol_options.header_key_format.proper_case_words", "HeaderKeyFormatValidationError.HeaderFormat: value is required")]
    [InlineData("http_protocol_options: { enable_trailers: true }", ".http_protocol_options.enable_trailers", "field 'enable_trailers' of envoy.config.core.v3.Http1ProtocolOptions is not supported by this gateway yet")]
    [InlineData("http_protocol_options: { default_host_for_http_10: \"a b\" }", ".http_protocol_options.default_host_for_http_10", "'default_host_for_http_10' must be a valid Host value (got 'a b')")]
    public void Load_InvalidHttpProtocolOptions_ErrorAtTheField(string options, string path, string message)
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: options);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("typed_config" + path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AcceptHttp10OnACluster_RefusedUpstream()
    {
        var yaml = ListenerYaml.Build(1, string.Empty, clusters: """
            - name: h1
              http_protocol_options: { accept_http_10: true }
              load_assignment: { cluster_name: h1 }
            """);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith("http_protocol_options.accept_http_10", error.Location.Path, StringComparison.Ordinal);
        Assert.Equal("'accept_http_10' is not supported by this gateway upstream", error.Message);
    }

    /// <summary>A request header as the echo upstream saw it (its JSON body), or null.</summary>
    private static string? EchoedHeader(RawResponse response, string name)
    {
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(response.Body)!;
        foreach (var header in echoed.Headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }
        return null;
    }
}
