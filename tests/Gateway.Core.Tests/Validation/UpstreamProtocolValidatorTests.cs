using Gateway.Configuration;
using Gateway.Tests.Clusters;
using Gateway.Tests.Tls;
using Gateway.Translation;

namespace Gateway.Tests.Validation;

/// <summary>A cluster's upstream protocol options: what loads into the plan, Envoy's errors, and what .NET cannot honour, refused by path.</summary>
public class UpstreamProtocolValidatorTests
{
    private const string Typed = "static_resources.clusters[1].typed_extension_protocol_options.envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    private static string Yaml(string cluster) => UpstreamTlsIntegrationTests.Yaml(UpstreamTlsIntegrationTests.Endpoint(1), cluster);

    private static ClusterPlan Plan(string cluster) => EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(cluster))).ClusterPlans[1];

    private static ConfigError SingleError(string cluster)
        => Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Yaml(cluster), "envoy.yaml")).Errors);

    [Fact]
    public void Translate_EveryImplementedField_InThePlan()
    {
        var plan = Plan(UpstreamProtocolIntegrationTests.Typed("""
            common_http_protocol_options: { idle_timeout: 10s, max_connection_duration: 60s, max_response_headers_kb: 96 }
            explicit_http_config:
              http2_protocol_options:
                initial_stream_window_size: 1048576
                connection_keepalive: { interval: 30s, timeout: 5s }
            """)).Protocol;

        Assert.Equal(UpstreamProtocolMode.Http2, plan.Mode);
        Assert.Equal(TimeSpan.FromSeconds(10), plan.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), plan.MaxConnectionDuration);
        Assert.Equal(96, plan.MaxResponseHeadersKb);
        Assert.Equal(1048576, plan.InitialStreamWindowSize);
        Assert.Equal(TimeSpan.FromSeconds(30), plan.KeepaliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), plan.KeepaliveTimeout);
        Assert.Equal(plan, UpstreamProtocolPlan.FromMetadata(plan.ToMetadata()));
        Assert.Equal(System.Net.HttpVersion.Version20, plan.RequestVersion);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, plan.RequestVersionPolicy);
    }

    [Fact]
    public void Translate_NoOptions_EnvoysDefaults()
    {
        var plan = Plan("").Protocol;

        Assert.Same(UpstreamProtocolPlan.Default, plan);
        Assert.Equal(TimeSpan.FromHours(1), plan.IdleTimeout);
        Assert.Equal(60, plan.MaxResponseHeadersKb);
        Assert.Equal(HttpVersionPolicy.RequestVersionOrLower, plan.RequestVersionPolicy);
    }

    [Theory]
    [InlineData("use_downstream_protocol_config: {}", "Downstream")]
    [InlineData("explicit_http_config: { http_protocol_options: {} }", "Http1")]
    [InlineData("common_http_protocol_options: { idle_timeout: 0s }\nexplicit_http_config: { http_protocol_options: {} }", "Http1")]
    public void Translate_TypedOptions_Mode(string body, string mode)
        => Assert.Equal(mode, Plan(UpstreamProtocolIntegrationTests.Typed(body)).Protocol.Mode.ToString());

    [Fact]
    public void Translate_IdleTimeoutZero_Infinite()
        => Assert.Equal(Timeout.InfiniteTimeSpan, Plan("common_http_protocol_options: { idle_timeout: 0s }").Protocol.IdleTimeout);

    [Fact]
    public void Translate_DeprecatedProtocolSelection_FollowsDownstream()
        => Assert.Equal(UpstreamProtocolMode.Downstream, Plan("protocol_selection: USE_DOWNSTREAM_PROTOCOL\nhttp2_protocol_options: {}\nhttp_protocol_options: {}").Protocol.Mode);

    [Fact]
    public void Translate_TypedAndDeprecated_TypedWins()
        => Assert.Equal(UpstreamProtocolMode.Http1, Plan(UpstreamProtocolIntegrationTests.Typed("explicit_http_config: { http_protocol_options: {} }") + "\nhttp2_protocol_options: {}").Protocol.Mode);

    [Theory]
    [InlineData("explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 100 } }", ".explicit_http_config.http2_protocol_options.max_concurrent_streams", "'max_concurrent_streams' below the default is not supported by this gateway upstream")]
    [InlineData("explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 0 } }", ".explicit_http_config.http2_protocol_options.max_concurrent_streams", "Proto constraint validation failed (Http2ProtocolOptionsValidationError.MaxConcurrentStreams: value must be inside range [1, 2147483647])")]
    [InlineData("explicit_http_config: { http2_protocol_options: { initial_stream_window_size: 100 } }", ".explicit_http_config.http2_protocol_options.initial_stream_window_size", "Proto constraint validation failed (Http2ProtocolOptionsValidationError.InitialStreamWindowSize: value must be inside range [65535, 2147483647])")]
    [InlineData("explicit_http_config: { http2_protocol_options: { initial_stream_window_size: 268435456 } }", ".explicit_http_config.http2_protocol_options.initial_stream_window_size", "'initial_stream_window_size' 268435456 is not supported by this gateway upstream: .NET's HTTP/2 client allows at most 16777216")]
    [InlineData("explicit_http_config: { http2_protocol_options: { initial_connection_window_size: 1048576 } }", ".explicit_http_config.http2_protocol_options.initial_connection_window_size", "'initial_connection_window_size' is not supported by this gateway upstream")]
    [InlineData("explicit_http_config: { http2_protocol_options: { hpack_table_size: 0 } }", ".explicit_http_config.http2_protocol_options.hpack_table_size", "'hpack_table_size' 0 is not supported by this gateway upstream")]
    [InlineData("explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: 1s } } }", ".explicit_http_config.http2_protocol_options.connection_keepalive.timeout", "Proto constraint validation failed (KeepaliveSettingsValidationError.Timeout: value is required)")]
    [InlineData("explicit_http_config: { http2_protocol_options: { allow_connect: true } }", ".explicit_http_config.http2_protocol_options.allow_connect", "'allow_connect' is not supported by this gateway upstream yet")]
    [InlineData("explicit_http_config: {}", ".explicit_http_config", "Proto constraint validation failed (ExplicitHttpConfigValidationError.ProtocolConfig: value is required)")]
    [InlineData("auto_config: {}", ".auto_config", "ALPN configured for cluster backend which has a non-ALPN transport socket")]
    [InlineData("common_http_protocol_options: { max_headers_count: 50 }\nexplicit_http_config: { http_protocol_options: {} }", ".common_http_protocol_options.max_headers_count", "'max_headers_count' is not supported by this gateway upstream")]
    [InlineData("common_http_protocol_options: { max_stream_duration: 5s }\nexplicit_http_config: { http_protocol_options: {} }", ".common_http_protocol_options.max_stream_duration", "'max_stream_duration' is not supported by this gateway on a cluster yet")]
    [InlineData("common_http_protocol_options: { max_requests_per_connection: 5 }\nexplicit_http_config: { http_protocol_options: {} }", ".common_http_protocol_options.max_requests_per_connection", "'max_requests_per_connection' is not supported by this gateway")]
    [InlineData("common_http_protocol_options: { headers_with_underscores_action: DROP_HEADER }\nexplicit_http_config: { http_protocol_options: {} }", ".common_http_protocol_options.headers_with_underscores_action", "'headers_with_underscores_action' is not supported by this gateway on a cluster")]
    [InlineData("common_http_protocol_options: { max_response_headers_kb: 9000 }\nexplicit_http_config: { http_protocol_options: {} }", ".common_http_protocol_options.max_response_headers_kb", "Proto constraint validation failed (HttpProtocolOptionsValidationError.MaxResponseHeadersKb: value must be inside range [1, 8192])")]
    public void Load_TypedOptionsDotNetCannotHonour_ErrorAtTheField(string body, string path, string message)
    {
        var error = SingleError(UpstreamProtocolIntegrationTests.Typed(body));

        Assert.Equal(Typed + path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http_protocol_options: {}\nhttp2_protocol_options: {}", "http2_protocol_options", "cluster: Both HTTP1 and HTTP2 options may only be configured with non-default 'protocol_selection' values")]
    [InlineData("max_requests_per_connection: 10", "max_requests_per_connection", "'max_requests_per_connection' is not supported by this gateway")]
    [InlineData("http2_protocol_options: { initial_connection_window_size: 1048576 }", "http2_protocol_options.initial_connection_window_size", "'initial_connection_window_size' is not supported by this gateway upstream")]
    [InlineData("common_http_protocol_options: { max_headers_count: 0 }", "common_http_protocol_options.max_headers_count", "Proto constraint validation failed (HttpProtocolOptionsValidationError.MaxHeadersCount: value must be greater than or equal to 1)")]
    public void Load_DeprecatedClusterFields_EnvoysChecks(string cluster, string path, string message)
    {
        var error = SingleError(cluster);

        Assert.Equal("static_resources.clusters[1]." + path, error.Location.Path);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MaxRequestsPerConnectionInBoth_EnvoysError()
    {
        var yaml = Yaml(UpstreamProtocolIntegrationTests.Typed("common_http_protocol_options: { max_requests_per_connection: 5 }\nexplicit_http_config: { http_protocol_options: {} }") + "\nmax_requests_per_connection: 10");

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        Assert.Contains(errors, e => e.Location.Path == "static_resources.clusters[1].max_requests_per_connection"
            && e.Message == "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified");
    }
}
