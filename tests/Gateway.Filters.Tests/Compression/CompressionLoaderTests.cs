using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Tests.Compression;

/// <summary>Loading compressor, decompressor and buffer configurations: Envoy's errors, at their locations.</summary>
public class CompressionLoaderTests
{
    private static ConfigError LoadError(string filterName, string typedConfig, string routeExtra = "")
    {
        var yaml = FilterYaml.Config(1, filterName, typedConfig, routeExtra);
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters();
        return Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);
    }

    [Fact]
    public void Load_CompressorWithoutLibrary_IsRequired()
    {
        var error = LoadError("c", "\"@type\": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor");

        Assert.Equal("compressor_library is required", error.Message);
        Assert.EndsWith("http_filters[0].typed_config.compressor_library", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CompressorWithDecompressorLibrary_NoRegisteredImplementation()
    {
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip } }
            """);

        Assert.Equal("Didn't find a registered implementation for type: 'envoy.extensions.compression.gzip.decompressor.v3.Gzip'", error.Message);
        Assert.EndsWith("compressor_library.typed_config", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_GzipMemoryLevel_NotSupported()
    {
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip, memory_level: 3 } }
            """);

        Assert.Contains("memory_level", error.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BrotliQualityOutOfRange_Refused()
    {
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli, quality: 12 } }
            """);

        Assert.Equal("quality must be inside range [0, 11], got 12", error.Message);
        Assert.EndsWith("typed_config.quality", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RuntimeFeatureFlagWithoutKey_Refused()
    {
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip } }
            response_direction_config: { common_config: { enabled: { default_value: true } } }
            """);

        Assert.Equal("runtime_key is required (min length 1)", error.Message);
    }

    [Fact]
    public void Load_StatusHeaderEnabled_NotSupported()
    {
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip } }
            response_direction_config: { status_header_enabled: true }
            """);

        Assert.Contains("status_header_enabled", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("disabled: false", "disabled: value must equal true")]
    [InlineData("disabled: true, overrides: {}", "only one of disabled and overrides may be set (oneof override)")]
    public void Load_CompressorPerRouteOneOf_Refused(string fields, string message)
    {
        var route = $$"""
                        typed_per_filter_config:
                          c: { "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute, {{fields}} }
        """;
        var error = LoadError("c", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
            compressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip } }
            """, route);

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Load_DecompressorInflateRatioOutOfRange_Refused()
    {
        var error = LoadError("d", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor
            decompressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip, max_inflate_ratio: 2000 } }
            """);

        Assert.Equal("max_inflate_ratio must be inside range [1, 1032], got 2000", error.Message);
    }

    [Fact]
    public void Load_DecompressorWithCompressorLibrary_NoRegisteredImplementation()
    {
        var error = LoadError("d", """
            "@type": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor
            decompressor_library: { name: x, typed_config: { "@type": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli } }
            """);

        Assert.Equal("Didn't find a registered implementation for type: 'envoy.extensions.compression.brotli.compressor.v3.Brotli'", error.Message);
    }

    [Fact]
    public void Load_DecompressorWithoutLibrary_IsRequired()
    {
        var error = LoadError("d", "\"@type\": type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor");

        Assert.Equal("decompressor_library is required", error.Message);
    }

    [Theory]
    [InlineData("{}", "max_request_bytes is required")]
    [InlineData("{ max_request_bytes: 0 }", "max_request_bytes: value must be greater than 0")]
    public void Load_BufferMaxRequestBytes_Refused(string fields, string message)
    {
        var error = LoadError("b", "\"@type\": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer\n" + fields.Trim('{', '}', ' ').Replace(", ", "\n", StringComparison.Ordinal));

        Assert.Equal(message, error.Message);
        Assert.EndsWith("typed_config.max_request_bytes", error.Location.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("disabled: false", "disabled: value must equal true")]
    [InlineData("disabled: true, buffer: { max_request_bytes: 5 }", "only one of disabled and buffer may be set (oneof override)")]
    [InlineData("buffer: {}", "max_request_bytes is required")]
    public void Load_BufferPerRoute_Refused(string fields, string message)
    {
        var route = $$"""
                        typed_per_filter_config:
                          b: { "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute, {{fields}} }
        """;
        var error = LoadError("b", "\"@type\": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer\nmax_request_bytes: 10", route);

        Assert.Equal(message, error.Message);
    }
}
