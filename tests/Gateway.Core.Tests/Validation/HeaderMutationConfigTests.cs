using Gateway.Configuration;

namespace Gateway.Tests.Validation;

/// <summary>Loader errors of the header mutation fields of routes, virtual hosts and route configurations, each at its path.</summary>
public class HeaderMutationConfigTests
{
    private static EnvoyConfigException LoadFails(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    /// <summary>The seed config with YAML lines (flow style, one line) at the route, virtual host or route configuration.</summary>
    private static string With(string route = "", string virtualHost = "", string routeConfig = "")
    {
        var yaml = TestConfigs.Seed(routeExtra: route.Length == 0 ? string.Empty : "\n                " + route);
        if (virtualHost.Length != 0)
        {
            yaml = yaml.Replace("              domains: [\"*\"]\n", "              domains: [\"*\"]\n              " + virtualHost + "\n", StringComparison.Ordinal);
        }
        if (routeConfig.Length != 0)
        {
            yaml = yaml.Replace("            name: httpbin_local_route\n", "            name: httpbin_local_route\n            " + routeConfig + "\n", StringComparison.Ordinal);
        }
        return yaml;
    }

    [Theory]
    [InlineData("request_headers_to_add: [{ header: { key: \":path\", value: x } }]", ":-prefixed or host headers may not be modified", "routes[0].request_headers_to_add[0].header.key")]
    [InlineData("response_headers_to_add: [{ header: { key: Host, value: x } }]", ":-prefixed or host headers may not be modified", "routes[0].response_headers_to_add[0].header.key")]
    [InlineData("request_headers_to_remove: [\":authority\"]", ":-prefixed or host headers may not be removed", "routes[0].request_headers_to_remove")]
    [InlineData("response_headers_to_remove: [x-ok, host]", ":-prefixed or host headers may not be removed", "routes[0].response_headers_to_remove")]
    [InlineData("request_headers_to_remove: [\"\"]", "value length must be at least 1 characters", "routes[0].request_headers_to_remove")]
    [InlineData("request_headers_to_add: [{ header: { key: \"\", value: x } }]", "value length must be at least 1 characters", "routes[0].request_headers_to_add[0].header.key")]
    [InlineData("request_headers_to_add: [{ header: { key: \"a b\", value: x } }]", "'a b' is not a header name this gateway can carry (an RFC 9110 token)", "routes[0].request_headers_to_add[0].header.key")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: \"%NOT_AN_OPERATOR%\" } }]", "Not supported field in StreamInfo: NOT_AN_OPERATOR", "routes[0].request_headers_to_add[0].header.value")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: \"%REQ%\" } }]", "REQ requires parameters", "routes[0].request_headers_to_add[0].header.value")]
    [InlineData("response_headers_to_add: [{ header: { key: x-a, value: \"%START_TIME\" } }]", "Incorrect configuration: %START_TIME. Couldn't find valid command at position 0", "routes[0].response_headers_to_add[0].header.value")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: \"%FILTER_STATE(k)%\" } }]", "FILTER_STATE is not supported by this gateway: the gateway has no filter state", "routes[0].request_headers_to_add[0].header.value")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: \"%PER_REQUEST_STATE(k)%\" } }]", "PER_REQUEST_STATE is not supported by this gateway: the gateway has no filter state (Envoy reads it as FILTER_STATE(key:PLAIN))", "routes[0].request_headers_to_add[0].header.value")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: v }, append: true, append_action: ADD_IF_ABSENT }]", "Both append and append_action are set and it's not allowed", "routes[0].request_headers_to_add[0]")]
    [InlineData("request_headers_to_add: [{ append_action: ADD_IF_ABSENT }]", "value is required", "routes[0].request_headers_to_add[0].header")]
    public void Load_RouteLevelMistake_IsRejectedAtItsPath(string route, string message, string path)
    {
        var error = Assert.Single(LoadFails(With(route: route)).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
        Assert.True(error.Location.Line > 0);
    }

    [Theory]
    [InlineData("request_headers_to_add: [{ header: { key: \":method\", value: x } }]", ":-prefixed or host headers may not be modified", "virtual_hosts[0].request_headers_to_add[0].header.key")]
    [InlineData("response_headers_to_remove: [\"\"]", "value length must be at least 1 characters", "virtual_hosts[0].response_headers_to_remove")]
    public void Load_VirtualHostLevelMistake_IsRejectedAtItsPath(string virtualHost, string message, string path)
    {
        var error = Assert.Single(LoadFails(With(virtualHost: virtualHost)).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("response_headers_to_add: [{ header: { key: \":status\", value: \"201\" } }]", ":-prefixed or host headers may not be modified", "route_config.response_headers_to_add[0].header.key")]
    [InlineData("internal_only_headers: [\":path\"]", "':path': pseudo-headers and host are not supported by this gateway in internal_only_headers", "route_config.internal_only_headers")]
    [InlineData("request_headers_to_add: [{ header: { key: x-a, value: \"%UPSTREAM_METADATA\" } }]", "Incorrect configuration: %UPSTREAM_METADATA. Couldn't find valid command at position 0", "route_config.request_headers_to_add[0].header.value")]
    public void Load_RouteConfigurationLevelMistake_IsRejectedAtItsPath(string routeConfig, string message, string path)
    {
        var error = Assert.Single(LoadFails(With(routeConfig: routeConfig)).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MistakesAtEveryLevel_AreReportedTogether()
    {
        var yaml = With(
            route: "request_headers_to_remove: [\":path\"]",
            virtualHost: "response_headers_to_add: [{ header: { key: x-a, value: \"%BOGUS%\" } }]",
            routeConfig: "request_headers_to_add: [{ header: { key: host, value: x } }]");

        var errors = LoadFails(yaml).Errors;

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Message == ":-prefixed or host headers may not be modified" && e.Location.Path.EndsWith("route_config.request_headers_to_add[0].header.key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message == "Not supported field in StreamInfo: BOGUS" && e.Location.Path.EndsWith("virtual_hosts[0].response_headers_to_add[0].header.value", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message == ":-prefixed or host headers may not be removed" && e.Location.Path.EndsWith("routes[0].request_headers_to_remove", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_EveryField_IsAccepted()
    {
        var yaml = With(
            route: "request_headers_to_add: [{ header: { key: x-a, value: \"%REQ(x-b)% %DOWNSTREAM_REMOTE_ADDRESS% %UPSTREAM_METADATA([\\\"ns\\\", \\\"k\\\"])%\" }, keep_empty_value: true, append_action: OVERWRITE_IF_EXISTS }]",
            virtualHost: "response_headers_to_remove: [x-c]",
            routeConfig: "most_specific_header_mutations_wins: true\n            internal_only_headers: [x-internal, \"\"]\n            request_headers_to_remove: [\"\"]");

        var bootstrap = EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml");

        var routeConfig = ((HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!).RouteConfig!;
        Assert.True(routeConfig.MostSpecificHeaderMutationsWins);
        Assert.Equal(["x-internal", ""], routeConfig.InternalOnlyHeaders);
        Assert.Equal(HeaderAppendAction.OverwriteIfExists, routeConfig.VirtualHosts[0].Routes[0].RequestHeadersToAdd[0].AppendAction);
    }
}
