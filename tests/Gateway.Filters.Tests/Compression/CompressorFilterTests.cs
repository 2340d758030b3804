using System.Net;
using System.Net.Http.Headers;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Compression;

/// <summary>envoy.filters.http.compressor through the in-process gateway against a real upstream.</summary>
public class CompressorFilterTests
{
    private const string Gzip = """
        "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
        compressor_library:
          name: text_optimized
          typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip }
        """;

    /// <summary>Without response_direction_config, Envoy roots the response stats in the legacy tree (no direction).</summary>
    private const string Stat = "http.ingress_http.compressor.text_optimized.gzip.";

    private const string ResponseStat = Stat + "response.";

    private static Task<InProcessGateway> StartAsync(ContentUpstream upstream, string config = Gzip, string routeExtra = "", string directBody = "")
        => InProcessGateway.StartAsync(FilterYaml.Config(upstream.Port, "envoy.filters.http.compressor", config, routeExtra, directBody), configureGateway: g => g.AddBuiltInHttpFilters());

    private static async Task<HttpResponseMessage> GetAsync(InProcessGateway gateway, string path, string? acceptEncoding = "gzip", HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, gateway.ListenerUri(path));
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("accept-encoding", acceptEncoding);
        }
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Response_AcceptsGzip_CompressedWithVaryAndStats()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/1000");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal("Accept-Encoding", Assert.Single(response.Headers.Vary));
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.Equal(ContentUpstream.Text(1000), ContentUpstream.Gunzip(body));
        await gateway.AssertStatAsync(Stat + "compressed", 1);
        await gateway.AssertStatAsync(Stat + "not_compressed", 0);
        await gateway.AssertStatAsync(Stat + "header_compressor_used", 1);
        await gateway.AssertStatAsync(Stat + "total_uncompressed_bytes", 1000);
        await gateway.AssertStatAsync(Stat + "total_compressed_bytes", body.Length);
        // Envoy counts every request the request direction did not compress, configured or not.
        await gateway.AssertStatAsync(Stat + "request.not_compressed", 1);
    }

    [Fact]
    public async Task Response_ChunkedUpstream_CompressedAsItStreams()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/300000?chunked=1");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(ContentUpstream.Text(300000), ContentUpstream.Gunzip(body));
        await gateway.AssertStatAsync(Stat + "total_uncompressed_bytes", 300000);
        await gateway.AssertStatAsync(Stat + "total_compressed_bytes", body.Length);
    }

    [Fact]
    public async Task Response_Brotli_CompressedWithBr()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var config = """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library:
              name: br
              typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli, quality: 5 }
            """;
        await using var gateway = await StartAsync(upstream, config);

        using var response = await GetAsync(gateway, "/text/2000", "gzip;q=0.5, br");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(ContentUpstream.Text(2000), ContentUpstream.Unbrotli(body));
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.compressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.header_compressor_used", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.total_compressed_bytes", body.Length);
    }

    [Fact]
    public async Task Response_SmallerThanDefaultMinimum_NotCompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/29");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(29, response.Content.Headers.ContentLength);
        Assert.Empty(response.Headers.Vary);
        await gateway.AssertStatAsync(Stat + "content_length_too_small", 1);
        await gateway.AssertStatAsync(Stat + "not_compressed", 1);
        await gateway.AssertStatAsync(Stat + "compressed", 0);
    }

    [Fact]
    public async Task Response_NoAcceptEncoding_NotCompressedButVaried()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/100?vary=origin", acceptEncoding: null);

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(100, response.Content.Headers.ContentLength);
        Assert.Equal(["origin", "Accept-Encoding"], response.Headers.Vary);
        await gateway.AssertStatAsync(Stat + "no_accept_header", 1);
        await gateway.AssertStatAsync(Stat + "not_compressed", 1);
    }

    [Theory]
    [InlineData("gzip;q=0,*;q=1", false, "header_not_valid")]
    [InlineData("*;q=0,gzip;q=1", true, "header_compressor_used")]
    [InlineData("identity", false, "header_identity")]
    [InlineData("*", true, "header_wildcard")]
    [InlineData("br", false, "header_not_valid")]
    [InlineData("deflate;q=0.9, gzip;q=0.2", true, "header_compressor_used")]
    [InlineData("identity;q=1, gzip;q=0.5", false, "header_identity")]
    [InlineData("gzip;q=bad", false, "header_not_valid")]
    public async Task Response_AcceptEncodingQValues_DecideAsEnvoy(string acceptEncoding, bool compressed, string stat)
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/100", acceptEncoding);

        Assert.Equal(compressed, response.Content.Headers.ContentEncoding.Contains("gzip"));
        await gateway.AssertStatAsync(Stat + stat, 1);
        await gateway.AssertStatAsync(Stat + (compressed ? "compressed" : "not_compressed"), 1);
    }

    [Theory]
    [InlineData("/text/100?type=image/png")]
    [InlineData("/text/100?cc=public,%20no-transform")]
    [InlineData("/text/100?enc=gzip")]
    [InlineData("/text/100?status=206")]
    public async Task Response_NotCompressible_PassesThrough(string path)
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var config = Gzip + "\nresponse_direction_config: { uncompressible_response_codes: [206] }";
        await using var gateway = await StartAsync(upstream, config);

        using var response = await GetAsync(gateway, path);

        Assert.True(response.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.Empty(response.Headers.Vary);
        await gateway.AssertStatAsync(ResponseStat + "not_compressed", 1);
        await gateway.AssertStatAsync(ResponseStat + "compressed", 0);
    }

    [Fact]
    public async Task Response_ContentTypeWithParameters_MatchesMediaType()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/100?type=application/json;%20charset=utf-8");

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
    }

    [Theory]
    [InlineData("\"abc\"", "", null)]
    [InlineData("W/\"abc\"", "", "W/\"abc\"")]
    [InlineData("\"abc\"", "weaken_etag_on_compress: true", "W/\"abc\"")]
    public async Task Response_Etag_StrongRemovedWeakKept(string etag, string option, string? expected)
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { " + option + " }");

        using var response = await GetAsync(gateway, "/text/100?etag=" + Uri.EscapeDataString(etag));

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(expected, response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task Response_DisableOnEtagHeader_NotCompressedAndCounted()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { disable_on_etag_header: true }");

        using var response = await GetAsync(gateway, "/text/100?etag=%22abc%22");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("\"abc\"", response.Headers.ETag?.ToString());
        await gateway.AssertStatAsync(ResponseStat + "not_compressed_etag", 1);
        await gateway.AssertStatAsync(ResponseStat + "not_compressed", 1);
    }

    [Fact]
    public async Task Request_RemoveAcceptEncodingHeader_UpstreamDoesNotSeeIt()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { remove_accept_encoding_header: true }");

        using var response = await GetAsync(gateway, "/text/100");

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.False(Assert.Single(upstream.Requests).Headers.ContainsKey("accept-encoding"));
    }

    [Fact]
    public async Task Response_MinContentLengthAndContentTypes_FromCommonConfig()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var config = Gzip + "\nresponse_direction_config: { common_config: { min_content_length: 500, content_type: [ image/png ] } }";
        await using var gateway = await StartAsync(upstream, config);

        using (var small = await GetAsync(gateway, "/text/400?type=image/png"))
        {
            Assert.Empty(small.Content.Headers.ContentEncoding);
        }
        using (var text = await GetAsync(gateway, "/text/600"))
        {
            Assert.Empty(text.Content.Headers.ContentEncoding);
        }
        using (var png = await GetAsync(gateway, "/text/600?type=image/png"))
        {
            Assert.Equal("gzip", Assert.Single(png.Content.Headers.ContentEncoding));
        }
        await gateway.AssertStatAsync(ResponseStat + "content_length_too_small", 1);
        await gateway.AssertStatAsync(ResponseStat + "not_compressed", 2);
        await gateway.AssertStatAsync(ResponseStat + "compressed", 1);
    }

    [Fact]
    public async Task Response_LegacyFields_StatsWithoutDirection()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\ncontent_length: 200");

        using (var small = await GetAsync(gateway, "/text/100"))
        {
            Assert.Empty(small.Content.Headers.ContentEncoding);
        }
        using (var large = await GetAsync(gateway, "/text/300"))
        {
            Assert.Equal("gzip", Assert.Single(large.Content.Headers.ContentEncoding));
        }
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.content_length_too_small", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.compressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.header_compressor_used", 1);
    }

    [Fact]
    public async Task Response_Head_NotCompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/100", method: HttpMethod.Head);

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("Accept-Encoding", Assert.Single(response.Headers.Vary));
        await gateway.AssertStatAsync(Stat + "not_compressed", 1);
    }

    [Fact]
    public async Task Response_DirectResponse_LocalReplyCompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var text = new string('x', 200);
        await using var gateway = await StartAsync(upstream, directBody: text);

        using var response = await GetAsync(gateway, "/direct");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(ContentUpstream.Gunzip(body)));
        await gateway.AssertStatAsync(Stat + "total_uncompressed_bytes", 200);
        await gateway.AssertStatAsync(Stat + "total_compressed_bytes", body.Length);
    }

    [Fact]
    public async Task Response_PerRouteDisabled_NotCompressed()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var route = """
                        typed_per_filter_config:
                          envoy.filters.http.compressor: { "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, disabled: true }
        """;
        await using var gateway = await StartAsync(upstream, routeExtra: route);

        using var response = await GetAsync(gateway, "/text/100");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        await gateway.AssertStatAsync(Stat + "not_compressed", 1);
    }

    [Fact]
    public async Task Response_PerRouteOverrides_EnableAndRemoveAcceptEncoding()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var config = Gzip + "\nresponse_direction_config: { common_config: { enabled: { default_value: false, runtime_key: resp_enabled } } }";
        var route = """
                        typed_per_filter_config:
                          envoy.filters.http.compressor:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute
                            overrides: { response_direction_config: { remove_accept_encoding_header: true } }
        """;
        await using var gateway = await StartAsync(upstream, config, routeExtra: route);

        using var response = await GetAsync(gateway, "/text/100");

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.False(Assert.Single(upstream.Requests).Headers.ContainsKey("accept-encoding"));
    }

    [Fact]
    public async Task Request_RequestDirectionConfig_BodyCompressedForUpstream()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nrequest_direction_config: {}");
        var data = ContentUpstream.Text(3000);
        using var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/echo"), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (headers, body) = Assert.Single(upstream.Requests);
        Assert.Equal("gzip", headers.ContentEncoding.ToString());
        Assert.Equal(data, ContentUpstream.Gunzip(body));
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.request.compressed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.request.total_uncompressed_bytes", 3000);
        await gateway.AssertStatAsync("http.ingress_http.compressor.text_optimized.gzip.request.total_compressed_bytes", body.Length);
    }

    [Fact]
    public async Task Response_TwoCompressorFilters_OneEncodingChosen()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var brotli = "          - name: brotli\n            typed_config:\n"
            + "              \"@type\": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor\n"
            + "              compressor_library: { name: br, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli } }\n";
        var yaml = FilterYaml.Config(upstream.Port, "gzip", Gzip).Replace("          - name: envoy.filters.http.router", brotli + "          - name: envoy.filters.http.router", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddBuiltInHttpFilters());

        using var response = await GetAsync(gateway, "/text/1000", "gzip;q=0.5, br");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(ContentUpstream.Text(1000), ContentUpstream.Unbrotli(body));
        await gateway.AssertStatAsync(Stat + "header_compressor_overshadowed", 1);
        await gateway.AssertStatAsync("http.ingress_http.compressor.br.brotli.header_compressor_used", 1);
    }

    [Fact]
    public async Task Response_Http2Downstream_CompressedAndComplete()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        var yaml = FilterYaml.Config(upstream.Port, "envoy.filters.http.compressor", Gzip)
            .Replace("          stat_prefix: ingress_http", "          codec_type: HTTP2\n          stat_prefix: ingress_http", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddBuiltInHttpFilters());
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/text/20000?chunked=1"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("accept-encoding", "gzip");

        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(ContentUpstream.Text(20000), ContentUpstream.Gunzip(body));
        await gateway.AssertStatAsync(Stat + "total_compressed_bytes", body.Length);
    }

    [Fact]
    public async Task Response_UpstreamResetBeforeBody_LocalReplyCompressedWhole()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream);

        using var response = await GetAsync(gateway, "/text/1000?reset=1");
        var body = await response.Content.ReadAsByteArrayAsync();

        if (response.StatusCode == HttpStatusCode.BadGateway)
        {
            // The upstream's headers arrived first: the proxy answers 502 with no body, nothing compressed.
            Assert.Empty(body);
            Assert.Empty(response.Content.Headers.ContentEncoding);
            return;
        }
        // The gateway's 503 goes through the encoders, as Envoy's local replies do: compressed, and a whole gzip member.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.StartsWith("upstream connect error or disconnect/reset before headers", System.Text.Encoding.ASCII.GetString(ContentUpstream.Gunzip(body)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigDump_CompressorConfig_PrintedWithItsLibrary()
    {
        await using var upstream = await ContentUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, Gzip + "\nresponse_direction_config: { common_config: { min_content_length: 100 } }");

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Contains("type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor", dump, StringComparison.Ordinal);
        Assert.Contains("type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip", dump, StringComparison.Ordinal);
        Assert.Contains("\"text_optimized\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"min_content_length\": 100", dump, StringComparison.Ordinal);
    }
}
