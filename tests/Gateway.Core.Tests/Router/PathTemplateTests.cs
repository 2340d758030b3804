using System.Net;
using System.Net.Http.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Router;

/// <summary>
/// <c>path_match_policy</c> and <c>path_rewrite_policy</c> (URI templates): routing and the upstream path through a real
/// gateway and upstream, and the load errors.
/// </summary>
public class PathTemplateTests
{
    private static string Match(string template) => $$"""{ path_match_policy: { name: envoy.path.match.uri_template.uri_template_matcher, typed_config: { "@type": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: "{{template}}" } } }""";

    private static string Rewrite(string rewrite) => $$"""path_rewrite_policy: { name: envoy.path.rewrite.uri_template.uri_template_rewriter, typed_config: { "@type": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: "{{rewrite}}" } }""";

    private static string Config(EchoUpstream upstream) => ListenerYaml.Build(upstream.Port, string.Empty, routes: $$"""
        - match: {{Match("/moved/{x}")}}
          redirect: { prefix_rewrite: "/new" }
        - match: {{Match("/{one}/{two}")}}
          route: { cluster: echo, {{Rewrite("/{two}/{one}")}} }
        - match: {{Match("/content/{format}/{lang}/{id}/{file}.vtt")}}
          route: { cluster: echo, {{Rewrite("/{lang}/{format}/{file}.vtt")}} }
        - match: {{Match("/api/users/{id}/{path=**}")}}
          route: { cluster: echo, {{Rewrite("/users/{id}/{path}")}} }
        - match: {{Match("/videos/{language=lang/*}/*")}}
          route: { cluster: echo, {{Rewrite("/{language}")}} }
        - match: {{Match("/plain/*/{x}")}}
          route: { cluster: echo }
        {{ListenerYaml.CatchAll}}
        """);

    [Theory]
    [InlineData("/cat/dog", "/dog/cat")]
    [InlineData("/cat/dog?a=1&b=/x", "/dog/cat?a=1&b=/x")] // the query is kept, and not matched
    [InlineData("/content/hls/en-us/12345/en_193913.vtt", "/en-us/hls/en_193913.vtt")]
    [InlineData("/api/users/21334/profile.json", "/users/21334/profile.json")]
    [InlineData("/api/users/7/", "/users/7/")] // '**' takes nothing
    [InlineData("/videos/lang/en/video.m4s?t=3", "/lang/en?t=3")]
    [InlineData("/a*b/c", "/c/a*b")] // '*' is matched by the globs (Envoy 1.35 and later)
    public async Task PathRewritePolicy_MatchingRequest_UpstreamGetsTheRewrittenPath(string pathAndQuery, string upstreamPath)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var client = new HttpClient();

        var echoed = await client.GetFromJsonAsync<EchoedRequest>(gateway.ListenerUri(pathAndQuery));

        Assert.Equal(upstreamPath, echoed!.Path);
        Assert.Equal(pathAndQuery, echoed.Headers.GetValueOrDefault("x-envoy-original-path"));
    }

    [Theory]
    [InlineData("/plain/a/b", "/plain/a/b")] // a template route without a rewrite forwards the path as it is
    [InlineData("/one/two/three", "/one/two/three")] // no template matches: the catch-all route, no rewrite
    [InlineData("/api/users/7", "/api/users/7")] // '/api/users/{id}/{path=**}' needs the '/' after the id
    public async Task PathMatchPolicy_Request_RoutesByTemplateInOrder(string pathAndQuery, string upstreamPath)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var client = new HttpClient();

        var echoed = await client.GetFromJsonAsync<EchoedRequest>(gateway.ListenerUri(pathAndQuery));

        Assert.Equal(upstreamPath, echoed!.Path);
        Assert.False(echoed.Headers.ContainsKey("x-envoy-original-path"));
    }

    [Fact]
    public async Task PathMatchPolicy_RedirectPrefixRewrite_KeepsThePathAsEnvoy()
    {
        // Envoy's matched path of a template route is the template, which does not lead the request's path: no rewrite.
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var response = await client.GetAsync(gateway.ListenerUri("/moved/x?q=1"));

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.EndsWith("/moved/x?q=1", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigDump_TemplatePolicies_PrintedAsTypedExtensionsAtTheirFieldNumbers()
    {
        var yaml = TestConfigs.SeedWithRoute(
            Match("/{a}/{b}"), $"route: {{ cluster: httpbin_service, timeout: 3s, {Rewrite("/{b}/{a}")} }}",
            TestConfigs.Seed("127.0.0.1", 1, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1"));
        await using var server = await Admin.AdminTestServer.StartAsync(yaml: yaml);

        using var routes = System.Text.Json.JsonDocument.Parse(await server.GetStringAsync("/config_dump?resource=static_route_configs"));

        // RouteMatch.path_match_policy is field 15, RouteAction.path_rewrite_policy 41 (after timeout, 8).
        Assert.Equal("""
            {"match":{"path_match_policy":{"name":"envoy.path.match.uri_template.uri_template_matcher","typed_config":{"@type":"type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig","path_template":"/{a}/{b}"}}},"route":{"cluster":"httpbin_service","timeout":"3s","path_rewrite_policy":{"name":"envoy.path.rewrite.uri_template.uri_template_rewriter","typed_config":{"@type":"type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig","path_template_rewrite":"/{b}/{a}"}}}}
            """, System.Text.Json.JsonSerializer.Serialize(routes.RootElement.GetProperty("configs")[0].GetProperty("route_config").GetProperty("virtual_hosts")[0].GetProperty("routes")[0]));
    }

    private static EnvoyConfigException LoadFails(string match, string action)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithRoute(match, action), "envoy.yaml"));

    public static TheoryData<string, string, string, string> BadConfigs => new()
    {
        {
            Match("/api/{version}/{version}"), "route: { cluster: httpbin_service }",
            "path_match_policy.uri_template /api/{version}/{version} is invalid: Repeated variable name: \"version\"",
            "routes[0].match.path_match_policy.typed_config.path_template"
        },
        {
            Match("/{a}/{b}/{c}/{d}/{e}/{f}"), "route: { cluster: httpbin_service }",
            "path_match_policy.uri_template /{a}/{b}/{c}/{d}/{e}/{f} is invalid: Exceeded variable count limit (5)",
            "routes[0].match.path_match_policy.typed_config.path_template"
        },
        {
            Match(""), "route: { cluster: httpbin_service }",
            "'path_template' must be 1 to 256 characters long, got 0",
            "routes[0].match.path_match_policy.typed_config.path_template"
        },
        {
            Match("/" + new string('a', 256)), "route: { cluster: httpbin_service }",
            "'path_template' must be 1 to 256 characters long, got 257",
            "routes[0].match.path_match_policy.typed_config.path_template"
        },
        {
            "{ prefix: \"/\", path_match_policy: { name: m, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig, path_template: \"/a\" } } }",
            "route: { cluster: httpbin_service }",
            "'prefix', 'path', 'safe_regex', 'connect_matcher', 'path_separated_prefix' and 'path_match_policy' are alternatives; give only one",
            "routes[0].match"
        },
        {
            "{ path_match_policy: { name: m } }", "route: { cluster: httpbin_service }",
            "'typed_config' is required (envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig)",
            "routes[0].match.path_match_policy.typed_config"
        },
        {
            Match("/{a}"), $"route: {{ cluster: httpbin_service, {Rewrite("/{a}//x")} }}",
            "path_rewrite_policy.path_template_rewrite /{a}//x is invalid: Invalid rewrite literal",
            "routes[0].route.path_rewrite_policy.typed_config.path_template_rewrite"
        },
        {
            Match("/bar/{lang}/{country}"), $"route: {{ cluster: httpbin_service, {Rewrite("/foo/{lang}/{missing}")} }}",
            "mismatch between variables in path_match_policy /bar/{lang}/{country} and path_rewrite_policy /foo/{lang}/{missing}",
            "routes[0].route.path_rewrite_policy.typed_config.path_template_rewrite"
        },
        {
            "{ prefix: \"/\" }", $"route: {{ cluster: httpbin_service, {Rewrite("/foo")} }}",
            "unable to use envoy.path.rewrite.uri_template.uri_template_rewriter extension without envoy.path.match.uri_template.uri_template_matcher extension",
            "routes[0].route.path_rewrite_policy"
        },
        {
            Match("/{a}"), $"route: {{ cluster: httpbin_service, prefix_rewrite: /x, {Rewrite("/{a}")} }}",
            "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy",
            "routes[0].route.path_rewrite_policy"
        },
        {
            Match("/{a}"), $"route: {{ cluster: httpbin_service, regex_rewrite: {{ pattern: {{ regex: a }}, substitution: b }}, {Rewrite("/{a}")} }}",
            "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy",
            "routes[0].route.path_rewrite_policy"
        },
        {
            Match("/{a}"), "route: { cluster: httpbin_service, prefix_rewrite: /x }",
            "Cannot use prefix_rewrite with matcher extension",
            "routes[0].route.prefix_rewrite"
        },
        {
            "{ path_match_policy: { name: m, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig, path_template_rewrite: \"/a\" } } }",
            "route: { cluster: httpbin_service }",
            "@type 'type.googleapis.com/envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig' is not a path matcher; the path matchers supported are: envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
            "routes[0].match.path_match_policy.typed_config.@type"
        },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Validate_BadTemplateConfig_IsRefusedWithEnvoysMessageAndPath(string match, string action, string message, string path)
    {
        var error = Assert.Single(LoadFails(match, action).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralBadTemplates_AreReportedTogether()
    {
        var errors = LoadFails(Match("/{x"), $"route: {{ cluster: httpbin_service, {Rewrite("no-slash")} }}").Errors;

        Assert.Equal(
            [
                "path_match_policy.uri_template /{x is invalid: Unmatched variable bracket in \"{x\"",
                "path_rewrite_policy.path_template_rewrite no-slash is invalid: Invalid rewrite variable placement",
            ],
            errors.Select(e => e.Message));
    }
}
