using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Filters;

namespace Gateway.Tests.LocalRateLimit;

/// <summary>Loading local_ratelimit configurations: Envoy's checks, with the location of each problem.</summary>
public class LocalRateLimitLoaderTests
{
    private const string Type = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
    private const string FilterPath = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config";

    private static ConfigError LoadError(string filter, string limitedRoute = "")
    {
        var yaml = SingleFilterConfig.Yaml(8080, "envoy.filters.http.local_ratelimit", Type, filter, limitedRoute);
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters().AddHttpFilter(new StreamInfoProbeFactory());
        return Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);
    }

    [Theory]
    [InlineData("token_bucket: { max_tokens: 1, fill_interval: 1s }", "stat_prefix: value length must be at least 1 characters", ".stat_prefix")]
    [InlineData("stat_prefix: x\ntoken_bucket: { max_tokens: 1, fill_interval: 0.04s }", "local rate limit token bucket fill timer must be >= 50ms", ".token_bucket.fill_interval")]
    [InlineData("stat_prefix: x\ntoken_bucket: { max_tokens: 0, fill_interval: 1s }", "max_tokens: value must be greater than 0", ".token_bucket.max_tokens")]
    [InlineData("stat_prefix: x\ntoken_bucket: { max_tokens: 1, tokens_per_fill: 0, fill_interval: 1s }", "tokens_per_fill: value must be greater than 0", ".token_bucket.tokens_per_fill")]
    [InlineData("stat_prefix: x\ntoken_bucket: { max_tokens: 1 }", "fill_interval: value is required", ".token_bucket.fill_interval")]
    [InlineData("stat_prefix: x\nfilter_enabled: { runtime_key: k }", "'default_value' is required", ".filter_enabled.default_value")]
    [InlineData("stat_prefix: x\nstatus: { code: 0 }", "code: value must not be in list [0]", ".status.code")]
    [InlineData("stat_prefix: x\nresponse_headers_to_add: [{ header: { key: x-ip, value: \"%DOWNSTREAM_REMOTE_ADDRESS%\" } }]", "header value formatters (%COMMAND%) are not supported", ".response_headers_to_add[0].header.value")]
    [InlineData("stat_prefix: x\nresponse_headers_to_add: [{ header: { key: \":status\", value: \"200\" } }]", ":-prefixed or host headers may not be modified", ".response_headers_to_add[0].header.key")]
    [InlineData("stat_prefix: x\nresponse_headers_to_add: [{ header: { key: x-a, value: b }, append: true, append_action: ADD_IF_ABSENT }]", "Both append and append_action are set and it's not allowed", ".response_headers_to_add[0]")]
    [InlineData("stat_prefix: x\nlocal_rate_limit_per_downstream_connection: true", "field 'local_rate_limit_per_downstream_connection' of envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit is not supported by this gateway yet", ".local_rate_limit_per_downstream_connection")]
    [InlineData("stat_prefix: x\nrate_limits: [{ actions: [{ remote_address: {} }] }]", "field 'remote_address' of envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action is not supported by this gateway yet", ".rate_limits[0].actions[0].remote_address")]
    [InlineData("stat_prefix: x\nrate_limits: [{ actions: [{ request_headers: { header_name: x-a } }] }]", "descriptor_key: value length must be at least 1 characters", ".rate_limits[0].actions[0].request_headers.descriptor_key")]
    [InlineData("stat_prefix: x\nrate_limits: [{ actions: [{ header_value_match: { descriptor_value: v, headers: [{ present_match: true }] } }] }]", "'name' is required", ".rate_limits[0].actions[0].header_value_match.headers[0].name")]
    [InlineData("stat_prefix: x\nrate_limits: [{ actions: [] }]", "actions: value must contain at least 1 item(s)", ".rate_limits[0].actions")]
    public void Load_InvalidFilterConfig_ErrorAtTheField(string filter, string message, string path)
    {
        var error = LoadError(filter);

        Assert.Equal(message, error.Message);
        Assert.Equal(FilterPath + path, error.Location.Path);
    }

    [Fact]
    public void Load_DescriptorIntervalNotAMultiple_Rejected()
    {
        var error = LoadError("""
            stat_prefix: x
            token_bucket: { max_tokens: 1, fill_interval: 60s }
            descriptors:
            - entries: [{ key: a, value: b }]
              token_bucket: { max_tokens: 1, fill_interval: 90s }
            """);

        Assert.Equal("local rate descriptor limit is not a multiple of token bucket fill timer", error.Message);
        Assert.Equal(FilterPath + ".descriptors[0].token_bucket.fill_interval", error.Location.Path);
    }

    [Fact]
    public void Load_DuplicateDescriptor_Rejected()
    {
        var error = LoadError("""
            stat_prefix: x
            token_bucket: { max_tokens: 1, fill_interval: 1s }
            descriptors:
            - entries: [{ key: a, value: b }, { key: c, value: d }]
              token_bucket: { max_tokens: 1, fill_interval: 1s }
            - entries: [{ key: a, value: b }, { key: c, value: d }]
              token_bucket: { max_tokens: 5, fill_interval: 2s }
            """);

        Assert.Equal("duplicate descriptor in the local rate descriptor: a=b, c=d", error.Message);
        Assert.Equal(FilterPath + ".descriptors[1]", error.Location.Path);
    }

    [Fact]
    public void Load_PerRouteConfigWithoutTokenBucket_Rejected()
    {
        var error = LoadError("stat_prefix: x", $$"""
            typed_per_filter_config:
              envoy.filters.http.local_ratelimit: { "@type": type.googleapis.com/{{Type}}, stat_prefix: route }
            """);

        Assert.Equal("local rate limit token bucket must be set for per filter configs", error.Message);
        Assert.EndsWith("typed_per_filter_config.envoy.filters.http.local_ratelimit", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FullConfig_Accepted()
    {
        var yaml = SingleFilterConfig.Yaml(8080, "envoy.filters.http.local_ratelimit", Type, """
            stat_prefix: x
            status: { code: TooManyRequests }
            token_bucket: { max_tokens: 10, tokens_per_fill: 2, fill_interval: 1s }
            filter_enabled: { runtime_key: local_rate_limit_enabled, default_value: { numerator: 100, denominator: HUNDRED } }
            filter_enforced: { runtime_key: local_rate_limit_enforced, default_value: { numerator: 50, denominator: TEN_THOUSAND } }
            response_headers_to_add: [{ header: { key: x-local-rate-limit, value: "true" }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }]
            request_headers_to_add_when_not_enforced: [{ header: { key: x-limited, value: "1" }, append: false }]
            enable_x_ratelimit_headers: DRAFT_VERSION_03
            always_consume_default_token_bucket: false
            rate_limits: [{ actions: [{ generic_key: { descriptor_value: v } }] }]
            descriptors: [{ entries: [{ key: generic_key, value: v }], token_bucket: { max_tokens: 1, fill_interval: 2s } }]
            """);
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters().AddHttpFilter(new StreamInfoProbeFactory());

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml, types: types);

        Assert.NotNull(bootstrap);
    }
}
