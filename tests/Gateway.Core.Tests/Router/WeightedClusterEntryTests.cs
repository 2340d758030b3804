using System.Net;
using System.Reflection;
using System.Text.Json;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Tests.Common;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Router;

/// <summary>
/// What a <c>weighted_clusters</c> entry adds to its route (Envoy's WeightedClusterEntry): <c>cluster_header</c>, its header
/// mutations before the route's levels, <c>host_rewrite_literal</c> under the route's own host rewrite, and its
/// <c>typed_per_filter_config</c> as the most specific level; through the in-process gateway in front of real Kestrel
/// upstreams echoing what they received. Picks are made deterministic with the <c>header_name</c> random value.
/// </summary>
public sealed class WeightedClusterEntryTests
{
    private static readonly JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    private static string Cluster(string name, int port)
        => ListenerYaml.Dedent($$"""
            - name: {{name}}
              type: STATIC
              load_assignment:
                cluster_name: {{name}}
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
            """);

    private const string VirtualHost = """
        request_headers_to_add:
        - header: { key: x-level, value: vh }
        """;

    private const string Routes = """
        - match: { prefix: "/route-host" }
          route:
            host_rewrite_literal: route.example
            append_x_forwarded_host: true
            weighted_clusters:
              clusters:
              - { name: echo, weight: 1, host_rewrite_literal: entry.example }
        - match: { prefix: "/" }
          request_headers_to_add:
          - header: { key: x-order, value: route }
            append_action: OVERWRITE_IF_EXISTS_OR_ADD
          - header: { key: x-level, value: route }
          response_headers_to_add:
          - header: { key: x-resp-order, value: route }
            append_action: OVERWRITE_IF_EXISTS_OR_ADD
          route:
            weighted_clusters:
              header_name: x-pick
              clusters:
              - name: echo
                weight: 10
                host_rewrite_literal: a.example
                request_headers_to_add:
                - header: { key: x-entry, value: a }
                - header: { key: x-order, value: a }
                - header: { key: x-level, value: a }
                request_headers_to_remove: [x-drop]
                response_headers_to_add:
                - header: { key: x-resp-entry, value: a }
                - header: { key: x-resp-order, value: a }
              - name: other
                weight: 10
                request_headers_to_add:
                - header: { key: x-entry, value: b }
              - cluster_header: x-target
                weight: 10
                response_headers_to_add:
                - header: { key: x-resp-entry, value: c }
        """;

    private static async Task<(HttpResponseMessage Response, EchoedRequest? Echoed)> SendAsync(InProcessGateway gateway, string path, string? pick, string? target = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        request.Headers.Host = "client.example";
        request.Headers.Add("x-drop", "1");
        if (pick is not null)
        {
            request.Headers.Add("x-pick", pick);
        }
        if (target is not null)
        {
            request.Headers.Add("x-target", target);
        }
        var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response, response.StatusCode == HttpStatusCode.OK ? JsonSerializer.Deserialize<EchoedRequest>(body, EchoJson) : null);
    }

    private static string? Header(EchoedRequest echoed, string name) => echoed.Headers.TryGetValue(name, out var value) ? value : null;

    private static string? Header(HttpResponseMessage response, string name) => response.Headers.TryGetValues(name, out var values) ? string.Join(',', values) : null;

    [Theory]
    // pick, x-target, upstream (0 echo, 1 other), Host, x-entry, x-level, x-drop, x-resp-entry
    [InlineData("0", null, 0, "a.example", "a", "a, route, vh", null, "a")]
    [InlineData("9", null, 0, "a.example", "a", "a, route, vh", null, "a")]
    [InlineData("10", null, 1, "client.example", "b", "route, vh", "1", null)]
    [InlineData("25", "other", 1, "client.example", null, "route, vh", "1", "c")]
    [InlineData("20", "echo", 0, "client.example", null, "route, vh", "1", "c")]
    public async Task Send_WeightedEntry_ItsClusterHostAndHeadersBeforeTheRoutesLevels(string pick, string? target, int upstream, string host, string? entry, string level, string? drop, string? responseEntry)
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        EchoUpstream[] upstreams = [a, b];
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(a.Port, "", virtualHost: VirtualHost, routes: Routes, clusters: Cluster("other", b.Port)));

        var (response, echoed) = await SendAsync(gateway, "/w", pick, target);

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, upstreams[upstream].Requests);
            Assert.Equal(0, upstreams[1 - upstream].Requests);
            Assert.Equal(host, Header(echoed!, "host"));
            Assert.Equal(entry, Header(echoed!, "x-entry"));
            // The entry's parser runs first, the route's overwrite after it.
            Assert.Equal("route", Header(echoed!, "x-order"));
            Assert.Equal(level, Header(echoed!, "x-level"));
            Assert.Equal(drop, Header(echoed!, "x-drop"));
            Assert.Null(Header(echoed!, "x-forwarded-host"));
            Assert.Equal(responseEntry, Header(response, "x-resp-entry"));
            Assert.Equal("route", Header(response, "x-resp-order"));
        }
    }

    [Fact]
    public async Task Send_RouteHostRewriteOverEntrys_RouteWinsAndForwardedHostIsTheEntrys()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(a.Port, "", routes: Routes, clusters: Cluster("other", a.Port)));

        var (response, echoed) = await SendAsync(gateway, "/route-host", null);

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Envoy: the entry sets Host, then the route's updateAuthority replaces it and appends the Host it replaced.
            Assert.Equal("route.example", Header(echoed!, "host"));
            Assert.Equal("entry.example", Header(echoed!, "x-forwarded-host"));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("nope")]
    public async Task Send_ClusterHeaderEntryNamesNoCluster_ClusterNotFound(string? target)
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(a.Port, "", routes: Routes, clusters: Cluster("other", a.Port)));

        var (response, _) = await SendAsync(gateway, "/w", "20", target);

        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            // A local reply on the entry's route gets the entry's response headers too.
            Assert.Equal("c", Header(response, "x-resp-entry"));
        }
        Assert.Equal(0, a.Requests);
        await gateway.AssertStatAsync("http.ingress_http.no_cluster", 1);
    }

    private const string PerRouteType = "type.googleapis.com/gateway.tests.LevelsFilterPerRoute";

    [Theory]
    [InlineData("0", "entry>route>vhost")]
    [InlineData("1", "route>vhost")]
    [InlineData("2", null)]
    public async Task Send_EntryTypedPerFilterConfig_MostSpecificLevelOrDisabled(string pick, string? expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ListenerYaml.Build(
            upstream.Port,
            """
            - name: levels
              typed_config: { "@type": type.googleapis.com/gateway.tests.LevelsFilter }
            """,
            virtualHost: $$"""
            typed_per_filter_config:
              levels: { "@type": {{PerRouteType}}, tag: vhost }
            """,
            routes: $$"""
            - match: { prefix: "/" }
              typed_per_filter_config:
                levels: { "@type": {{PerRouteType}}, tag: route }
              route:
                weighted_clusters:
                  header_name: x-pick
                  clusters:
                  - name: echo
                    weight: 1
                    typed_per_filter_config:
                      levels: { "@type": {{PerRouteType}}, tag: entry }
                  - { name: echo, weight: 1 }
                  - name: echo
                    weight: 1
                    typed_per_filter_config:
                      levels: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true }
            """);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter(new LevelsFilterFactory()));

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/levels"));
        request.Headers.Add("x-pick", pick);
        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (expected is null)
        {
            // Disabled on the entry: the filter does not run and the request reaches the upstream.
            Assert.Equal(1, upstream.Requests);
        }
        else
        {
            Assert.Equal(expected, body);
            Assert.Equal(0, upstream.Requests);
        }
    }

    [Fact]
    public void Build_WeightedEntryRoute_CopiesEveryOtherMemberOfItsRoute()
    {
        var yaml = ListenerYaml.Build(1, "", routes: """
            - name: w
              match: { prefix: "/" }
              request_headers_to_add: [{ header: { key: x-route, value: r } }]
              route:
                timeout: 3s
                retry_policy: { retry_on: 5xx }
                hash_policy: [{ header: { header_name: x-user } }]
                weighted_clusters:
                  clusters:
                  - { name: echo, weight: 1, host_rewrite_literal: e.example, request_headers_to_add: [{ header: { key: x-e, value: e } }] }
            """);
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml));
        var stats = new StatsStore();
        var listener = ListenerRuntime.Build(plan.Listeners[0], plan.Listeners[0].FilterChains[0], Gateway.Tests.Resilience.TestRequests.Registry(plan, stats), stats);
        var route = listener.Routes.Match("x", "GET", "http", "/", new HeaderDictionary())!;

        var entry = route.Resolve(new DefaultHttpContext().Request, 0, null);

        Assert.NotSame(route, entry);
        Assert.Same(entry, entry.Resolve(new DefaultHttpContext().Request, 0, null));
        Assert.Equal("e.example", entry.EntryHostRewrite);
        Assert.Equal("echo", entry.Cluster?.Name);
        Assert.NotSame(route.Headers, entry.Headers);
        // A member added to RouteRuntime must be copied to the entries (its copy constructor) or be one they override.
        string[] overridden = [nameof(RouteRuntime.Cluster), nameof(RouteRuntime.ClusterSpecifier), nameof(RouteRuntime.Headers), nameof(RouteRuntime.FilterStates),
            nameof(RouteRuntime.EntryHostRewrite), nameof(RouteRuntime.Weighted)];
        foreach (var property in typeof(RouteRuntime).GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (property.GetIndexParameters().Length != 0 || overridden.Contains(property.Name) || property.Name.Contains('.', StringComparison.Ordinal) || property.Name == "EntryClusterName")
            {
                continue;
            }
            Assert.True(Equals(property.GetValue(route), property.GetValue(entry)), $"RouteRuntime.{property.Name} is not copied to weighted entries");
        }
    }

    private static EnvoyConfigException LoadFails(string route, string filters = "")
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(ListenerYaml.Build(1, filters, routes: route), "envoy.yaml"));

    [Theory]
    [InlineData("{ name: echo, cluster_header: x-c, weight: 1 }", "clusters[0].name", "Only one of name or cluster_header can be specified")]
    [InlineData("{ weight: 1 }", "clusters[0].name", "At least one of name or cluster_header need to be specified")]
    [InlineData("{ cluster_header: \"bad header\", weight: 1 }", "clusters[0].cluster_header", "'cluster_header' must be a valid HTTP header name (got 'bad header')")]
    [InlineData("{ name: echo, weight: 1, host_rewrite_literal: \"a\\nb\" }", "clusters[0].host_rewrite_literal", "'host_rewrite_literal' may not contain NUL, CR or LF (HTTP_HEADER_VALUE)")]
    public void Load_BadEntry_EnvoysMessageAtTheField(string entry, string path, string message)
    {
        var error = Assert.Single(LoadFails($$"""
            - match: { prefix: "/" }
              route: { weighted_clusters: { clusters: [{{entry}}] } }
            """).Errors);

        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Load_EntryPerFilterConfigOfAFilterWithoutOne_RefusedByPath()
    {
        var error = Assert.Single(LoadFails("""
            - match: { prefix: "/" }
              route:
                weighted_clusters:
                  clusters:
                  - name: echo
                    weight: 1
                    typed_per_filter_config:
                      envoy.filters.http.router: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
            """).Errors);

        Assert.Contains("clusters[0].typed_per_filter_config", error.Location.Path, StringComparison.Ordinal);
    }
}
