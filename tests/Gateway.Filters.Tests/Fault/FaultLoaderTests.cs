using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Filters;

namespace Gateway.Tests.Fault;

/// <summary>Loading fault filter configurations: Envoy's checks, with the location of each problem.</summary>
public class FaultLoaderTests
{
    private const string Type = "envoy.extensions.filters.http.fault.v3.HTTPFault";
    private const string FilterPath = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config";

    [Theory]
    [InlineData("abort: { percentage: { numerator: 1 } }", "error_type: value is required (http_status, grpc_status or header_abort)", ".abort")]
    [InlineData("abort: { http_status: 600 }", "http_status: value must be inside range [200, 600)", ".abort.http_status")]
    [InlineData("abort: { http_status: 503, header_abort: {} }", "error_type: only one of http_status, grpc_status, header_abort may be set", ".abort")]
    [InlineData("abort: { http_status: 503, grpc_status: 14 }", "error_type: only one of http_status, grpc_status, header_abort may be set", ".abort")]
    [InlineData("delay: { percentage: { numerator: 1 } }", "fault_delay_secifier: value is required (fixed_delay or header_delay)", ".delay")]
    [InlineData("delay: { fixed_delay: 0s }", "fixed_delay: value must be greater than 0s", ".delay.fixed_delay")]
    [InlineData("response_rate_limit: { fixed_limit: { limit_kbps: 1 } }", "field 'response_rate_limit' of envoy.extensions.filters.http.fault.v3.HTTPFault is not supported by this gateway yet", ".response_rate_limit")]
    [InlineData("headers: [{ name: x-a, exact_match: a, prefix_match: b }]", "a header matcher takes only one of exact_match, safe_regex_match, range_match, present_match, prefix_match, suffix_match, contains_match, string_match", ".headers[0]")]
    public void Load_InvalidFaultConfig_ErrorAtTheField(string filter, string message, string path)
    {
        var yaml = SingleFilterConfig.Yaml(8080, "envoy.filters.http.fault", Type, filter);
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters().AddHttpFilter(new StreamInfoProbeFactory());

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);

        Assert.Equal(message, error.Message);
        Assert.Equal(FilterPath + path, error.Location.Path);
    }

    [Fact]
    public void Load_PerRouteHttpFault_CheckedLikeTheFilterConfig()
    {
        var yaml = SingleFilterConfig.Yaml(8080, "envoy.filters.http.fault", Type, "max_active_faults: 10", $$"""
            typed_per_filter_config:
              envoy.filters.http.fault: { "@type": type.googleapis.com/{{Type}}, abort: { http_status: 100 } }
            """);
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters().AddHttpFilter(new StreamInfoProbeFactory());

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);

        Assert.Equal("http_status: value must be inside range [200, 600)", error.Message);
        Assert.EndsWith("typed_per_filter_config.envoy.filters.http.fault.abort.http_status", error.Location.Path, StringComparison.Ordinal);
    }
}
