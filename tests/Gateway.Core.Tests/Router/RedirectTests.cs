using System.Net;
using System.Net.Http.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Router;

/// <summary>Route <c>redirect</c>: the location and status through a real gateway, its stats, and its config errors.</summary>
public class RedirectTests
{
    private static string Config(EchoUpstream upstream) => ListenerYaml.Build(upstream.Port, httpFilters: "", routes: """
        - match: { prefix: "/default" }
          redirect: {}
        - match: { prefix: "/https" }
          redirect: { https_redirect: true }
        - match: { prefix: "/scheme" }
          redirect: { scheme_redirect: https, port_redirect: 8443 }
        - match: { prefix: "/port" }
          redirect: { port_redirect: 9000 }
        - match: { prefix: "/host" }
          redirect: { host_redirect: new.example, response_code: FOUND }
        - match: { prefix: "/pathq" }
          redirect: { path_redirect: "/p?a=b", strip_query: true, response_code: TEMPORARY_REDIRECT }
        - match: { prefix: "/path" }
          redirect: { path_redirect: "/new/place", response_code: SEE_OTHER }
        - match: { prefix: "/nolead" }
          redirect: { path_redirect: "elsewhere" }
        - match: { prefix: "/strip" }
          redirect: { strip_query: true, response_code: PERMANENT_REDIRECT }
        - match: { prefix: "/old/", case_sensitive: false }
          redirect: { prefix_rewrite: "/new/" }
        - match: { path: "/exact" }
          redirect: { prefix_rewrite: "/replaced" }
        - match: { prefix: "/created" }
          direct_response: { status: 201 }
        - match: { prefix: "/moved" }
          direct_response: { status: 302, body: { inline_string: moved } }
        - match: { prefix: "/ok" }
          direct_response: { status: 200 }
        - match: { prefix: "/re/" }
          redirect: { regex_rewrite: { pattern: { regex: "/(v[0-9])/" }, substitution: "/api/\\1/" } }
        - match: { prefix: "/rw/" }
          route:
            cluster: echo
            regex_rewrite: { pattern: { regex: "^/rw/([^/]+)/(.*)$" }, substitution: "/\\2/\\1" }
        - match: { prefix: "/all/" }
          route:
            cluster: echo
            regex_rewrite: { pattern: { regex: "o" }, substitution: "0" }
        - match: { prefix: "/gone/" }
          route:
            cluster: echo
            regex_rewrite: { pattern: { regex: ".*" }, substitution: "" }
        - match: { prefix: "/" }
          route: { cluster: echo }
        """);

    [Theory]
    [InlineData("a.example", "/default?q=1", 301, "http://a.example/default?q=1")]
    [InlineData("a.example:80", "/https/x", 301, "https://a.example/https/x")]
    [InlineData("a.example:8080", "/https", 301, "https://a.example:8080/https")]
    [InlineData("[::1]:80", "/https", 301, "https://[::1]/https")]
    [InlineData("a.example:80", "/scheme", 301, "https://a.example:8443/scheme")]
    [InlineData("[::1]:8080", "/port?z", 301, "http://[::1]:9000/port?z")]
    [InlineData("a.example:80", "/port", 301, "http://a.example:9000/port")]
    [InlineData("a.example:8080", "/host?x=1", 302, "http://new.example/host?x=1")]
    [InlineData("a.example", "/path?x=1", 303, "http://a.example/new/place?x=1")]
    [InlineData("a.example", "/pathq?x=1", 307, "http://a.example/p?a=b")]
    [InlineData("a.example", "/nolead", 301, "http://a.example/elsewhere")]
    [InlineData("a.example", "/strip/a?x=1", 308, "http://a.example/strip/a")]
    [InlineData("a.example", "/OLD/a/b?x=1", 301, "http://a.example/new/a/b?x=1")]
    [InlineData("a.example", "/exact?k=v", 301, "http://a.example/replaced?k=v")]
    [InlineData("a.example", "/re/v1/v2/x?q=/v3/", 301, "http://a.example/re/api/v1/v2/x?q=/v3/")]
    public async Task Redirect_Request_AnswersWithEnvoysLocationAndCode(string host, string pathAndQuery, int status, string location)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(pathAndQuery));
        request.Headers.Host = host;
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var response = await client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Null(response.Content.Headers.ContentType);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.rq_direct_response", 1);
        await gateway.AssertStatAsync("http.ingress_http.rq_redirect", 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_3xx", 1);
    }

    [Theory]
    [InlineData("/created?a=1", 201, "http://a.example:8080/created?a=1", "")]
    [InlineData("/moved", 302, "http://a.example:8080/moved", "moved")]
    [InlineData("/ok", 200, null, "")]
    public async Task DirectResponse_CreatedOr3xx_HasTheRequestUrlAsLocation(string pathAndQuery, int status, string? location, string body)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(pathAndQuery));
        request.Headers.Host = "a.example:8080";
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var response = await client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Redirect_OtherRoute_StillForwards()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using var response = await client.GetAsync(gateway.ListenerUri("/elsewhere"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.rq_direct_response", 0);
    }

    [Theory]
    [InlineData("/rw/users/list?x=/rw/a/b", "/list/users?x=/rw/a/b", "/rw/users/list?x=/rw/a/b")]
    [InlineData("/all/foo/boo?o=o", "/all/f00/b00?o=o", "/all/foo/boo?o=o")]
    [InlineData("/gone/x?y", "/gone/x?y", null)]
    public async Task RegexRewrite_Request_ForwardsEveryMatchReplacedInThePathOnly(string pathAndQuery, string upstreamPath, string? originalPath)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var client = new HttpClient();

        var echoed = await client.GetFromJsonAsync<EchoedRequest>(gateway.ListenerUri(pathAndQuery));

        Assert.Equal(upstreamPath, echoed!.Path);
        Assert.Equal(originalPath, echoed.Headers.GetValueOrDefault("x-envoy-original-path"));
    }

    private static EnvoyConfigException LoadFails(string match, string action)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithRoute(match, action), "envoy.yaml"));

    [Theory]
    [InlineData("{ prefix: \"/\" }", "redirect: { https_redirect: true, scheme_redirect: http }", "'https_redirect' and 'scheme_redirect' are alternatives (a one-of); give only one", "routes[0].redirect.scheme_redirect")]
    [InlineData("{ prefix: \"/\" }", "redirect: { path_redirect: /a, prefix_rewrite: /b }", "'path_redirect', 'prefix_rewrite' and 'regex_rewrite' are alternatives (a one-of); give only one", "routes[0].redirect")]
    [InlineData("{ safe_regex: { regex: \"/a.*\" } }", "redirect: { prefix_rewrite: /b }", "Cannot use prefix_rewrite with regex", "routes[0].redirect.prefix_rewrite")]
    [InlineData("{ prefix: \"/\" }", "redirect: { port_redirect: 70000 }", "'port_redirect' must be a port (at most 65535), got 70000", "routes[0].redirect.port_redirect")]
    [InlineData("{ prefix: \"/\" }", "redirect: { host_redirect: \"a\\r\\nb\" }", "'host_redirect' may not contain NUL, CR or LF (HTTP_HEADER_VALUE)", "routes[0].redirect.host_redirect")]
    [InlineData("{ prefix: \"/\" }", "redirect: { regex_rewrite: { pattern: { regex: \"a(\" }, substitution: b } }", "missing ): a(", "routes[0].redirect.regex_rewrite.pattern.regex")]
    [InlineData("{ prefix: \"/\" }", "redirect: { regex_rewrite: { substitution: b } }", "'pattern' is required", "routes[0].redirect.regex_rewrite.pattern")]
    [InlineData("{ prefix: \"/\" }", "route: { cluster: httpbin_service, prefix_rewrite: /a, regex_rewrite: { pattern: { regex: a }, substitution: b } }", "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy", "routes[0].route.regex_rewrite")]
    [InlineData("{ prefix: \"/\" }", "route: { cluster: httpbin_service, regex_rewrite: { pattern: { regex: a }, substitution: \"b\\nc\" } }", "'substitution' may not contain NUL, CR or LF (HTTP_HEADER_VALUE)", "routes[0].route.regex_rewrite.substitution")]
    [InlineData("{ prefix: \"/\" }", "redirect: {}\n                direct_response: { status: 200 }", "'route', 'redirect' and 'direct_response' are alternatives; give only one", "routes[0]")]
    public void Validate_BadRedirect_IsRefusedWithItsPath(string match, string action, string message, string path)
    {
        var error = Assert.Single(LoadFails(match, action).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
    }
}
