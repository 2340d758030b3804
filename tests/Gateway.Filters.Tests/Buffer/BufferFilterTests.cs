using System.Net;
using Gateway.Filters;
using Gateway.Tests.Compression;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Buffer;

/// <summary>envoy.filters.http.buffer through the in-process gateway against a real upstream.</summary>
public class BufferFilterTests
{
    private static string Config(uint maxRequestBytes) => "\"@type\": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer\nmax_request_bytes: " + maxRequestBytes;

    private static Task<InProcessGateway> StartAsync(ContentUpstream upstream, uint maxRequestBytes, string routeExtra = "")
        => InProcessGateway.StartAsync(FilterYaml.Config(upstream.Port, "envoy.filters.http.buffer", Config(maxRequestBytes), routeExtra), configureGateway: g => g.AddBuiltInHttpFilters());

    /// <summary>A body sent chunked (no content-length), so only the filter can give it one.</summary>
    private static StreamContent Chunked(int length)
    {
        var content = new StreamContent(new MemoryStream(ContentUpstream.Text(length)));
        return content;
    }

    private static async Task<HttpResponseMessage> PostChunkedAsync(InProcessGateway gateway, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/echo")) { Content = Chunked(length) };
        request.Headers.TransferEncodingChunked = true;
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Request_WithinLimit_UpstreamGetsWholeBodyWithContentLength()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, 4096);

        using var response = await PostChunkedAsync(gateway, 3000);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (headers, body) = Assert.Single(upstream.Requests);
        Assert.Equal("3000", headers.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ContentUpstream.Text(3000), body);
    }

    [Fact]
    public async Task Request_OverLimit_413AndDownstreamRqTooLarge()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, 1000);

        using var response = await PostChunkedAsync(gateway, 3000);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("Payload Too Large", await response.Content.ReadAsStringAsync());
        Assert.Empty(upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_too_large", 1);
    }

    [Fact]
    public async Task Request_ContentLengthOverLimit_413BeforeReading()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, 1000);

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/echo"), new ByteArrayContent(ContentUpstream.Text(1001)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_too_large", 1);
    }

    [Fact]
    public async Task Request_LimitAboveDefaultBufferLimit_RaisesIt()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, 3 * 1024 * 1024);

        using var response = await PostChunkedAsync(gateway, 2 * 1024 * 1024);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2 * 1024 * 1024, Assert.Single(upstream.Requests).Body.Length);
    }

    [Fact]
    public async Task Request_PerRouteDisabled_StreamsWithoutLimit()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var route = """
                        typed_per_filter_config:
                          envoy.filters.http.buffer: { "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute, disabled: true }
        """;
        await using var gateway = await StartAsync(upstream, 100, route);

        using var response = await PostChunkedAsync(gateway, 2 * 1024 * 1024);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (headers, body) = Assert.Single(upstream.Requests);
        Assert.Null(headers.ContentLength);
        Assert.Equal(2 * 1024 * 1024, body.Length);
    }

    [Fact]
    public async Task Request_PerRouteBuffer_OverridesLimit()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var route = """
                        typed_per_filter_config:
                          envoy.filters.http.buffer: { "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute, buffer: { max_request_bytes: 10 } }
        """;
        await using var gateway = await StartAsync(upstream, 100000, route);

        using var response = await PostChunkedAsync(gateway, 11);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_too_large", 1);
    }

    [Fact]
    public async Task Request_NoBody_PassesThrough()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, 10);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/5"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(upstream.Requests);
    }
}
