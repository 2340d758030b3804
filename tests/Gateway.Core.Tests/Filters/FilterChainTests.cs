using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Filters;

/// <summary>The HTTP filter chain through the in-process gateway: order, local replies, per-route configuration, disabling, route cache.</summary>
public class FilterChainTests
{
    private const string RecordingType = "type.googleapis.com/gateway.tests.RecordingFilter";
    private const string PerRouteType = "type.googleapis.com/gateway.tests.RecordingFilterPerRoute";

    /// <summary>Three recording filters (b stops on x-stop, a re-routes on x-reroute) before the router.</summary>
    private static string ThreeFilters(EchoUpstream upstream, string extraFilterFields = "", string routeExtra = "", string vhostExtra = "", string otherRouteExtra = "")
        => ListenerYaml.Build(
            upstream.Port,
            $$"""
            - name: a
              typed_config: { "@type": {{RecordingType}}, label: a, reroute_on_header: x-reroute }
            - name: b
              typed_config: { "@type": {{RecordingType}}, label: b, stop_on_header: x-stop }
            - name: c
            {{ListenerYaml.Indent(ListenerYaml.Dedent(extraFilterFields), 2)}}
              typed_config: { "@type": {{RecordingType}}, label: c, throw_on_header: x-throw }
            """,
            virtualHost: ListenerYaml.Dedent(vhostExtra),
            routes: $$"""
            - name: upstream
              match: { prefix: "/" }
              route: { cluster: echo }
            {{ListenerYaml.Indent(ListenerYaml.Dedent(routeExtra), 2)}}
            """,
            otherVirtualHosts: $$"""
            - name: other
              domains: ["other.example"]
              routes:
              - name: direct
                match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "other" } }
            {{ListenerYaml.Indent(ListenerYaml.Dedent(otherRouteExtra), 4)}}
            """);

    private static async Task<(InProcessGateway Gateway, RecordingFilterFactory Factory)> StartAsync(string yaml)
    {
        var factory = new RecordingFilterFactory();
        var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter(factory));
        return (gateway, factory);
    }

    [Fact]
    public async Task Request_ThreeFilters_DecodeInOrderEncodeInReverseCompleteInOrder()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, factory) = await StartAsync(ThreeFilters(upstream));
        await using var _ = gateway;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["c", "b", "a"], response.Headers.GetValues("x-encoded-by"));
        // Completion runs when the server finishes the exchange, which can be just after the client has the response.
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        Assert.Equal(
            ["a:request", "b:request", "c:request", "c:response:200", "b:response:200", "a:response:200", "a:complete", "b:complete", "c:complete"],
            factory.Calls);
        Assert.Equal(1, await gateway.StatAsync("http.ingress_http.recording.a.calls"));
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task Request_SecondFilterRepliesLocally_SkipsThirdAndRouterRunsEarlierEncoders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, factory) = await StartAsync(ThreeFilters(upstream));
        await using var _ = gateway;
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-stop", "1");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("stopped by b", await response.Content.ReadAsStringAsync());
        Assert.Equal("b", Assert.Single(response.Headers.GetValues("x-stopped-by")));
        Assert.Equal(["b", "a"], response.Headers.GetValues("x-encoded-by"));
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        Assert.Equal(["a:request", "b:request", "b:response:418", "a:response:418", "a:complete", "b:complete"], factory.Calls);
        Assert.Equal(0, upstream.Requests);
        Assert.Equal(0, await gateway.StatAsync("http.ingress_http.rq_total") ?? 0);
        Assert.Equal(1, await gateway.StatAsync("http.ingress_http.downstream_rq_4xx"));
    }

    [Fact]
    public async Task Request_FilterThrows_Answers500WithoutTheUpstream()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, factory) = await StartAsync(ThreeFilters(upstream));
        await using var _ = gateway;
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-throw", "1");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(["c", "b", "a"], response.Headers.GetValues("x-encoded-by"));
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        Assert.Contains("c:complete", factory.Calls);
    }

    [Fact]
    public async Task Request_RouterLocalReply_RunsEveryEncoder()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ThreeFilters(upstream).Replace("match: { prefix: \"/\" }\n                route: { cluster: echo }", "match: { prefix: \"/x\" }\n                route: { cluster: echo }", StringComparison.Ordinal);
        var (gateway, factory) = await StartAsync(yaml);
        await using var _ = gateway;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/nowhere"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["c", "b", "a"], response.Headers.GetValues("x-encoded-by"));
        Assert.Equal(1, await gateway.StatAsync("http.ingress_http.no_route"));
        Assert.Contains("c:response:404", factory.Calls);
    }

    [Fact]
    public async Task Request_PerRouteConfig_MostSpecificLevelWins()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var vhost = $$"""
                      typed_per_filter_config:
                        a: { "@type": {{PerRouteType}}, tag: vhost }
                        b: { "@type": {{PerRouteType}}, tag: vhost }

        """;
        var route = $$"""
                        typed_per_filter_config:
                          b: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, config: { "@type": {{PerRouteType}}, tag: route } }
        """;
        var (gateway, factory) = await StartAsync(ThreeFilters(upstream, routeExtra: route, vhostExtra: vhost));
        await using var _ = gateway;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["a:request[vhost]", "b:request[route]", "c:request"], factory.Calls.Where(c => c.Contains(":request", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Request_DisabledFilter_RunsOnlyWhereARouteEnablesIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var other = """
                        typed_per_filter_config:
                          c: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, config: {} }
                          a: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true }
        """;
        var yaml = ThreeFilters(upstream, extraFilterFields: "            disabled: true\n", otherRouteExtra: other);
        var (gateway, factory) = await StartAsync(yaml);
        await using var _ = gateway;

        using (var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get")))
        {
            Assert.Equal(["b", "a"], response.Headers.GetValues("x-encoded-by"));
        }
        Assert.DoesNotContain("c:request", factory.Calls);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);

        factory.Calls.Clear();
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Host = "other.example";
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Equal("other", await response.Content.ReadAsStringAsync());
            Assert.Equal(["c", "b"], response.Headers.GetValues("x-encoded-by"));
        }
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 2);
        Assert.Equal(["b:request", "c:request", "c:response:200", "b:response:200", "b:complete", "c:complete"], factory.Calls);
    }

    [Fact]
    public async Task Request_FilterClearsRouteCache_RouterUsesTheNewRoute()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, factory) = await StartAsync(ThreeFilters(upstream));
        await using var _ = gateway;
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-reroute", "other.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("other", await response.Content.ReadAsStringAsync());
        Assert.Contains("a:rerouted:direct", factory.Calls);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Request_RouteClusterAndHostMetadata_AreVisibleToFilters()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ThreeFilters(upstream, routeExtra: "                metadata: { filter_metadata: { test: { owner: edge } } }\n")
            .Replace("  - name: echo\n    type: STATIC\n", "  - name: echo\n    type: STATIC\n    metadata: { filter_metadata: { test: { tier: gold } } }\n", StringComparison.Ordinal);
        var (gateway, factory) = await StartAsync(yaml);
        await using var _ = gateway;

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"c:metadata:edge:True:127.0.0.1:{upstream.Port}", factory.Calls);
    }

    [Fact]
    public void Load_UnknownFilterName_ListsTheRegisteredHttpFilters()
    {
        var yaml = TestConfigs.Seed().Replace("          - name: envoy.filters.http.router", "          - name: acme.auth\n          - name: envoy.filters.http.router", StringComparison.Ordinal);
        var types = EnvoyTypeRegistry.CreateDefault().AddHttpFilter(new RecordingFilterFactory());

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);

        Assert.Equal("Didn't find a registered implementation for name: 'acme.auth'; the HTTP filters registered are: envoy.filters.http.router, gateway.tests.recording (mark it is_optional: true to skip it)", error.Message);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].name", error.Location.Path);
    }

    [Fact]
    public void Load_NetworkFilterTypeAsHttpFilter_ListsOnlyHttpFilterTypes()
    {
        var yaml = TestConfigs.Seed().Replace("          - name: envoy.filters.http.router",
            "          - name: wrong\n            typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager }\n          - name: envoy.filters.http.router", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml)).Errors);

        Assert.Equal("@type 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' is not an HTTP filter configuration; the HTTP filter configurations registered are: envoy.extensions.filters.http.router.v3.Router", error.Message);
    }

    [Fact]
    public void Load_FilterValidatorErrors_ComeWithTheirLocation()
    {
        var yaml = TestConfigs.Seed().Replace("          - name: envoy.filters.http.router",
            $"          - name: rec\n            typed_config: {{ \"@type\": {RecordingType} }}\n          - name: envoy.filters.http.router", StringComparison.Ordinal);
        var types = EnvoyTypeRegistry.CreateDefault().AddHttpFilter(new RecordingFilterFactory());

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);

        Assert.Equal("label is required", error.Message);
        Assert.EndsWith("http_filters[0].typed_config.label", error.Location.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"@type\": type.googleapis.com/envoy.config.route.v3.FilterConfig }", "Empty route/virtual host per filter configuration for rec filter")]
    [InlineData("{ \"@type\": type.googleapis.com/gateway.tests.RecordingFilter, label: x }", "@type 'type.googleapis.com/gateway.tests.RecordingFilter' is not a per-route HTTP filter configuration; the per-route HTTP filter configurations registered are: envoy.config.route.v3.FilterConfig, gateway.tests.RecordingFilterPerRoute")]
    public void Load_BadPerRouteConfig_IsRejected(string value, string message)
    {
        var yaml = TestConfigs.Seed().Replace("              domains: [\"*\"]\n", $"              domains: [\"*\"]\n              typed_per_filter_config:\n                rec: {value}\n", StringComparison.Ordinal);
        var types = EnvoyTypeRegistry.CreateDefault().AddHttpFilter(new RecordingFilterFactory());

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types)).Errors);

        Assert.Equal(message, error.Message);
    }
}
