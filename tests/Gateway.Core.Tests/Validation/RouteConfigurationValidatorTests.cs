using Gateway.Configuration;

namespace Gateway.Tests.Validation;

/// <summary>Checks the route compile step relies on (it no longer repeats them).</summary>
public class RouteConfigurationValidatorTests
{
    private static EnvoyConfigException LoadFails(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    private static string WithVirtualHosts(string virtualHosts)
        => TestConfigs.Seed().Replace(
            """
                        - name: httpbin_local_service
                          domains: ["*"]
            """,
            virtualHosts,
            StringComparison.Ordinal);

    [Fact]
    public void Validate_DuplicateDomainInAnotherAsciiCase_IsRejectedAsEnvoyDoes()
    {
        var yaml = WithVirtualHosts(
            """
                        - name: a
                          domains: ["Example.com"]
                          routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }]
                        - name: b
                          domains: ["example.COM"]
            """);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("Only unique values for domains are permitted. Duplicate entry of domain example.com in route httpbin_local_route", error.Message);
        Assert.EndsWith("virtual_hosts[1].domains", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TwoDefaultDomains_IsRejected()
    {
        var yaml = WithVirtualHosts(
            """
                        - name: a
                          domains: ["*"]
                          routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }]
                        - name: b
                          domains: ["*"]
            """);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.StartsWith("Only unique values for domains are permitted. Duplicate entry of domain *", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RouteMatchWithoutPathSpecifier_IsRejected()
    {
        var yaml = TestConfigs.Seed().Replace("- match: { prefix: \"/\" }", "- match: { case_sensitive: false }", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("a route match needs one of 'prefix', 'path', 'safe_regex' or 'path_separated_prefix'", error.Message);
        Assert.EndsWith("routes[0].match", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RegexesOfEveryMatcher_AreCheckedOnceWithTheirPath()
    {
        var yaml = TestConfigs.Seed().Replace(
            "- match: { prefix: \"/\" }",
            """
            - match:
                                  safe_regex: { regex: "/a(" }
                                  headers: [{ name: x, safe_regex_match: { regex: "b(" } }, { name: y, string_match: { safe_regex: { regex: "c(" } } }]
                                  query_parameters: [{ name: q, string_match: { safe_regex: { regex: "d(" } } }]
            """,
            StringComparison.Ordinal);

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(
            ["match.safe_regex.regex", "match.headers[0].safe_regex_match.regex", "match.headers[1].string_match.safe_regex.regex", "match.query_parameters[0].string_match.safe_regex.regex"],
            errors.Select(e => e.Location.Path[(e.Location.Path.IndexOf("match.", StringComparison.Ordinal))..]));
    }
}
