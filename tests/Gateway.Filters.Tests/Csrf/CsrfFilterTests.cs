using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Csrf;

/// <summary>envoy.filters.http.csrf through the in-process gateway in front of a real echo upstream.</summary>
public class CsrfFilterTests
{
    private const string PolicyType = "type.googleapis.com/envoy.extensions.filters.http.csrf.v3.CsrfPolicy";

    private static string CsrfFilter(string policy = "filter_enabled: { default_value: { numerator: 100 } }") => $$"""
        - name: envoy.filters.http.csrf
          typed_config:
            "@type": {{PolicyType}}
        {{ListenerYaml.Indent(policy, 4)}}
        """;

    private static Task<InProcessGateway> StartAsync(EchoUpstream upstream, string filter, string virtualHost = "", string routes = ListenerYaml.CatchAll, Random? random = null)
        => ListenerYaml.StartAsync(upstream, filter, virtualHost, routes, random);

    /// <summary>Sends a request with a body (and the given source headers) and asserts the status it gets.</summary>
    private static async Task AssertStatusAsync(InProcessGateway gateway, HttpMethod method, string path, HttpStatusCode expected, string? origin = null)
    {
        using var request = Request(method, gateway.ListenerUri(path), origin: origin);
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri uri, string? origin = null, string? referer = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = new StringContent("payload") };
        if (origin is not null)
        {
            request.Headers.Add("origin", origin);
        }
        if (referer is not null)
        {
            request.Headers.TryAddWithoutValidation("referer", referer);
        }
        return request;
    }

    /// <summary>The origin the gateway's own listener is (what the client sends as Host).</summary>
    private static string SameOrigin(InProcessGateway gateway) => $"http://{gateway.ListenerUri("/").Authority}";

    private static async Task AssertCsrfStatsAsync(InProcessGateway gateway, long missing, long invalid, long valid)
    {
        await gateway.AssertStatAsync("http.ingress_http.csrf.missing_source_origin", missing);
        await gateway.AssertStatAsync("http.ingress_http.csrf.request_invalid", invalid);
        await gateway.AssertStatAsync("http.ingress_http.csrf.request_valid", valid);
    }

    [Fact]
    public async Task Post_SameOrigin_IsValidAndForwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter());
        using var request = Request(HttpMethod.Post, gateway.ListenerUri("/post"), origin: SameOrigin(gateway));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["payload"], upstream.Bodies);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 0, valid: 1);
    }

    [Fact]
    public async Task Post_CrossOrigin_Is403InvalidOrigin()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter());
        using var request = Request(HttpMethod.Post, gateway.ListenerUri("/post"), origin: "https://evil.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Invalid origin", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, upstream.Requests);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 1, valid: 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
    }

    [Fact]
    public async Task Post_NoOriginNorReferer_IsMissingAndInvalid()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter());
        using var request = Request(HttpMethod.Post, gateway.ListenerUri("/post"));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, upstream.Requests);
        await AssertCsrfStatsAsync(gateway, missing: 1, invalid: 1, valid: 0);
    }

    [Fact]
    public async Task Put_RefererOfTheSameHost_IsValid()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter());
        using var request = Request(HttpMethod.Put, gateway.ListenerUri("/put"), referer: SameOrigin(gateway) + "/page?x=1");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 0, valid: 1);
    }

    [Fact]
    public async Task DeleteAndPatch_CrossOrigin_AreRefused_GetAndOptionsAreNotChecked()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter());

        foreach (var method in new[] { HttpMethod.Delete, HttpMethod.Patch })
        {
            await AssertStatusAsync(gateway, method, "/x", HttpStatusCode.Forbidden, origin: "https://evil.example");
        }
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Options, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, gateway.ListenerUri("/x"));
            request.Headers.Add("origin", "https://evil.example");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(3, upstream.Requests);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 2, valid: 0);
    }

    [Fact]
    public async Task Post_AdditionalOrigin_IsValid()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var policy = """
            filter_enabled: { default_value: { numerator: 100 } }
            additional_origins:
            - suffix: .trusted.example
            - exact: partner.example:8443
            """;
        await using var gateway = await StartAsync(upstream, CsrfFilter(policy));

        foreach (var origin in new[] { "https://app.trusted.example", "https://partner.example:8443", "https://user:pw@partner.example:8443/x" })
        {
            await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.OK, origin: origin);
        }
        await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.Forbidden, origin: "https://partner.example");
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 1, valid: 3);
    }

    [Fact]
    public async Task ShadowEnabled_InvalidRequestsAreCountedButForwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var policy = """
            filter_enabled: { default_value: { numerator: 0 } }
            shadow_enabled: { default_value: { numerator: 100 } }
            """;
        await using var gateway = await StartAsync(upstream, CsrfFilter(policy));

        await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.OK, origin: "https://evil.example");
        await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.OK);
        Assert.Equal(2, upstream.Requests);
        await AssertCsrfStatsAsync(gateway, missing: 1, invalid: 2, valid: 0);
    }

    [Fact]
    public async Task FilterEnabledZero_WithoutShadow_NothingIsChecked()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, CsrfFilter("filter_enabled: { default_value: { numerator: 0 }, runtime_key: csrf.enabled }"));
        using var request = Request(HttpMethod.Post, gateway.ListenerUri("/post"), origin: "https://evil.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 0, valid: 0);
    }

    [Fact]
    public async Task FilterEnabled_Fraction_DrawsPerRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        // 50 %: a draw of 49 enforces, 50 does not (and with no shadow, is not counted).
        await using var gateway = await StartAsync(upstream, CsrfFilter("filter_enabled: { default_value: { numerator: 50 } }"), random: new ScriptedRandom(49, 50));

        await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.Forbidden, origin: "https://evil.example");
        await AssertStatusAsync(gateway, HttpMethod.Post, "/post", HttpStatusCode.OK, origin: "https://evil.example");
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 1, valid: 0);
    }

    [Fact]
    public async Task PerRoutePolicy_MostSpecificLevelReplacesTheFilters()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var virtualHost = $$"""
            typed_per_filter_config:
              envoy.filters.http.csrf:
                "@type": {{PolicyType}}
                filter_enabled: { default_value: { numerator: 100 } }
                additional_origins: [{ exact: vhost.example }]
            """;
        var routes = $$"""
            - name: open
              match: { prefix: "/open" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.csrf: { "@type": {{PolicyType}}, filter_enabled: { default_value: { numerator: 0 } } }
            {{ListenerYaml.CatchAll}}
            """;
        // The filter's own policy would refuse everything cross-origin; the virtual host allows vhost.example.
        await using var gateway = await StartAsync(upstream, CsrfFilter(), virtualHost, routes);

        await AssertStatusAsync(gateway, HttpMethod.Post, "/open", HttpStatusCode.OK, origin: "https://evil.example");
        await AssertStatusAsync(gateway, HttpMethod.Post, "/other", HttpStatusCode.OK, origin: "https://vhost.example");
        await AssertStatusAsync(gateway, HttpMethod.Post, "/other", HttpStatusCode.Forbidden, origin: "https://evil.example");
        Assert.Equal(2, upstream.Requests);
        await AssertCsrfStatsAsync(gateway, missing: 0, invalid: 1, valid: 1);
    }
}
