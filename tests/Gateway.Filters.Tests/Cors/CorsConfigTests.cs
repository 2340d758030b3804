using Gateway.Tests.Common;

namespace Gateway.Tests.Cors;

/// <summary>Loading envoy.filters.http.cors and its CorsPolicy: what is accepted and the errors, with their paths.</summary>
public class CorsConfigTests
{
    private const string PolicyType = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

    private const string CorsFilter = """
        - name: envoy.filters.http.cors
          typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }
        """;

    private const string VirtualHostPolicyPath = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].typed_per_filter_config.envoy.filters.http.cors";

    private static string WithPolicy(string policy, string filters = CorsFilter) => ListenerYaml.Build(8000, filters, $$"""
        typed_per_filter_config:
          envoy.filters.http.cors:
            "@type": {{PolicyType}}
        {{ListenerYaml.Indent(policy, 4)}}
        """);

    [Fact]
    public void Load_EveryFieldAtEveryLevel_IsAccepted()
    {
        var policy = $$"""
            "@type": {{PolicyType}}
            allow_origin_string_match: [{ exact: "https://a.example" }, { prefix: "https://b" }, { suffix: ".c.example", ignore_case: true }, { contains: d }, { safe_regex: { regex: "https://e[0-9]+" } }]
            allow_methods: GET,POST
            allow_headers: content-type
            expose_headers: x-a
            max_age: "60"
            allow_credentials: true
            filter_enabled: { default_value: { numerator: 50, denominator: TEN_THOUSAND }, runtime_key: cors.on }
            shadow_enabled: { default_value: { numerator: 1, denominator: MILLION } }
            allow_private_network_access: true
            forward_not_matching_preflights: false
            """;
        var yaml = ListenerYaml.Build(8000, CorsFilter, $$"""
            typed_per_filter_config:
              envoy.filters.http.cors:
            {{ListenerYaml.Indent(policy, 4)}}
            """, $$"""
            - match: { prefix: "/" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.cors: { "@type": {{PolicyType}}, allow_methods: PUT }
            """).Replace("            name: local\n", $"            name: local\n            typed_per_filter_config:\n              envoy.filters.http.cors: {{ \"@type\": {PolicyType}, max_age: \"5\" }}\n", StringComparison.Ordinal);

        Assert.Contains("max_age: \"5\" }", yaml, StringComparison.Ordinal);

        var bootstrap = LoaderAssert.Load(yaml);

        Assert.Single(bootstrap.StaticResources!.Listeners);
    }

    [Fact]
    public void Load_FilterNamedWithoutTypedConfig_IsAccepted()
    {
        var bootstrap = LoaderAssert.Load(ListenerYaml.Build(8000, "- name: envoy.filters.http.cors"));

        Assert.NotNull(bootstrap.StaticResources);
    }

    [Fact]
    public void Load_MatcherWithTwoPatterns_IsRefusedAtTheMatcher()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin_string_match: [{ exact: a, prefix: b }]"));

        Assert.Equal("a string matcher needs exactly one of exact, prefix, suffix, safe_regex, contains", error.Message);
        Assert.Equal(VirtualHostPolicyPath + ".allow_origin_string_match[0]", error.Location.Path);
    }

    [Fact]
    public void Load_EmptySuffix_IsRefused()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin_string_match: [{ suffix: \"\" }]"));

        Assert.Equal("prefix, suffix and contains may not be empty", error.Message);
    }

    [Fact]
    public void Load_BadRegex_IsRefusedAtTheRegex()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin_string_match: [{ safe_regex: { regex: \"(\" } }]"));

        Assert.Equal(VirtualHostPolicyPath + ".allow_origin_string_match[0].safe_regex.regex", error.Location.Path);
        Assert.Contains("missing )", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RegexWithIgnoreCase_IsRefused()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin_string_match: [{ safe_regex: { regex: a }, ignore_case: true }]"));

        Assert.Equal("ignore_case has no effect for safe_regex and is rejected, as Envoy does", error.Message);
    }

    [Theory]
    [InlineData("filter_enabled: { runtime_key: cors.on }", "filter_enabled")]
    [InlineData("shadow_enabled: {}", "shadow_enabled")]
    public void Load_FractionWithoutDefaultValue_IsRefused(string field, string name)
    {
        var error = LoaderAssert.SingleError(WithPolicy(field));

        Assert.Equal("'default_value' is required", error.Message);
        Assert.Equal($"{VirtualHostPolicyPath}.{name}.default_value", error.Location.Path);
    }

    [Fact]
    public void Load_UnknownDenominator_IsOneBinderError()
    {
        var error = LoaderAssert.SingleError(WithPolicy("filter_enabled: { default_value: { numerator: 1, denominator: THOUSAND } }"));

        Assert.Equal(VirtualHostPolicyPath + ".filter_enabled.default_value.denominator", error.Location.Path);
    }

    [Fact]
    public void Load_MatcherValueOfTheWrongType_IsOneError()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin_string_match: [{ exact: [1] }]"));

        Assert.Equal(VirtualHostPolicyPath + ".allow_origin_string_match[0].exact", error.Location.Path);
    }

    [Fact]
    public void Load_V2FieldName_IsAnUnknownField()
    {
        var error = LoaderAssert.SingleError(WithPolicy("allow_origin: [\"*\"]"));

        Assert.Equal(VirtualHostPolicyPath + ".allow_origin", error.Location.Path);
        Assert.StartsWith("unknown field", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DeprecatedVirtualHostCors_IsNotSupported()
    {
        var yaml = ListenerYaml.Build(8000, CorsFilter, "cors: { allow_origin_string_match: [{ exact: a }] }");

        var error = LoaderAssert.SingleError(yaml);

        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("virtual_hosts[0].cors", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PolicyAsTheFilterConfig_IsRefused()
    {
        var filters = $$"""
            - name: envoy.filters.http.cors
              typed_config: { "@type": {{PolicyType}} }
            """;

        var error = LoaderAssert.SingleError(ListenerYaml.Build(8000, filters));

        Assert.StartsWith($"@type '{PolicyType}' is not an HTTP filter configuration", error.Message, StringComparison.Ordinal);
    }
}
