using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Configuration;

/// <summary><c>max_request_headers_kb</c> from YAML to the plan, with Envoy's range.</summary>
public sealed class MaxRequestHeadersConfigTests
{
    [Fact]
    public void Translate_NoField_Is60KiB()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed())).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.Equal(60 * 1024, plan.MaxRequestHeadersBytes);
    }

    [Theory]
    [InlineData("1", 1024)]
    [InlineData("96", 96 * 1024)]
    [InlineData("8192", 8192 * 1024)]
    public void Translate_Field_CarriedIntoThePlanInBytes(string value, int expected)
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          max_request_headers_kb: " + value))).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.Equal(expected, plan.MaxRequestHeadersBytes);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("8193")]
    public void LoadYaml_OutOfEnvoysRange_IsAnError(string value)
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          max_request_headers_kb: " + value)));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.max_request_headers_kb", error.Location.Path);
        Assert.Equal($"'max_request_headers_kb' must be greater than 0 and at most 8192 (got {value})", error.Message);
    }
}
