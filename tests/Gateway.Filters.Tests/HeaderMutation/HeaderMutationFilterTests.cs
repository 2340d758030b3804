using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.HeaderMutation;

/// <summary>envoy.filters.http.header_mutation through the in-process gateway, in front of a real upstream.</summary>
public class HeaderMutationFilterTests
{
    private const string Type = "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation";
    private const string PerRouteType = "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute";

    private static string Filter(bool mostSpecificWins = false) => $$"""
                  - name: mutate
                    typed_config:
                      "@type": {{Type}}
                      most_specific_header_mutations_wins: {{(mostSpecificWins ? "true" : "false")}}
                      mutations:
                        request_mutations:
                        - remove: x-secret
                        - append: { header: { key: x-added, value: one } }
                        - append: { header: { key: x-added, value: two } }
                        - append: { header: { key: x-absent, value: kept }, append_action: ADD_IF_ABSENT }
                        - append: { header: { key: x-over, value: new }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
                        - append: { header: { key: x-only-existing, value: new }, append_action: OVERWRITE_IF_EXISTS }
                        - append: { header: { key: x-empty, value: "" } }
                        - append: { header: { key: x-empty-kept, value: "" }, keep_empty_value: true }
                        response_mutations:
                        - remove: content-type
                        - remove: server
                        - append: { header: { key: x-level, value: filter }, append_action: OVERWRITE_IF_EXISTS_OR_ADD }
        """;

    /// <summary>A <c>typed_per_filter_config</c> block whose key sits at <paramref name="indent"/> spaces.</summary>
    private static string Level(string name, int indent)
    {
        var pad = new string(' ', indent);
        return $"{pad}typed_per_filter_config:\n"
            + $"{pad}  mutate:\n"
            + $"{pad}    \"@type\": {PerRouteType}\n"
            + $"{pad}    mutations:\n"
            + $"{pad}      request_mutations: [{{ append: {{ header: {{ key: x-level, value: {name} }}, append_action: OVERWRITE_IF_EXISTS_OR_ADD }} }}]\n"
            + $"{pad}      response_mutations: [{{ append: {{ header: {{ key: x-level, value: {name} }}, append_action: OVERWRITE_IF_EXISTS_OR_ADD }} }}]\n";
    }

    [Fact]
    public async Task Request_Mutations_AppliedAsHeaderValueOptionSays()
    {
        // A raw upstream: what it records is what the gateway wrote on the wire.
        await using var upstream = RecordingUpstream.Start();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter()));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-secret", "s");
        request.Headers.Add("x-absent", "client");
        request.Headers.Add("x-over", "client");

        using var response = await gateway.Client.SendAsync(request);
        var sent = Assert.Single(upstream.Requests);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(sent.Header("x-secret"));
        Assert.Equal(["one, two"], sent.Header("x-added"));
        Assert.Equal(["client"], sent.Header("x-absent"));
        Assert.Equal(["new"], sent.Header("x-over"));
        Assert.Empty(sent.Header("x-only-existing"));
        Assert.Empty(sent.Header("x-empty"));
        Assert.Equal([string.Empty], sent.Header("x-empty-kept"));
        Assert.Null(response.Content.Headers.ContentType);
        // As in Envoy, the connection manager writes server after the encoder filters (server_header_transformation OVERWRITE).
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        Assert.Equal("filter", Assert.Single(response.Headers.GetValues("x-level")));
    }

    [Theory]
    [InlineData(false, "routeconfig")]
    [InlineData(true, "route")]
    public async Task Request_PerRouteLevels_AllAppliedInTheConfiguredOrder(bool mostSpecificWins, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = FilterTestConfig.Yaml(
            upstream.Port,
            Filter(mostSpecificWins),
            routeExtra: Level("route", 16),
            vhostExtra: Level("vhost", 14),
            routeConfigExtra: Level("routeconfig", 12));
        await using var gateway = await FilterTestConfig.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(expected, (await FilterTestConfig.EchoAsync(response)).Headers["x-level"]);
        Assert.Equal(expected, Assert.Single(response.Headers.GetValues("x-level")));
    }

    [Theory]
    [InlineData("0", "entry")]
    [InlineData("1", "route")]
    public async Task Request_WeightedClusterEntryLevel_MostSpecificOfAll(string pick, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        // The first entry has its own typed_per_filter_config: Envoy's WeightedClusterEntry puts it after the route's.
        var routes = "- match: { prefix: \"/\" }\n" + Level("route", 2)
            + "  route:\n    weighted_clusters:\n      header_name: x-pick\n      clusters:\n      - name: echo\n        weight: 1\n" + Level("entry", 8)
            + "      - { name: echo, weight: 1 }";
        var yaml = ListenerYaml.Build(upstream.Port, ListenerYaml.Dedent(Filter(mostSpecificWins: true)), ListenerYaml.Dedent(Level("vhost", 14)), routes);
        await using var gateway = await FilterTestConfig.StartAsync(yaml);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-pick", pick);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(expected, (await FilterTestConfig.EchoAsync(response)).Headers["x-level"]);
        Assert.Equal(expected, Assert.Single(response.Headers.GetValues("x-level")));
    }

    [Fact]
    public void Load_BadMutations_EachReportedAtItsField()
    {
        var yaml = FilterTestConfig.Yaml(1, $$"""
                  - name: mutate
                    typed_config:
                      "@type": {{Type}}
                      mutations:
                        request_mutations:
                        - append: { header: { key: x-a, value: "%REQ(x-b)%" } }
                        - append: { header: { key: "", value: v } }
                        - append: { header: { key: x-c, value: v }, append: true, append_action: ADD_IF_ABSENT }
                        - {}
                        parameter_mutations: []
        """);

        var errors = FilterTestConfig.LoadErrors(yaml);

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.Message == "header value formatters (%COMMAND%) are not supported" && e.Location.Path.EndsWith("header.value", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("non-empty header name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message == "Both append and append_action are set and it's not allowed");
        Assert.Contains(errors, e => e.Message.Contains("needs one of 'remove' or 'append'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Path.EndsWith("parameter_mutations", StringComparison.Ordinal) && e.Message.Contains("not supported", StringComparison.Ordinal));
    }
}
