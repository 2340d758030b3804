using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Cors;

/// <summary>envoy.filters.http.cors through the in-process gateway in front of a real echo upstream.</summary>
public class CorsFilterTests
{
    private const string CorsFilter = """
        - name: envoy.filters.http.cors
          typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }
        """;

    private const string PolicyType = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

    private const string AppOrigin = "https://app.example";

    /// <summary>A virtual-host policy: one exact origin and a regex family, methods, headers, max age, credentials, exposed headers.</summary>
    private static string VirtualHostPolicy(string extra = "") => $$"""
        typed_per_filter_config:
          envoy.filters.http.cors:
            "@type": {{PolicyType}}
            allow_origin_string_match:
            - exact: {{AppOrigin}}
            - safe_regex: { regex: 'https://[a-z]+\.partner\.example' }
            allow_methods: GET,POST
            allow_headers: content-type,x-custom
            expose_headers: x-exposed-1,x-exposed-2
            max_age: "600"
            allow_credentials: true
        {{ListenerYaml.Indent(extra, 4)}}
        """;

    private static Task<InProcessGateway> StartAsync(EchoUpstream upstream, string virtualHost, string routes = ListenerYaml.CatchAll, Random? random = null)
        => ListenerYaml.StartAsync(upstream, CorsFilter, virtualHost, routes, random);

    private static HttpRequestMessage Preflight(Uri uri, string origin, string method = "POST", string? requestHeaders = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, uri);
        request.Headers.Add("origin", origin);
        request.Headers.Add("access-control-request-method", method);
        if (requestHeaders is not null)
        {
            request.Headers.Add("access-control-request-headers", requestHeaders);
        }
        return request;
    }

    private static HttpRequestMessage Get(Uri uri, string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (origin is not null)
        {
            request.Headers.Add("origin", origin);
        }
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    private static async Task AssertOriginStatsAsync(InProcessGateway gateway, long valid, long invalid)
    {
        await gateway.AssertStatAsync("http.ingress_http.cors.origin_valid", valid);
        await gateway.AssertStatAsync("http.ingress_http.cors.origin_invalid", invalid);
    }

    [Fact]
    public async Task Preflight_AllowedOrigin_AnsweredByTheFilterWithThePolicyHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Preflight(gateway.ListenerUri("/api"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
        Assert.Equal("true", Header(response, "access-control-allow-credentials"));
        Assert.Equal("GET,POST", Header(response, "access-control-allow-methods"));
        Assert.Equal("content-type,x-custom", Header(response, "access-control-allow-headers"));
        Assert.Equal("600", Header(response, "access-control-max-age"));
        // Envoy's preflight reply goes through every encoder, the CORS filter's own too, which adds the exposed headers.
        Assert.Equal("x-exposed-1,x-exposed-2", Header(response, "access-control-expose-headers"));
        Assert.Equal("envoy", Header(response, "server"));
        Assert.Equal(0, response.Content.Headers.ContentLength);
        Assert.Null(response.Content.Headers.ContentType);
        Assert.Equal(0, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 1);
    }

    [Fact]
    public async Task Preflight_RegexOrigin_IsAllowed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Preflight(gateway.ListenerUri("/api"), "https://shop.partner.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("https://shop.partner.example", Header(response, "access-control-allow-origin"));
        Assert.Equal(0, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }

    [Fact]
    public async Task Preflight_OriginNotAllowed_IsForwardedUpstreamByDefault()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Preflight(gateway.ListenerUri("/api"), "https://evil.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"Method\":\"OPTIONS\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(Header(response, "access-control-allow-origin"));
        Assert.Null(Header(response, "access-control-allow-methods"));
        Assert.Equal(1, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 1);
    }

    [Fact]
    public async Task Preflight_OriginNotAllowedWithoutForwarding_AnsweredWithoutAllowOrigin()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy("forward_not_matching_preflights: false"));
        using var request = Preflight(gateway.ListenerUri("/api"), "https://evil.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "access-control-allow-origin"));
        Assert.Equal("GET,POST", Header(response, "access-control-allow-methods"));
        Assert.Null(Header(response, "access-control-expose-headers"));
        Assert.Equal(0, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 1);
    }

    [Fact]
    public async Task Preflight_Wildcards_EchoTheRequestedMethodAndHeaders_AndPrivateNetworkAccess()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var policy = $$"""
            typed_per_filter_config:
              envoy.filters.http.cors:
                "@type": {{PolicyType}}
                allow_origin_string_match: [{ exact: "*" }]
                allow_methods: "*"
                allow_headers: "*"
                allow_private_network_access: true
            """;
        await using var gateway = await StartAsync(upstream, policy);
        using var request = Preflight(gateway.ListenerUri("/api"), "https://any.example", method: "DELETE", requestHeaders: "x-a,x-b");
        request.Headers.Add("access-control-request-private-network", "true");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal("https://any.example", Header(response, "access-control-allow-origin"));
        Assert.Equal("DELETE", Header(response, "access-control-allow-methods"));
        Assert.Equal("x-a,x-b", Header(response, "access-control-allow-headers"));
        Assert.Equal("true", Header(response, "access-control-allow-private-network"));
        Assert.Null(Header(response, "access-control-allow-credentials"));
        Assert.Null(Header(response, "access-control-max-age"));
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }

    [Fact]
    public async Task Options_WithoutRequestMethod_IsNotAPreflightAndGoesUpstream()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = new HttpRequestMessage(HttpMethod.Options, gateway.ListenerUri("/api"));
        request.Headers.Add("origin", AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(1, upstream.Requests);
        Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }

    [Fact]
    public async Task Request_AllowedOrigin_ResponseGetsAllowOriginCredentialsAndExposedHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Get(gateway.ListenerUri("/get"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
        Assert.Equal("true", Header(response, "access-control-allow-credentials"));
        Assert.Equal("x-exposed-1,x-exposed-2", Header(response, "access-control-expose-headers"));
        Assert.Null(Header(response, "access-control-allow-methods"));
        Assert.Null(Header(response, "access-control-max-age"));
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }

    [Fact]
    public async Task Request_OriginNotAllowed_ResponseUnchanged()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Get(gateway.ListenerUri("/get"), "https://evil.example");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "access-control-allow-origin"));
        Assert.Null(Header(response, "access-control-allow-credentials"));
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 1);
    }

    [Fact]
    public async Task Request_WithoutOrigin_IsNotCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy());
        using var request = Get(gateway.ListenerUri("/get"), origin: null);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 0);
    }

    [Fact]
    public async Task Request_NoPolicyAtAnyLevel_FilterDoesNothing()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, virtualHost: "");
        using var request = Preflight(gateway.ListenerUri("/api"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(1, upstream.Requests);
        Assert.Null(Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 0);
    }

    [Fact]
    public async Task RoutePolicy_SetsOnlySomeFields_TheOthersComeFromTheVirtualHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var routes = $$"""
            - name: put-only
              match: { prefix: "/put" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.cors: { "@type": {{PolicyType}}, allow_methods: PUT, allow_credentials: false }
            {{ListenerYaml.CatchAll}}
            """;
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(), routes);

        using (var request = Preflight(gateway.ListenerUri("/put"), AppOrigin))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
            Assert.Equal("PUT", Header(response, "access-control-allow-methods"));
            Assert.Equal("content-type,x-custom", Header(response, "access-control-allow-headers"));
            Assert.Equal("600", Header(response, "access-control-max-age"));
            Assert.Null(Header(response, "access-control-allow-credentials"));
        }
        using (var request = Preflight(gateway.ListenerUri("/other"), AppOrigin))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Equal("GET,POST", Header(response, "access-control-allow-methods"));
            Assert.Equal("true", Header(response, "access-control-allow-credentials"));
        }
        Assert.Equal(0, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 2, invalid: 0);
    }

    [Fact]
    public async Task RoutePolicy_FilterEnabledZero_DisablesTheFilterOnThatRoute()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var routes = $$"""
            - name: off
              match: { prefix: "/off" }
              route: { cluster: echo }
              typed_per_filter_config:
                envoy.filters.http.cors: { "@type": {{PolicyType}}, filter_enabled: { default_value: { numerator: 0 } } }
            {{ListenerYaml.CatchAll}}
            """;
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(), routes);
        using var request = Preflight(gateway.ListenerUri("/off"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(1, upstream.Requests);
        Assert.Null(Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 0);
    }

    [Fact]
    public async Task ShadowEnabled_OriginsAreCountedButNothingIsEnforced()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var shadow = """
            filter_enabled: { default_value: { numerator: 0 } }
            shadow_enabled: { default_value: { numerator: 100 }, runtime_key: cors.shadow }
            """;
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(shadow));

        using (var request = Preflight(gateway.ListenerUri("/api"), AppOrigin))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Null(Header(response, "access-control-allow-origin"));
        }
        using (var request = Get(gateway.ListenerUri("/get"), "https://evil.example"))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Null(Header(response, "access-control-allow-origin"));
        }
        Assert.Equal(2, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 1);
    }

    [Fact]
    public async Task FilterEnabled_Fraction_DrawsOncePerRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        // 25 of 10,000: a draw below 25 enforces; the first request draws 24, the second 25.
        var fraction = "filter_enabled: { default_value: { numerator: 25, denominator: TEN_THOUSAND } }";
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(fraction), random: new ScriptedRandom(24, 25));

        using (var request = Preflight(gateway.ListenerUri("/api"), AppOrigin))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
        }
        using (var request = Preflight(gateway.ListenerUri("/api"), AppOrigin))
        using (var response = await gateway.Client.SendAsync(request))
        {
            Assert.Null(Header(response, "access-control-allow-origin"));
        }
        Assert.Equal(1, upstream.Requests);
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }

    [Fact]
    public async Task DirectResponseRoute_IsSkipped()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var routes = """
            - name: direct
              match: { prefix: "/" }
              direct_response: { status: 204 }
            """;
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(), routes);
        using var request = Preflight(gateway.ListenerUri("/api"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Null(Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 0, invalid: 0);
    }

    [Fact]
    public async Task LocalReplyOfTheRouter_AllowedOrigin_GetsTheCorsHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var routes = """
            - name: nowhere
              match: { prefix: "/" }
              route: { cluster: echo, timeout: 0.001s }
            """;
        await using var gateway = await StartAsync(upstream, VirtualHostPolicy(), routes);
        using var request = Get(gateway.ListenerUri("/delay/2000"), AppOrigin);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(AppOrigin, Header(response, "access-control-allow-origin"));
        await AssertOriginStatsAsync(gateway, valid: 1, invalid: 0);
    }
}
