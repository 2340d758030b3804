using System.Net;
using System.Net.Http.Headers;
using Gateway.Filters;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Compression;

/// <summary>envoy.filters.http.decompressor through the in-process gateway against a real upstream.</summary>
public class DecompressorFilterTests
{
    private const string Gzip = """
        "@type": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor
        decompressor_library:
          name: basic
          typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip }
        """;

    private const string Stat = "http.ingress_http.decompressor.basic.gzip.";

    private static Task<InProcessGateway> StartAsync(ContentUpstream upstream, string config = Gzip)
        => InProcessGateway.StartAsync(FilterYaml.Config(upstream.Port, "envoy.filters.http.decompressor", config), configureGateway: g => g.AddBuiltInHttpFilters());

    [Fact]
    public async Task Response_GzipFromUpstream_DecompressedWithStats()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/4000?enc=gzip"));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.Equal(ContentUpstream.Text(4000), body);
        await gateway.AssertStatAsync(Stat + "response.decompressed", 1);
        await gateway.AssertStatAsync(Stat + "response.total_uncompressed_bytes", 4000);
        await gateway.AssertStatAsync(Stat + "response.total_compressed_bytes", ContentUpstream.Gzip(ContentUpstream.Text(4000)).Length);
    }

    [Fact]
    public async Task Request_AdvertisesAcceptEncoding_OnceAndLast()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/text/10"));
        request.Headers.TryAddWithoutValidation("accept-encoding", "gzip;q=0.5, br");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("br,gzip", Assert.Single(upstream.Requests).Headers.AcceptEncoding.ToString());
        await gateway.AssertStatAsync(Stat + "response.not_decompressed", 1);
    }

    [Fact]
    public async Task Request_GzipBody_DecompressedForUpstream()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);
        var data = ContentUpstream.Text(3000);
        var compressed = ContentUpstream.Gzip(data);
        using var content = new ByteArrayContent(compressed);
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/echo"), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (headers, body) = Assert.Single(upstream.Requests);
        Assert.False(headers.ContainsKey("content-encoding"));
        Assert.Equal(data, body);
        await gateway.AssertStatAsync(Stat + "request.decompressed", 1);
        await gateway.AssertStatAsync(Stat + "request.total_compressed_bytes", compressed.Length);
        await gateway.AssertStatAsync(Stat + "request.total_uncompressed_bytes", 3000);
    }

    [Fact]
    public async Task Request_TwoCodings_OnlyTheFirstRemoved()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);
        var data = ContentUpstream.Text(500);
        using var content = new ByteArrayContent(ContentUpstream.Gzip(data));
        content.Headers.TryAddWithoutValidation("content-encoding", "gzip, identity");

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/echo"), content);

        var (headers, body) = Assert.Single(upstream.Requests);
        Assert.Equal("identity", headers.ContentEncoding.ToString());
        Assert.Equal(data, body);
    }

    [Theory]
    [InlineData("/text/1000?enc=br")]
    [InlineData("/text/1000?enc=gzip&cc=no-transform")]
    [InlineData("/text/1000")]
    public async Task Response_NotForThisDecompressor_PassesThrough(string path)
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));

        Assert.True(response.Content.Headers.NonValidated.Contains("Content-Length"));
        await gateway.AssertStatAsync(Stat + "response.not_decompressed", 1);
        await gateway.AssertStatAsync(Stat + "response.decompressed", 0);
    }

    [Fact]
    public async Task Response_IgnoreNoTransformHeader_Decompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { common_config: { ignore_no_transform_header: true } }");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/1000?enc=gzip&cc=no-transform"));

        Assert.Equal(ContentUpstream.Text(1000), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Response_CorruptGzip_CountsLibraryError()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/1000?enc=gzip&bad=1"));
        await response.Content.ReadAsByteArrayAsync();

        await gateway.AssertStatAsync(Stat + "response.decompressed", 1);
        await gateway.AssertStatAsync(Stat + "decompressor_library.zlib_data_error", 1);
    }

    [Fact]
    public async Task Response_Brotli_Decompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var config = """
            "@type": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor
            decompressor_library: { name: b, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.brotli.decompressor.v3.Brotli } }
            request_direction_config: { advertise_accept_encoding: false }
            """;
        await using var gateway = await StartAsync(upstream, config);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/2000?enc=br&chunked=1"));

        Assert.Equal(ContentUpstream.Text(2000), await response.Content.ReadAsByteArrayAsync());
        Assert.False(Assert.Single(upstream.Requests).Headers.ContainsKey("accept-encoding"));
        await gateway.AssertStatAsync("http.ingress_http.decompressor.b.brotli.response.decompressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.decompressor.b.brotli.response.total_uncompressed_bytes", 2000);
    }

    [Fact]
    public async Task Response_ResponseDirectionDisabled_NoAdvertisementNoDecompression()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { common_config: { enabled: { default_value: false, runtime_key: k } } }");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/text/1000?enc=gzip"));

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.False(Assert.Single(upstream.Requests).Headers.ContainsKey("accept-encoding"));
        await gateway.AssertStatAsync(Stat + "response.not_decompressed", 1);
    }

    [Fact]
    public async Task Response_CompressorBeforeDecompressor_GzipFromUpstreamReachesClientAsBrotli()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        // The decompressor is nearer the upstream, so it sees the response first; the compressor then sees plain text.
        var compressor = "          - name: envoy.filters.http.compressor\n            typed_config:\n"
            + "              \"@type\": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor\n"
            + "              compressor_library: { name: br, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli } }\n";
        var yaml = FilterYaml.Config(upstream.Port, "envoy.filters.http.decompressor", Gzip)
            .Replace("          - name: envoy.filters.http.decompressor", compressor + "          - name: envoy.filters.http.decompressor", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddBuiltInHttpFilters());
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/text/3000?enc=gzip&chunked=1"));
        request.Headers.TryAddWithoutValidation("accept-encoding", "br");

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(ContentUpstream.Text(3000), ContentUpstream.Unbrotli(body));
        Assert.Equal("br,gzip", Assert.Single(upstream.Requests).Headers.AcceptEncoding.ToString());
        await gateway.AssertStatAsync(Stat + "response.decompressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.compressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.total_uncompressed_bytes", 3000);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.total_compressed_bytes", body.Length);
    }
}
