using Gateway.Tests.Common;

namespace Gateway.Tests.Csrf;

/// <summary>Loading envoy.filters.http.csrf and its per-route CsrfPolicy: what is accepted and the errors, with their paths.</summary>
public class CsrfConfigTests
{
    private const string PolicyType = "type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy";

    private const string FilterPath = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config";

    private static string Filter(string policy) => $$"""
        - name: envoy.filters.http.csrf
          typed_config:
            "@type": {{PolicyType}}
        {{ListenerYaml.Indent(policy, 4)}}
        """;

    [Fact]
    public void Load_EveryField_IsAccepted()
    {
        var policy = """
            filter_enabled: { default_value: { numerator: 100 }, runtime_key: csrf.on }
            shadow_enabled: { default_value: { numerator: 5, denominator: TEN_THOUSAND } }
            additional_origins: [{ exact: a.example }, { suffix: .b.example }, { safe_regex: { regex: "c[0-9]+\\.example" } }]
            """;
        var routes = $$"""
            - match: { prefix: "/" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.csrf: { "@type": {{PolicyType}}, filter_enabled: { default_value: { numerator: 0 } } }
            """;

        var bootstrap = LoaderAssert.Load(ListenerYaml.Build(8000, Filter(policy), routes: routes));

        Assert.NotNull(bootstrap.StaticResources);
    }

    [Fact]
    public void Load_WithoutFilterEnabled_IsRefused()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("additional_origins: [{ exact: a }]")));

        Assert.Equal("'filter_enabled' is required", error.Message);
        Assert.Equal(FilterPath + ".filter_enabled", error.Location.Path);
    }

    [Fact]
    public void Load_NamedWithoutTypedConfig_NeedsFilterEnabled()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, "- name: envoy.filters.http.csrf"));

        Assert.Equal("'filter_enabled' is required", error.Message);
        Assert.Equal(FilterPath + ".filter_enabled", error.Location.Path);
    }

    [Fact]
    public void Load_PerRoutePolicyWithoutFilterEnabled_IsRefusedAtTheRoute()
    {
        var routes = $$"""
            - match: { prefix: "/" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.csrf: { "@type": {{PolicyType}}, additional_origins: [{ exact: a }] }
            """;

        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("filter_enabled: { default_value: { numerator: 100 } }"), routes: routes));

        Assert.Equal("'filter_enabled' is required", error.Message);
        Assert.EndsWith("routes[0].typed_per_filter_config.envoy.filters.http.csrf.filter_enabled", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ShadowWithoutDefaultValue_IsRefused()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("filter_enabled: { default_value: {} }\nshadow_enabled: { runtime_key: x }")));

        Assert.Equal("'default_value' is required", error.Message);
        Assert.Equal(FilterPath + ".shadow_enabled.default_value", error.Location.Path);
    }

    [Fact]
    public void Load_BadAdditionalOrigin_IsRefusedAtTheMatcher()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("filter_enabled: { default_value: { numerator: 1 } }\nadditional_origins: [{ exact: a }, {}]")));

        Assert.Equal("a string matcher needs exactly one of exact, prefix, suffix, safe_regex, contains", error.Message);
        Assert.Equal(FilterPath + ".additional_origins[1]", error.Location.Path);
    }

    [Fact]
    public void Load_NegativeNumerator_IsOneBinderError()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("filter_enabled: { default_value: { numerator: -1 } }")));

        Assert.Equal(FilterPath + ".filter_enabled.default_value.numerator", error.Location.Path);
    }

    [Fact]
    public void Load_FilterEnabledOfTheWrongType_IsOneError()
    {
        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, Filter("filter_enabled: 100")));

        Assert.Equal(FilterPath + ".filter_enabled", error.Location.Path);
        Assert.NotEqual("'filter_enabled' is required", error.Message);
    }
}
