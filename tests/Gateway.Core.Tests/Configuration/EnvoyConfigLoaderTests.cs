using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public class EnvoyConfigLoaderTests
{
    private static EnvoyConfigException LoadFails(string yaml, string source = "envoy.yaml")
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, source));

    [Fact]
    public void LoadYaml_SeedConfig_BuildsTypedModel()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(TestConfigs.Seed());

        Assert.Equal(15000u, bootstrap.Admin!.Address!.SocketAddress!.PortValue);
        var listener = Assert.Single(bootstrap.StaticResources!.Listeners);
        Assert.Equal("httpbin-demo", listener.Name);
        var hcm = Assert.IsType<HttpConnectionManager>(listener.FilterChains[0].Filters[0].TypedConfig);
        Assert.Equal("ingress_http", hcm.StatPrefix);
        Assert.Equal("envoy.filters.http.router", Assert.Single(hcm.HttpFilters).Name);
        var route = hcm.RouteConfig!.VirtualHosts[0].Routes[0];
        Assert.Equal("/", route.Match!.Prefix);
        Assert.True(route.Action!.AutoHostRewrite);
        var cluster = Assert.Single(bootstrap.StaticResources.Clusters);
        Assert.Equal(TimeSpan.FromSeconds(5), cluster.ConnectTimeout);
        Assert.Equal(DiscoveryType.LogicalDns, cluster.Type);
        Assert.Equal(DnsLookupFamily.V4Only, cluster.DnsLookupFamily);
        Assert.Equal("httpbin", cluster.LoadAssignment!.Endpoints[0].LbEndpoints[0].Endpoint!.Address!.SocketAddress!.Address);
    }

    [Fact]
    public void LoadYaml_UnknownField_NamesPathLineColumnAndSuggestion()
    {
        var yaml = TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_polcy: ROUND_ROBIN", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].lb_polcy", error.Location.Path);
        Assert.Equal(33, error.Location.Line);
        Assert.Equal(7, error.Location.Column);
        Assert.Equal("unknown field 'lb_polcy' in envoy.config.cluster.v3.Cluster (did you mean 'lb_policy'?)", error.Message);
        Assert.Equal("envoy.yaml:33:7: static_resources.clusters[0].lb_polcy: unknown field 'lb_polcy' in envoy.config.cluster.v3.Cluster (did you mean 'lb_policy'?)", error.ToString());
    }

    [Fact]
    public void LoadYaml_WrongType_NamesPathAndValue()
    {
        var yaml = TestConfigs.Seed().Replace("port_value: 8000", "port_value: eighty", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value", error.Location.Path);
        Assert.Equal("expected an unsigned 32-bit integer, got 'eighty'", error.Message);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("5 s")]
    [InlineData("5ms")]
    [InlineData("1.1234567891s")]
    public void LoadYaml_BadDuration_IsRejectedWithExample(string value)
    {
        var yaml = TestConfigs.Seed().Replace("connect_timeout: 5s", $"connect_timeout: \"{value}\"", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].connect_timeout", error.Location.Path);
        Assert.Equal($"invalid duration '{value}': expected seconds with up to 9 fractional digits and an 's' suffix, e.g. '5s' or '0.25s'", error.Message);
    }

    [Theory]
    [InlineData("0.25s", 250)]
    [InlineData("1s", 1000)]
    [InlineData("0.123456789s", 123)]
    [InlineData("{ seconds: 2, nanos: 500000000 }", 2500)]
    public void LoadYaml_Durations_AreParsed(string value, int expectedMilliseconds)
    {
        var yaml = TestConfigs.Seed().Replace("connect_timeout: 5s", $"connect_timeout: {value}", StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        Assert.Equal(expectedMilliseconds, (int)bootstrap.StaticResources!.Clusters[0].ConnectTimeout!.Value.TotalMilliseconds);
    }

    [Fact]
    public void LoadYaml_UnknownEnumValue_ListsValidValues()
    {
        var yaml = TestConfigs.Seed().Replace("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBBIN", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].lb_policy", error.Location.Path);
        Assert.Equal("unknown value 'ROUND_ROBBIN' for enum LbPolicy; valid values are: ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG", error.Message);
    }

    [Theory]
    [InlineData("logical_dns")]
    [InlineData("Logical_Dns")]
    public void LoadYaml_EnumValueInAnotherCase_IsAcceptedAsEnvoyDoes(string value)
    {
        var yaml = TestConfigs.Seed().Replace("type: LOGICAL_DNS", "type: " + value, StringComparison.Ordinal)
            .Replace("lb_policy: ROUND_ROBIN", "lb_policy: least_request", StringComparison.Ordinal);

        var cluster = EnvoyConfigLoader.LoadYaml(yaml).StaticResources!.Clusters[0];

        Assert.Equal(DiscoveryType.LogicalDns, cluster.Type);
        Assert.Equal(LbPolicy.LeastRequest, cluster.LbPolicy);
    }

    [Fact]
    public void LoadYaml_EnumByNumber_IsAccepted()
    {
        var yaml = TestConfigs.Seed().Replace("type: LOGICAL_DNS", "type: 2", StringComparison.Ordinal);

        Assert.Equal(DiscoveryType.LogicalDns, EnvoyConfigLoader.LoadYaml(yaml).StaticResources!.Clusters[0].Type);
    }

    [Fact]
    public void LoadYaml_UnknownTypeUrl_IsRejectedListingSupportedTypes()
    {
        var yaml = TestConfigs.Seed().Replace("v3.HttpConnectionManager", "v3.HttpConnectionManger", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.@type", error.Location.Path);
        Assert.StartsWith("@type 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManger' is not supported by this gateway; the network filters supported are: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_RouteToMissingCluster_NamesTheRoute()
    {
        var yaml = TestConfigs.Seed().Replace("cluster: httpbin_service", "cluster: httpbin_svc", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster", error.Location.Path);
        Assert.Equal("route: unknown cluster 'httpbin_svc'", error.Message);
        Assert.Equal(27, error.Location.Line);
    }

    [Fact]
    public void LoadYaml_DuplicateClusterAndListenerNames_AreBothReported()
    {
        const string yaml = """
            static_resources:
              listeners:
              - name: a
                address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
                filter_chains: [ { filters: [ { name: envoy.filters.network.http_connection_manager, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, stat_prefix: a, http_filters: [ { name: envoy.filters.http.router } ], route_config: { virtual_hosts: [ { name: v, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: c } } ] } ] } } } ] } ]
              - name: a
                address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }
                filter_chains: [ { filters: [ { name: envoy.filters.network.http_connection_manager, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, stat_prefix: b, http_filters: [ { name: envoy.filters.http.router } ], route_config: { virtual_hosts: [ { name: v, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: c } } ] } ] } } } ] } ]
              clusters:
              - { name: c, type: STATIC, load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } } ] } ] } }
              - { name: c, type: STATIC }
            """;

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(2, errors.Count);
        Assert.Equal("static_resources.listeners[1].name", errors[0].Location.Path);
        Assert.Equal("duplicate listener name 'a': listener names must be unique", errors[0].Message);
        Assert.Equal("static_resources.clusters[1].name", errors[1].Location.Path);
        Assert.Equal("duplicate cluster name 'c': cluster names must be unique", errors[1].Message);
    }

    [Fact]
    public void LoadYaml_TwoListenersOnOnePort_IsRejected()
    {
        var yaml = TestConfigs.Seed(adminPort: 15001);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[0].address", error.Location.Path);
        Assert.StartsWith("port 15001 is already used by admin.address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_KnownButUnsupportedField_SaysNotSupported()
    {
        var yaml = TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      cleanup_interval: 5s", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].cleanup_interval", error.Location.Path);
        Assert.Equal("field 'cleanup_interval' of envoy.config.cluster.v3.Cluster is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void LoadYaml_SeveralErrors_AreAllReportedInDocumentOrder()
    {
        var yaml = TestConfigs.Seed()
            .Replace("stat_prefix: ingress_http", "stat_prefx: ingress_http", StringComparison.Ordinal)
            .Replace("connect_timeout: 5s", "connect_timeout: soon", StringComparison.Ordinal)
            .Replace("dns_lookup_family: V4_ONLY", "dns_lookup_family: V5_ONLY", StringComparison.Ordinal);

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(
            ["static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx", "static_resources.clusters[0].connect_timeout", "static_resources.clusters[0].dns_lookup_family"],
            errors.Select(e => e.Location.Path));
    }

    [Fact]
    public void LoadYaml_YamlSyntaxError_ReportsPosition()
    {
        var error = Assert.Single(LoadFails("static_resources:\n  listeners: [\n").Errors);

        Assert.StartsWith("unable to parse YAML/JSON: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line > 0);
    }

    [Fact]
    public void LoadYaml_Json_IsAccepted()
    {
        const string json = """
            {"admin": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 9901}}},
             "static_resources": {"clusters": [{"name": "c", "type": "STATIC", "connect_timeout": "0.25s",
               "load_assignment": {"endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": "8080"}}}}]}]}}]}}
            """;

        var bootstrap = EnvoyConfigLoader.LoadYaml(json, "envoy.json");

        Assert.Equal(9901u, bootstrap.Admin!.Address!.SocketAddress!.PortValue);
        Assert.Equal(TimeSpan.FromMilliseconds(250), bootstrap.StaticResources!.Clusters[0].ConnectTimeout);
        Assert.Equal(8080u, bootstrap.StaticResources.Clusters[0].LoadAssignment!.Endpoints[0].LbEndpoints[0].Endpoint!.Address!.SocketAddress!.PortValue);
    }

    [Fact]
    public void Load_ConfigYamlOverConfigPath_MergesLikeProtobuf()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gateway-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, TestConfigs.Seed());
        try
        {
            const string overlay = """
                admin: { address: { socket_address: { port_value: 9902 } } }
                static_resources:
                  clusters:
                  - name: extra
                    type: STATIC
                    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } } ] } ] }
                """;

            var bootstrap = EnvoyConfigLoader.Load(path, overlay);

            Assert.Equal(9902u, bootstrap.Admin!.Address!.SocketAddress!.PortValue);
            Assert.Equal("0.0.0.0", bootstrap.Admin.Address.SocketAddress.Address);
            Assert.Equal(["httpbin_service", "extra"], bootstrap.StaticResources!.Clusters.Select(c => c.Name));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_NoConfig_GivesEnvoysMessage()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(configPath: null, configYaml: null));

        Assert.Equal("At least one of --config-path or --config-yaml or Options::configProto() should be non-empty", ex.Message);
    }

    [Fact]
    public void Load_MissingFile_SaysUnableToRead()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load("/nonexistent/envoy.yaml", null));

        Assert.StartsWith("/nonexistent/envoy.yaml: unable to read file: /nonexistent/envoy.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_RouterWithoutTypedConfig_IsAcceptedAsIn119()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(TestConfigs.Seed());

        var hcm = (HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!;
        Assert.Null(hcm.HttpFilters[0].TypedConfig);
    }

    [Fact]
    public void LoadYaml_UnknownHttpFilter_IsRejectedUnlessOptional()
    {
        var yaml = TestConfigs.Seed().Replace("          - name: envoy.filters.http.router", "          - name: envoy.filters.http.cors\n          - name: envoy.filters.http.router", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);
        Assert.Equal("Didn't find a registered implementation for name: 'envoy.filters.http.cors'; the HTTP filters registered are: envoy.filters.http.router (mark it is_optional: true to skip it)", error.Message);

        var optional = yaml.Replace("- name: envoy.filters.http.cors", "- { name: envoy.filters.http.cors, is_optional: true }", StringComparison.Ordinal);
        Assert.NotNull(EnvoyConfigLoader.LoadYaml(optional));
    }

    [Fact]
    public void LoadYaml_RouterNotLast_IsRejected()
    {
        var yaml = TestConfigs.Seed().Replace("          - name: envoy.filters.http.router", "          - name: envoy.filters.http.router\n          - { name: x.optional, is_optional: true }", StringComparison.Ordinal);

        var errors = LoadFails(yaml).Errors;

        Assert.Contains(errors, e => e.Message == "terminal filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter chain");
    }

    // The shared configs (../shared/envoy-configs); EnvoyConfigFixtureTests covers the same cases with the repository's own.
    [SharedEnvoyConfigsTheory]
    [InlineData("envoy-demo.yaml")]
    [InlineData("front-proxy_envoy.yaml")]
    [InlineData("envoyproxy_io_proxy.yaml")]
    [InlineData("admin-interface.yaml")]
    [InlineData("google_com_proxy.yaml")]
    public void Load_RealEnvoyConfigs_LoadOrNameWhatIsUnsupported(string file)
    {
        var path = SharedEnvoyConfigs.PathOf(file);

        try
        {
            var bootstrap = EnvoyConfigLoader.Load(path, null);
            Assert.NotNull(bootstrap.StaticResources);
        }
        catch (EnvoyConfigException ex)
        {
            Assert.NotEmpty(ex.Errors);
            Assert.All(ex.Errors, e =>
            {
                Assert.Equal(path, e.Location.Source);
                Assert.NotEmpty(e.Location.Path);
                Assert.True(e.Location.Line > 0);
            });
        }
    }

    [SharedEnvoyConfigsFact]
    public void Load_FrontProxyConfig_Loads()
    {
        var bootstrap = EnvoyConfigLoader.Load(SharedEnvoyConfigs.PathOf("front-proxy_envoy.yaml"), null);

        Assert.Equal(2, bootstrap.StaticResources!.Clusters.Count);
    }

    [SharedEnvoyConfigsFact]
    public void Load_EnvoyV1Config_NamesUnknownTopLevelFields()
    {
        var path = SharedEnvoyConfigs.PathOf("google_com_proxy.yaml");
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(path, null));

        Assert.Contains(ex.Errors, e => e.Location.Path == "listeners" && e.Message.StartsWith("unknown field 'listeners' in envoy.config.bootstrap.v3.Bootstrap", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Location.Path == "cluster_manager.clusters" && e.Message.StartsWith("unknown field 'clusters' in envoy.config.bootstrap.v3.ClusterManager", StringComparison.Ordinal));
    }
}

public class EnvoyConfigLoaderRegexTests
{
    [Theory]
    [InlineData("[unclosed", "missing ]: [unclosed")]
    [InlineData("(a)\\1", "invalid escape sequence: \\1")]
    [InlineData("((a{1,10}){1,10}){1,10}$", "regex '((a{1,10}){1,10}){1,10}$' RE2 program size of 2223 > max program size of 100 set for the error level threshold. Increase configured max program size if necessary.")]
    public void LoadYaml_BadSafeRegex_IsRejectedWithPath(string pattern, string expectedStart)
    {
        var yaml = TestConfigs.Seed().Replace("- match: { prefix: \"/\" }", $"- match: {{ safe_regex: {{ regex: '{pattern}' }} }}", StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match.safe_regex.regex", error.Location.Path);
        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_SeveralOversizedRegexes_ReportsEveryOneWithItsPath()
    {
        var yaml = TestConfigs.Seed().Replace(
            "- match: { prefix: \"/\" }",
            "- match: { safe_regex: { regex: '(a{1,10}){1,10}' }, headers: [ { name: x-a, string_match: { safe_regex: { regex: '(b{1,10}){1,10}' } } } ], query_parameters: [ { name: q, string_match: { safe_regex: { regex: '(c{1,10}){1,10}' } } } ] }",
            StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        const string match = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match.";
        Assert.Collection(
            ex.Errors,
            e => Assert.Equal((match + "safe_regex.regex", "regex '(a{1,10}){1,10}' RE2 program size of 223 > max program size of 100 set for the error level threshold. Increase configured max program size if necessary."), (e.Location.Path, e.Message)),
            e => Assert.Equal(match + "headers[0].string_match.safe_regex.regex", e.Location.Path),
            e => Assert.Equal(match + "query_parameters[0].string_match.safe_regex.regex", e.Location.Path));
    }

    [Fact]
    public void LoadYaml_LargeSafeRegexUnderTheBound_Loads()
    {
        // Program size 92 by the estimate and by RE2: close to Envoy's limit of 100 and accepted like Envoy accepts it.
        const string pattern = "/api/v[0-9]+/(users|groups)/[a-z0-9-]{1,12}/items/[0-9]{1,6}";
        Assert.Null(Gateway.Routing.Re2Program.Check(pattern, out var size));
        Assert.Equal(92, size);
        var yaml = TestConfigs.Seed().Replace("- match: { prefix: \"/\" }", $"- match: {{ safe_regex: {{ regex: '{pattern}' }} }}", StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        Assert.NotNull(bootstrap);
    }

    [Fact]
    public void LoadYaml_GoogleRe2MaxProgramSize_IsNotSupported()
    {
        var yaml = TestConfigs.Seed().Replace("- match: { prefix: \"/\" }", "- match: { safe_regex: { google_re2: { max_program_size: 1000 }, regex: '/a' } }", StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Contains(ex.Errors, e => e.Location.Path.EndsWith("safe_regex.google_re2.max_program_size", StringComparison.Ordinal));
    }
}

public class EnvoyConfigLoaderOptionalFilterTests
{
    [Fact]
    public void LoadYaml_OptionalFilterWithUnknownType_IsSkipped()
    {
        var yaml = TestConfigs.Seed().Replace(
            "          - name: envoy.filters.http.router",
            "          - name: envoy.filters.http.cors\n            is_optional: true\n            typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n          - name: envoy.filters.http.router",
            StringComparison.Ordinal);

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml);

        var hcm = (HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!;
        Assert.Null(hcm.HttpFilters[0].TypedConfig);
        Assert.True(hcm.HttpFilters[0].IsOptional);
    }

    [Fact]
    public void LoadYaml_RequiredFilterWithUnknownType_IsRejected()
    {
        var yaml = TestConfigs.Seed().Replace(
            "          - name: envoy.filters.http.router",
            "          - name: envoy.filters.http.cors\n            typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n          - name: envoy.filters.http.router",
            StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.StartsWith("@type 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' is not supported by this gateway", Assert.Single(ex.Errors).Message, StringComparison.Ordinal);
    }
}

public class EnvoyConfigLoaderRetryPolicyTests
{
    [Theory]
    [InlineData("{ retry_on: 'bogus' }", "unknown retry_on value 'bogus'; supported: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, envoy-ratelimited, cancelled, deadline-exceeded, resource-exhausted, internal, unavailable")]
    [InlineData("{ retry_on: 'reset-before-request' }", "retry_on 'reset-before-request' is not supported by this gateway yet; supported: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, envoy-ratelimited, cancelled, deadline-exceeded, resource-exhausted, internal, unavailable")]
    [InlineData("{ retry_on: 5xx, retry_back_off: { base_interval: 1s, max_interval: 0.5s } }", "retry_policy.max_interval must greater than or equal to the base_interval")]
    [InlineData("{ retry_on: 5xx, retry_priority: {} }", "field 'retry_priority' of envoy.config.route.v3.RetryPolicy is not supported by this gateway yet")]
    [InlineData("{ retry_on: 5xx, retry_host_predicate: [ { name: envoy.retry_host_predicates.omit_canary_hosts } ] }", "retry host predicate 'envoy.retry_host_predicates.omit_canary_hosts' is not supported by this gateway yet; supported: envoy.retry_host_predicates.previous_hosts")]
    [InlineData("{ retry_on: 5xx, host_selection_retry_max_attempts: -1 }", "'host_selection_retry_max_attempts' may not be negative")]
    [InlineData("{ retry_on: 5xx, rate_limited_retry_back_off: { reset_headers: [] } }", "'reset_headers' needs at least one header")]
    [InlineData("{ retry_on: retriable-headers, retriable_headers: [ { name: x-retry, exact_match: a, prefix_match: b } ] }", "a header matcher takes only one of exact_match, safe_regex_match, range_match, present_match, prefix_match, suffix_match, contains_match, string_match")]
    public void LoadYaml_BadRetryPolicy_IsRejected(string policy, string message)
    {
        var yaml = TestConfigs.Seed(routeExtra: "\n                  retry_policy: " + policy);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Equal(message, Assert.Single(ex.Errors).Message);
    }

    [Fact]
    public void Translate_SeedRetryPolicy_HasEnvoysDefaults()
    {
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed(routeExtra: "\n                  retry_policy: { retry_on: 5xx, num_retries: 3 }")));

        var retry = plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0].Retry!;
        Assert.Equal(Gateway.Translation.RetryOn.FiveXx, retry.RetryOn);
        Assert.Equal(3, retry.NumRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(25), retry.BaseInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), retry.MaxInterval);
        Assert.Equal(TimeSpan.Zero, retry.PerTryTimeout);
    }

    [Fact]
    public void Translate_IstioStyleRetryPolicy_KeepsEveryField()
    {
        const string Policy = """
            { retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes,retriable-headers", num_retries: 2,
                                    retriable_status_codes: [503], host_selection_retry_max_attempts: 5,
                                    retry_host_predicate: [ { name: envoy.retry_host_predicates.previous_hosts, typed_config: { "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate } } ],
                                    retriable_headers: [ { name: x-upstream-retry } ],
                                    rate_limited_retry_back_off: { reset_headers: [ { name: Retry-After }, { name: X-RateLimit-Reset, format: UNIX_TIMESTAMP } ], max_interval: 60s } }
            """;
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed(routeExtra: "\n                  retry_policy: " + Policy)));

        var retry = plan.Listeners[0].FilterChains[0].ConnectionManager.Routes[0].Retry!;
        Assert.Equal(
            Gateway.Translation.RetryOn.ConnectFailure | Gateway.Translation.RetryOn.RefusedStream | Gateway.Translation.RetryOn.GrpcUnavailable
                | Gateway.Translation.RetryOn.GrpcCancelled | Gateway.Translation.RetryOn.RetriableStatusCodes | Gateway.Translation.RetryOn.RetriableHeaders,
            retry.RetryOn);
        Assert.True(retry.AvoidPreviousHosts);
        Assert.Equal(5, retry.HostSelectionRetryMaxAttempts);
        Assert.Equal("x-upstream-retry", Assert.Single(retry.RetriableHeaders).Name);
        Assert.Equal(TimeSpan.FromSeconds(60), retry.RateLimitedBackOff!.MaxInterval);
        Assert.Equal(["Retry-After", "X-RateLimit-Reset"], retry.RateLimitedBackOff.ResetHeaders.Select(h => h.Name));
        Assert.Equal(Gateway.Configuration.ResetHeaderFormat.UnixTimestamp, retry.RateLimitedBackOff.ResetHeaders[1].Format);
    }
}

public class EnvoyConfigLoaderCircuitBreakerTests
{
    [Theory]
    [InlineData("{ thresholds: [ { max_connection_pools: 1 } ] }", "field 'max_connection_pools' of envoy.config.cluster.v3.CircuitBreakers.Thresholds is not supported by this gateway yet")]
    [InlineData("{ per_host_thresholds: [] }", "field 'per_host_thresholds' of envoy.config.cluster.v3.CircuitBreakers is not supported by this gateway yet")]
    [InlineData("{ thresholds: [ { priority: URGENT } ] }", "unknown value 'URGENT' for enum RoutingPriority; valid values are: DEFAULT, HIGH")]
    public void LoadYaml_BadCircuitBreakers_AreRejected(string circuitBreakers, string message)
    {
        var yaml = TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: " + circuitBreakers, StringComparison.Ordinal);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Equal(message, Assert.Single(ex.Errors).Message);
    }
}
