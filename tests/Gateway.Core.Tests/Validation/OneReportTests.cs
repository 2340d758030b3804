using Gateway.Configuration;

namespace Gateway.Tests.Validation;

/// <summary>Binding and validation errors come out in one report, in document order, each mistake once.</summary>
public class OneReportTests
{
    private static EnvoyConfigException LoadFails(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    [Fact]
    public void Load_BindingAndSemanticErrorsInDifferentPlaces_ReportsBothInDocumentOrder()
    {
        // The semantic error (a route to an unknown cluster) comes first in the file, the binding error after it.
        var yaml = TestConfigs.Seed(routeExtra: "_missing").Replace("connect_timeout: 5s", "connect_timeout: soon", StringComparison.Ordinal);

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(2, errors.Count);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster", errors[0].Location.Path);
        Assert.Equal("route: unknown cluster 'httpbin_service_missing'", errors[0].Message);
        Assert.Equal("static_resources.clusters[0].connect_timeout", errors[1].Location.Path);
        Assert.StartsWith("invalid duration 'soon'", errors[1].Message, StringComparison.Ordinal);
        Assert.True(errors[0].Location.Line < errors[1].Location.Line);
    }

    [Fact]
    public void Load_WrongTypedRequiredField_ReportsOnlyTheBindingError()
    {
        var yaml = TestConfigs.Seed().Replace("stat_prefix: ingress_http", "stat_prefix: [ingress_http]", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix", error.Location.Path);
        Assert.Equal("expected a string, got a list", error.Message);
    }

    [Fact]
    public void Load_WrongTypedRangeCheckedField_ReportsOnlyTheBindingError()
    {
        var yaml = TestConfigs.SeedWithHcmFields("          max_request_headers_kb: -1");

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("expected an unsigned 32-bit integer, got '-1'", error.Message);
    }

    [Fact]
    public void Load_MisspeltRequiredField_ReportsOnlyTheUnknownField()
    {
        var yaml = TestConfigs.Seed().Replace("cluster: httpbin_service", "clustr: httpbin_service", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("unknown field 'clustr' in envoy.config.route.v3.RouteAction (did you mean 'cluster'?)", error.Message);
    }

    [Fact]
    public void Load_UnsupportedMemberOfAOneOf_ReportsOnlyNotSupported()
    {
        var yaml = TestConfigs.Seed().Replace("cluster: httpbin_service", "inline_cluster_specifier_plugin: {}", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("field 'inline_cluster_specifier_plugin' of envoy.config.route.v3.RouteAction is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Load_ClusterWhoseNameDidNotBind_RouteToItIsNotReported()
    {
        var yaml = TestConfigs.Seed().Replace("- name: httpbin_service", "- name: { httpbin_service: 1 }", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].name", error.Location.Path);
    }

    [Fact]
    public void Load_EndpointAddressThatDidNotBind_ReportsOnlyTheBindingError()
    {
        var yaml = TestConfigs.Seed().Replace(
            "              address:\n                socket_address:\n                  address: httpbin\n                  port_value: 8000",
            "              address: httpbin:8000",
            StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("expected a mapping for envoy.config.core.v3.Address, got 'httpbin:8000'", error.Message);
    }

    [Fact]
    public void Load_ClusterTypeThatDidNotBind_ChecksThatDependOnTheTypeAreSkipped()
    {
        // The type stays STATIC by default, which would refuse the host name 'httpbin' as "malformed IP address".
        var error = Assert.Single(LoadFails(TestConfigs.Seed(type: "DNS_PLEASE")).Errors);

        Assert.Equal("static_resources.clusters[0].type", error.Location.Path);
        Assert.StartsWith("unknown value 'DNS_PLEASE' for enum DiscoveryType", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BindingErrorsInTwoDocuments_AreOrderedByLoadOrderThenLine()
    {
        var file = TestConfigs.Seed().Replace("lb_policy: ROUND_ROBIN", "lb_policy: SPINNING", StringComparison.Ordinal);
        var overlay = "admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 70000 }\n";

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(
            [new ConfigSource("z.yaml", file), new ConfigSource(ConfigSource.InlineName, overlay)])).Errors;

        Assert.Equal(["z.yaml", ConfigSource.InlineName], errors.Select(e => e.Location.Source));
        Assert.Equal("port 70000 is out of range (0-65535)", errors[1].Message);
    }

    [Fact]
    public void Load_DocumentThatDoesNotParse_ReportsOnlyItsSyntaxError()
    {
        // The overlay would route to a cluster that is only in the broken file: no "unknown cluster" on top.
        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(
            [new ConfigSource("envoy.yaml", "static_resources: [\n"), new ConfigSource(ConfigSource.InlineName, TestConfigs.Seed(routeExtra: "_elsewhere"))])).Errors;

        var error = Assert.Single(errors);
        Assert.StartsWith("unable to parse YAML/JSON: ", error.Message, StringComparison.Ordinal);
    }
}
