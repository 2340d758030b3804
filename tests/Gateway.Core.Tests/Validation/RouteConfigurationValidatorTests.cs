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

        Assert.Equal("a route match needs one of 'prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix' or 'path_match_policy'", error.Message);
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
    public void Validate_VirtualClustersWithoutNameOrHeaders_ReportsBothAtTheirFields()
    {
        var yaml = WithVirtualHosts(
            """
                        - name: a
                          domains: ["*"]
                          virtual_clusters:
                          - name: no_headers
                          - headers: [ { name: ":method", string_match: { exact: GET } } ]
                          - name: bad_regex
                            headers: [ { name: ":path", safe_regex_match: { regex: "(" } } ]
            """);

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(3, errors.Count);
        Assert.Equal("virtual clusters must define 'headers'", errors[0].Message);
        Assert.EndsWith("virtual_hosts[0].virtual_clusters[0].headers", errors[0].Location.Path, StringComparison.Ordinal);
        Assert.Equal("a virtual cluster needs a 'name'", errors[1].Message);
        Assert.EndsWith("virtual_hosts[0].virtual_clusters[1].name", errors[1].Location.Path, StringComparison.Ordinal);
        Assert.Contains("virtual_clusters[2].headers[0].safe_regex_match", errors[2].Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RequireTlsVirtualClustersStatPrefixGrpcAndIgnorePort_Bind()
    {
        var yaml = WithVirtualHosts(
            """
                        - name: a
                          domains: ["*"]
                          require_tls: EXTERNAL_ONLY
                          virtual_clusters: [ { name: all, headers: [ { name: ":method", present_match: true } ] } ]
            """).Replace("- match: { prefix: \"/\" }", "- match: { prefix: \"/\", grpc: {} }\n                stat_prefix: root", StringComparison.Ordinal)
            .Replace("            name: httpbin_local_route\n", "            name: httpbin_local_route\n            ignore_port_in_host_matching: true\n", StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml");

        var routeConfig = ((Gateway.Configuration.HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!).RouteConfig!;
        Assert.True(routeConfig.IgnorePortInHostMatching);
        var vhost = Assert.Single(routeConfig.VirtualHosts);
        Assert.Equal(TlsRequirementType.ExternalOnly, vhost.RequireTls);
        Assert.Equal("all", Assert.Single(vhost.VirtualClusters).Name);
        Assert.Equal("root", vhost.Routes[0].StatPrefix);
        Assert.NotNull(vhost.Routes[0].Match!.Grpc);
    }

    [Fact]
    public void Validate_NegativeIdleTimeoutAndStreamDurations_ReportEachField()
    {
        var yaml = TestConfigs.Seed().Replace("cluster: httpbin_service", "cluster: httpbin_service\n                  idle_timeout: -1s\n                  max_stream_duration: { max_stream_duration: -1s, grpc_timeout_header_max: -1s, grpc_timeout_header_offset: -1s }", StringComparison.Ordinal);

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(["'idle_timeout' may not be negative", "'max_stream_duration' may not be negative", "'grpc_timeout_header_max' may not be negative", "'grpc_timeout_header_offset' may not be negative"], errors.Select(e => e.Message));
        Assert.EndsWith("route.max_stream_duration.grpc_timeout_header_offset", errors[3].Location.Path, StringComparison.Ordinal);
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
