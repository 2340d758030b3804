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

    [Fact]
    public void Validate_DirectResponseBodyOverTheDefaultMaximum_IsRejectedWithEnvoysMessage()
    {
        var body = new string('x', 4097);
        var yaml = WithVirtualHosts(
            $$"""
                        - name: a
                          domains: ["*"]
                          routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "{{body}}" } } }]
                        - name: b
                          domains: ["b"]
            """);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("response body size is 4097 bytes; maximum is 4096", error.Message);
    }

    [Fact]
    public void Validate_DirectResponseFileOverTheConfiguredMaximum_IsRejectedWithEnvoysMessage()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "0123456789");
            var yaml = WithVirtualHosts(
                $$"""
                            - name: a
                              domains: ["*"]
                              routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { filename: "{{file}}" } } }]
                            - name: b
                              domains: ["b"]
                """).Replace("name: httpbin_local_route", "name: httpbin_local_route\n            max_direct_response_body_size_bytes: 9", StringComparison.Ordinal);

            var error = Assert.Single(LoadFails(yaml).Errors);

            Assert.Equal($"file {file} size is 10 bytes; maximum is 9", error.Message);
            Assert.EndsWith("body.filename", error.Location.Path, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Validate_DirectResponseFileWithinTheConfiguredMaximum_Loads()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "0123456789");
            var yaml = WithVirtualHosts(
                $$"""
                            - name: a
                              domains: ["*"]
                              routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { filename: "{{file}}" } } }]
                            - name: b
                              domains: ["b"]
                """).Replace("name: httpbin_local_route", "name: httpbin_local_route\n            max_direct_response_body_size_bytes: 10", StringComparison.Ordinal);

            var bootstrap = EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml");

            Assert.NotNull(bootstrap);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
