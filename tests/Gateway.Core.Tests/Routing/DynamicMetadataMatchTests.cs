using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Routing;

/// <summary>A filter setting dynamic metadata, then the route matched again on it (RouteMatch.dynamic_metadata).</summary>
public class DynamicMetadataMatchTests
{
    private const string ProbeType = MetadataSetterFactory.TypeUrl;

    private static string Config(string routes) => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  http_filters:
                  - name: setter
                    typed_config: { "@type": {{ProbeType}} }
                  - name: envoy.filters.http.router
                  route_config:
                    virtual_hosts:
                    - name: api
                      domains: ["*"]
                      routes:
        {{routes}}
                      - match: { prefix: "/" }
                        direct_response: { status: 200, body: { inline_string: fallback } }
        """;

    private static async Task<string> GetAsync(InProcessGateway gateway, string? json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        if (json is not null)
        {
            request.Headers.Add("x-metadata", json);
            if (json == "{\"user\":{}}")
            {
                request.Headers.Add("x-invert", "1");
            }
        }
        using var response = await gateway.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private static Task<InProcessGateway> StartAsync(string routes)
        => InProcessGateway.StartAsync(Config(routes), configureGateway: g => g.AddHttpFilter(new MetadataSetterFactory()));

    [Theory]
    [InlineData("{\"user\":{\"tier\":\"gold\"}}", "string")]
    [InlineData("{\"user\":{\"tier\":\"golden\"}}", "fallback")]
    [InlineData("{\"user\":{\"score\":7}}", "range")]
    [InlineData("{\"user\":{\"score\":10}}", "fallback")]
    [InlineData("{\"user\":{\"beta\":true}}", "bool")]
    [InlineData("{\"user\":{\"beta\":false}}", "fallback")]
    [InlineData("{\"user\":{\"tags\":[\"a\",\"vip\"]}}", "list")]
    [InlineData("{\"user\":{\"gone\":null}}", "null")]
    [InlineData("{\"user\":{\"id\":\"x\"}}", "present")]
    [InlineData("{\"user\":{\"plan\":\"free\"}}", "or")]
    [InlineData("{\"user\":{\"plan\":2}}", "or")]
    [InlineData("{\"user\":{\"blocked\":1}}", "fallback")]
    [InlineData("{\"user\":{}}", "inverted")]
    [InlineData(null, "fallback")]
    public async Task DynamicMetadata_SetByAFilter_SelectsTheRoute(string? metadata, string expected)
    {
        await using var gateway = await StartAsync("""
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: tier } ], value: { string_match: { exact: gold } } } ] }
                        direct_response: { status: 200, body: { inline_string: string } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: score } ], value: { double_match: { range: { start: 5, end: 10 } } } } ] }
                        direct_response: { status: 200, body: { inline_string: range } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: beta } ], value: { bool_match: true } } ] }
                        direct_response: { status: 200, body: { inline_string: bool } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: tags } ], value: { list_match: { one_of: { string_match: { exact: vip } } } } } ] }
                        direct_response: { status: 200, body: { inline_string: list } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: gone } ], value: { null_match: {} } } ] }
                        direct_response: { status: 200, body: { inline_string: "null" } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: id } ], value: { present_match: true } } ] }
                        direct_response: { status: 200, body: { inline_string: present } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: plan } ], value: { or_match: { value_matchers: [ { string_match: { prefix: fr } }, { double_match: { exact: 2 } } ] } } } ] }
                        direct_response: { status: 200, body: { inline_string: or } }
                      - match: { prefix: "/", dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: blocked } ], value: { present_match: true } } ] }
                        direct_response: { status: 200, body: { inline_string: fallback } }
                      - match: { prefix: "/", headers: [ { name: x-invert, present_match: true } ], dynamic_metadata: [ { filter: test.ns, path: [ { key: user }, { key: blocked } ], value: { present_match: true }, invert: true } ] }
                        direct_response: { status: 200, body: { inline_string: inverted } }
        """);

        Assert.Equal(expected, await GetAsync(gateway, metadata));
    }

    [Fact]
    public void Load_MetadataMatcherMistakes_AreReportedAtTheirFields()
    {
        var yaml = Config("""
                      - match: { prefix: "/", dynamic_metadata: [ { path: [], value: { bool_match: true, present_match: true } }, { filter: f, path: [ { key: "" } ] }, { filter: f, path: [ { key: k } ], value: { or_match: { value_matchers: [ { null_match: {} } ] } } } ] }
                        direct_response: { status: 200 }
        """);
        var types = EnvoyTypeRegistry.CreateDefault();
        types.AddHttpFilter(new MetadataSetterFactory());

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml", types)).Errors.Select(e => e.Message).ToArray();

        Assert.Equal(
        [
            "'filter' is required", "'path' needs at least one segment",
            "a value matcher needs exactly one of null_match, double_match, string_match, bool_match, present_match, list_match, or_match",
            "'value' is required", "'key' is required", "'value_matchers' needs at least 2 matchers",
        ], errors);
    }
}
