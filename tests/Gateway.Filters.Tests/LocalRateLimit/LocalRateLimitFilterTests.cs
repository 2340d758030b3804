using System.Net;
using System.Text.Json;
using Gateway.Filters;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.LocalRateLimit;

/// <summary>envoy.filters.http.local_ratelimit through the in-process gateway, against an echo upstream.</summary>
public class LocalRateLimitFilterTests
{
    private const string Type = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
    private const string Stats = "http.ingress_http.test.http_local_rate_limit.";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Enforced = """
        stat_prefix: test
        filter_enabled: { default_value: { numerator: 100 } }
        filter_enforced: { default_value: { numerator: 100 } }
        """;

    private readonly StreamInfoProbeFactory _probe = new();

    private Task<(InProcessGateway Gateway, FakeTimeProvider Time)> StartAsync(EchoUpstream upstream, string filter, string limitedRoute = "")
        => SingleFilterConfig.StartAsync(upstream, _probe, "envoy.filters.http.local_ratelimit", Type, filter, limitedRoute);

    private static async Task AssertStatsAsync(InProcessGateway gateway, string prefix, long enabled, long ok, long rateLimited, long enforced)
    {
        Assert.Equal(enabled, await gateway.StatAsync(prefix + "enabled"));
        Assert.Equal(ok, await gateway.StatAsync(prefix + "ok"));
        Assert.Equal(rateLimited, await gateway.StatAsync(prefix + "rate_limited"));
        Assert.Equal(enforced, await gateway.StatAsync(prefix + "enforced"));
    }

    [Fact]
    public async Task Request_BucketEmpty_429LocalRateLimitedWithResponseHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + """

            token_bucket: { max_tokens: 2, fill_interval: 60s }
            response_headers_to_add:
            - header: { key: x-local-rate-limit, value: "true" }
            """);
        await using var _ = gateway;

        using (var first = await SingleFilterConfig.GetAsync(gateway, "/get"))
        using (var second = await SingleFilterConfig.GetAsync(gateway, "/get"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.False(second.Headers.Contains("x-local-rate-limit"));
        }
        using var limited = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("local_rate_limited", await limited.Content.ReadAsStringAsync());
        Assert.Equal("true", Assert.Single(limited.Headers.GetValues("x-local-rate-limit")));
        Assert.False(limited.Headers.Contains("x-ratelimit-limit"));
        Assert.Equal(2, upstream.Requests);
        await AssertStatsAsync(gateway, Stats, enabled: 3, ok: 2, rateLimited: 1, enforced: 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
        Assert.Equal((ResponseFlags.RateLimited, "local_rate_limited"), (await _probe.CompletedAsync(3))[2]);
    }

    [Theory]
    [InlineData("ServiceUnavailable", HttpStatusCode.ServiceUnavailable)]
    [InlineData("503", HttpStatusCode.ServiceUnavailable)]
    [InlineData("Found", HttpStatusCode.TooManyRequests)]
    public async Task Request_StatusOverride_UsesItUnlessBelow400(string code, HttpStatusCode expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + $$"""

            token_bucket: { max_tokens: 1, fill_interval: 60s }
            status: { code: {{code}} }
            """);
        await using var _ = gateway;

        using var first = await SingleFilterConfig.GetAsync(gateway, "/get");
        using var limited = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(expected, limited.StatusCode);
    }

    [Fact]
    public async Task Request_FillIntervalElapsed_BucketRefilled()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, Enforced + """

            token_bucket: { max_tokens: 2, tokens_per_fill: 1, fill_interval: 1s }
            """);
        await using var _ = gateway;

        var statuses = await SingleFilterConfig.StatusesAsync(gateway, 3, "/get");
        time.Advance(TimeSpan.FromMilliseconds(999));
        statuses.AddRange(await SingleFilterConfig.StatusesAsync(gateway, 1, "/get"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        statuses.AddRange(await SingleFilterConfig.StatusesAsync(gateway, 2, "/get"));

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.TooManyRequests],
            statuses);
        await AssertStatsAsync(gateway, Stats, enabled: 6, ok: 3, rateLimited: 3, enforced: 3);
    }

    [Fact]
    public async Task Request_LimitedNotEnforced_ForwardedWithRequestHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, """
            stat_prefix: test
            filter_enabled: { default_value: { numerator: 100 } }
            token_bucket: { max_tokens: 1, fill_interval: 60s }
            request_headers_to_add_when_not_enforced:
            - header: { key: x-rate-limited, value: "yes" }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            """);
        await using var _ = gateway;

        using var first = await SingleFilterConfig.GetAsync(gateway, "/get");
        using var second = await SingleFilterConfig.GetAsync(gateway, "/get", "x-rate-limited", "client");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var firstEcho = JsonSerializer.Deserialize<EchoedRequest>(await first.Content.ReadAsStringAsync(), Json)!;
        var secondEcho = JsonSerializer.Deserialize<EchoedRequest>(await second.Content.ReadAsStringAsync(), Json)!;
        Assert.False(firstEcho.Headers.ContainsKey("x-rate-limited"));
        Assert.Equal("yes", secondEcho.Headers["x-rate-limited"]);
        Assert.Equal(2, upstream.Requests);
        await AssertStatsAsync(gateway, Stats, enabled: 2, ok: 1, rateLimited: 1, enforced: 0);
    }

    [Fact]
    public async Task Request_NoFilterEnabled_NothingLimitedOrCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, """
            stat_prefix: test
            token_bucket: { max_tokens: 1, fill_interval: 60s }
            """);
        await using var _ = gateway;

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], await SingleFilterConfig.StatusesAsync(gateway, 3, "/get"));

        await AssertStatsAsync(gateway, Stats, enabled: 0, ok: 0, rateLimited: 0, enforced: 0);
    }

    [Fact]
    public async Task Request_XRateLimitHeaders_LimitRemainingAndResetOnProxiedAndLimitedResponses()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, Enforced + """

            token_bucket: { max_tokens: 2, fill_interval: 60s }
            enable_x_ratelimit_headers: DRAFT_VERSION_03
            """);
        await using var _ = gateway;

        using var first = await SingleFilterConfig.GetAsync(gateway, "/get");
        time.Advance(TimeSpan.FromSeconds(10.5));
        using var second = await SingleFilterConfig.GetAsync(gateway, "/get");
        time.Advance(TimeSpan.FromSeconds(30));
        using var limited = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(["2", "1", "60"], Values(first));
        Assert.Equal(["2", "0", "50"], Values(second));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(["2", "0", "20"], Values(limited));

        static string[] Values(HttpResponseMessage response) =>
        [
            Assert.Single(response.Headers.GetValues("x-ratelimit-limit")),
            Assert.Single(response.Headers.GetValues("x-ratelimit-remaining")),
            Assert.Single(response.Headers.GetValues("x-ratelimit-reset")),
        ];
    }

    [Fact]
    public async Task Request_PerRouteConfig_OwnBucketAndStats()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "stat_prefix: listener", $$"""
            typed_per_filter_config:
              envoy.filters.http.local_ratelimit:
                "@type": type.googleapis.com/{{Type}}
                stat_prefix: route
                filter_enabled: { default_value: { numerator: 100 } }
                filter_enforced: { default_value: { numerator: 100 } }
                token_bucket: { max_tokens: 1, fill_interval: 60s }
            """);
        await using var _ = gateway;

        using var first = await SingleFilterConfig.GetAsync(gateway, "/limited");
        using var limited = await SingleFilterConfig.GetAsync(gateway, "/limited");
        using var other = await SingleFilterConfig.GetAsync(gateway, "/other");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await AssertStatsAsync(gateway, "http.ingress_http.route.http_local_rate_limit.", enabled: 2, ok: 1, rateLimited: 1, enforced: 1);
        Assert.Equal(0, await gateway.StatAsync("http.ingress_http.listener.http_local_rate_limit.enabled"));
    }

    private const string Descriptors = """

        token_bucket: { max_tokens: 100, fill_interval: 60s }
        enable_x_ratelimit_headers: DRAFT_VERSION_03
        rate_limits:
        - actions:
          - request_headers: { header_name: x-client, descriptor_key: client }
          - generic_key: { descriptor_value: api }
        - actions:
          - header_value_match:
              descriptor_value: no-tenant
              expect_match: false
              headers: [{ name: x-tenant, present_match: true }]
        descriptors:
        - entries: [{ key: client, value: foo }, { key: generic_key, value: api }]
          token_bucket: { max_tokens: 1, fill_interval: 60s }
        - entries: [{ key: header_match, value: no-tenant }]
          token_bucket: { max_tokens: 2, fill_interval: 120s }
        """;

    [Fact]
    public async Task Request_DescriptorFromRequestHeaderAndGenericKey_UsesItsBucket()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + Descriptors);
        await using var _ = gateway;

        using var foo = await SingleFilterConfig.GetAsync(gateway, "/get", "x-client", "foo", "x-tenant", "t");
        using var fooLimited = await SingleFilterConfig.GetAsync(gateway, "/get", "x-client", "foo", "x-tenant", "t");
        using var bar = await SingleFilterConfig.GetAsync(gateway, "/get", "x-client", "bar", "x-tenant", "t");

        Assert.Equal(HttpStatusCode.OK, foo.StatusCode);
        Assert.Equal("1", Assert.Single(foo.Headers.GetValues("x-ratelimit-limit")));
        Assert.Equal("0", Assert.Single(foo.Headers.GetValues("x-ratelimit-remaining")));
        Assert.Equal(HttpStatusCode.TooManyRequests, fooLimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bar.StatusCode);
        Assert.Equal("100", Assert.Single(bar.Headers.GetValues("x-ratelimit-limit")));
        // foo's first request and bar's took from the default bucket too (always_consume_default_token_bucket).
        Assert.Equal("98", Assert.Single(bar.Headers.GetValues("x-ratelimit-remaining")));
        await AssertStatsAsync(gateway, Stats, enabled: 3, ok: 2, rateLimited: 1, enforced: 1);
    }

    [Fact]
    public async Task Request_HeaderValueMatchNotExpected_DescriptorWhenHeaderAbsent()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + Descriptors);
        await using var _ = gateway;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await SingleFilterConfig.GetAsync(gateway, "/get");
            statuses.Add(response.StatusCode);
            Assert.Equal("2", Assert.Single(response.Headers.GetValues("x-ratelimit-limit")));
            Assert.Equal("120", Assert.Single(response.Headers.GetValues("x-ratelimit-reset")));
        }
        using var withTenant = await SingleFilterConfig.GetAsync(gateway, "/get", "x-tenant", "t");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, withTenant.StatusCode);
    }

    [Fact]
    public async Task Request_DefaultBucketNotAlwaysConsumed_OnlyUnmatchedRequestsTakeFromIt()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + """

            token_bucket: { max_tokens: 1, fill_interval: 60s }
            always_consume_default_token_bucket: false
            rate_limits:
            - actions: [{ request_headers: { header_name: x-client, descriptor_key: client } }]
            descriptors:
            - entries: [{ key: client, value: foo }]
              token_bucket: { max_tokens: 3, fill_interval: 60s }
            """);
        await using var _ = gateway;

        var statuses = await SingleFilterConfig.StatusesAsync(gateway, 3, "/get", "x-client", "foo");
        statuses.AddRange(await SingleFilterConfig.StatusesAsync(gateway, 2, "/get", "x-client", "bar"));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Request_DestinationClusterAction_MatchesTheRoutedCluster()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + """

            token_bucket: { max_tokens: 10, fill_interval: 60s }
            rate_limits:
            - actions: [{ destination_cluster: {} }]
            descriptors:
            - entries: [{ key: destination_cluster, value: echo }]
              token_bucket: { max_tokens: 1, fill_interval: 60s }
            """);
        await using var _ = gateway;

        using var first = await SingleFilterConfig.GetAsync(gateway, "/get");
        using var limited = await SingleFilterConfig.GetAsync(gateway, "/get");
        using var direct = await SingleFilterConfig.GetAsync(gateway, "/direct");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("direct", await direct.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConfigDump_LocalRateLimit_PrintedAsEnvoyDoes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, Enforced + Descriptors);
        await using var _ = gateway;

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Contains("\"@type\": \"type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"enable_x_ratelimit_headers\": \"DRAFT_VERSION_03\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"fill_interval\": \"120s\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"expect_match\": false", dump, StringComparison.Ordinal);
    }
}
