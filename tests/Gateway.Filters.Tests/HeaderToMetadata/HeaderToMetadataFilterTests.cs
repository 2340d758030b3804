using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.HeaderToMetadata;

/// <summary>envoy.filters.http.header_to_metadata: request rules into dynamic metadata seen by a later filter, and its opt-in stats.</summary>
public class HeaderToMetadataFilterTests
{
    private const string Type = "type.googleapis.com/envoy.extensions.filters.http.header_to_metadata.v3.Config";

    private static string Filter(string statPrefix = "h2m") => $$"""
                  - name: h2m
                    typed_config:
                      "@type": {{Type}}
                      stat_prefix: {{statPrefix}}
                      request_rules:
                      - header: x-version
                        on_header_present: { metadata_namespace: envoy.lb, key: version }
                        on_header_missing: { metadata_namespace: envoy.lb, key: version, value: default }
                        remove: true
                      - header: x-count
                        on_header_present: { key: count, type: NUMBER }
                      - header: x-encoded
                        on_header_present: { key: decoded, encode: BASE64 }
                      - header: x-path
                        on_header_present:
                          key: service
                          regex_value_rewrite: { pattern: { regex: "^/(\\w+)/.*$" }, substitution: "\\1" }
                      - cookie: session
                        on_header_present: { key: session }
                      - header: x-proto
                        on_header_present: { key: proto, type: PROTOBUF_VALUE, encode: BASE64 }
                      response_rules:
                      - header: content-type
                        on_header_present: { key: content_type }
        {{FilterTestConfig.Probe}}
        """;

    [Fact]
    public async Task Request_HeadersPresent_ValuesTypedDecodedRewrittenAndHeaderRemoved()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter()));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-version", "v1");
        request.Headers.Add("x-count", " 42.5 ");
        request.Headers.Add("x-encoded", "aGVsbG8");
        request.Headers.Add("x-path", "/users/7");
        request.Headers.Add("cookie", "a=b; session=\"abc\"");
        // A serialized google.protobuf.Value: struct { k: 1.5, l: ["a", true] }.
        request.Headers.Add("x-proto", "KiIKDgoBaxIJEQAAAAAAAPg/ChAKAWwSCzIJCgMaAWEKAiAB");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """envoy.filters.http.header_to_metadata={"count":42.5,"decoded":"hello","service":"users","session":"abc","proto":{"k":1.5,"l":["a",true]}};envoy.lb={"version":"v1"}""",
            Assert.Single(response.Headers.GetValues("x-metadata")));
        var echoed = (await FilterTestConfig.EchoAsync(response)).Headers;
        Assert.False(echoed.ContainsKey("x-version"));
        Assert.Equal("42.5", echoed["x-count"].Trim());
        await gateway.AssertStatAsync("http_filter_name.h2m.request_rules_processed", 6);
        await gateway.AssertStatAsync("http_filter_name.h2m.request_metadata_added", 6);
        await gateway.AssertStatAsync("http_filter_name.h2m.request_header_not_found", 0);
        await gateway.AssertStatAsync("http_filter_name.h2m.response_rules_processed", 1);
        await gateway.AssertStatAsync("http_filter_name.h2m.response_metadata_added", 1);
        Assert.Null(await gateway.StatAsync("http.ingress_http.header_to_metadata.request_rules_processed"));
    }

    [Fact]
    public async Task Request_PerRouteConfig_ReplacesTheFiltersRules()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var route = $$"""
                        typed_per_filter_config:
                          h2m:
                            "@type": {{Type}}
                            request_rules: [{ header: x-tenant, on_header_present: { key: tenant } }]
        """;
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter(), routeExtra: route));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-tenant", "blue");
        request.Headers.Add("x-count", "1");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("""envoy.filters.http.header_to_metadata={"tenant":"blue"}""", Assert.Single(response.Headers.GetValues("x-metadata")));
        // The route's configuration has no stat_prefix: nothing is counted.
        await gateway.AssertStatAsync("http_filter_name.h2m.request_rules_processed", 0);
    }

    [Fact]
    public void Load_PerRouteConfigWithoutRules_Refused()
    {
        var route = $$"""
                        typed_per_filter_config:
                          h2m: { "@type": {{Type}} }
        """;
        var error = Assert.Single(FilterTestConfig.LoadErrors(FilterTestConfig.Yaml(1, Filter(), routeExtra: route)));

        Assert.Equal("header_to_metadata_filter: Per filter configs must at least specify either request or response rules", error.Message);
        Assert.Contains("typed_per_filter_config", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_HeadersMissingOrBad_MissingValueAddedAndFailuresCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await FilterTestConfig.StartAsync(FilterTestConfig.Yaml(upstream.Port, Filter()));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-count", "many");
        request.Headers.Add("x-encoded", "a");
        request.Headers.Add("x-path", new string('p', 9000));
        request.Headers.Add("x-proto", "/w");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("""envoy.lb={"version":"default"}""", Assert.Single(response.Headers.GetValues("x-metadata")));
        // x-proto is valid base64 of bytes that are no protobuf Value: nothing added, no stat (as in Envoy).
        await gateway.AssertStatAsync("http_filter_name.h2m.request_rules_processed", 6);
        await gateway.AssertStatAsync("http_filter_name.h2m.request_metadata_added", 1);
        await gateway.AssertStatAsync("http_filter_name.h2m.request_header_not_found", 1);
        await gateway.AssertStatAsync("http_filter_name.h2m.base64_decode_failed", 1);
        await gateway.AssertStatAsync("http_filter_name.h2m.header_value_too_long", 1);
    }

    [Fact]
    public void Load_BadRules_EnvoysMessages()
    {
        var yaml = FilterTestConfig.Yaml(1, $$"""
                  - name: h2m
                    typed_config:
                      "@type": {{Type}}
                      request_rules:
                      - { header: x-a, cookie: c, on_header_present: { key: k } }
                      - { on_header_present: { key: k } }
                      - { header: x-b }
                      - { header: x-c, on_header_missing: { key: k } }
                      - { cookie: c, remove: true, on_header_present: { key: k } }
                      - { header: x-d, on_header_present: { key: k, value: v, regex_value_rewrite: { pattern: { regex: a }, substitution: b } } }
                      - { header: x-e, on_header_present: { key: "" } }
        """);

        var messages = FilterTestConfig.LoadErrors(yaml).Select(e => e.Message).ToList();

        Assert.Equal(
            [
                "Cannot specify both header and cookie in the same rule",
                "One of Cookie or Header option needs to be specified",
                "header to metadata filter: rule for header 'x-b' has neither `on_header_present` nor `on_header_missing` set",
                "Cannot specify on_header_missing rule with an empty value",
                "Cannot specify remove for cookie",
                "Cannot specify both value and regex_value_rewrite",
                "'key' must be at least 1 character",
            ],
            messages);
    }
}
