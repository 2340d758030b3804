using System.Net.Http.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Router;

/// <summary>Route <c>host_rewrite_header</c>, <c>host_rewrite_path_regex</c> and <c>append_x_forwarded_host</c> through a real gateway and upstream.</summary>
public class HostRewriteTests
{
    private static string Config(EchoUpstream upstream) => ListenerYaml.Build(upstream.Port, httpFilters: "", routes: """
        - match: { prefix: "/header" }
          route: { cluster: echo, host_rewrite_header: x-target-host, append_x_forwarded_host: true }
        - match: { prefix: "/hp/" }
          route:
            cluster: echo
            host_rewrite_path_regex: { pattern: { regex: "^/hp/([^/]+)/.*$" }, substitution: "\\1.internal" }
        - match: { prefix: "/literal" }
          route: { cluster: echo, host_rewrite_literal: upstream.example, append_x_forwarded_host: true }
        - match: { prefix: "/plain" }
          route: { cluster: echo, host_rewrite_literal: upstream.example }
        """);

    [Theory]
    [InlineData("/header", "x-target-host", "from.header", null, "from.header", "a.example")]
    [InlineData("/header", null, null, null, "a.example", null)]
    [InlineData("/header", "x-target-host", "", null, "a.example", null)]
    [InlineData("/hp/svc/x?q=/hp/no/", null, null, null, "svc.internal", null)]
    [InlineData("/literal", null, null, null, "upstream.example", "a.example")]
    [InlineData("/literal", null, null, "z.example", "upstream.example", "z.example,a.example")]
    [InlineData("/literal", null, null, "z.example,a.example", "upstream.example", "z.example,a.example")]
    [InlineData("/plain", null, null, "z.example", "upstream.example", "z.example")]
    public async Task HostRewrite_Request_SetsEnvoysHostAndForwardedHost(string path, string? header, string? value, string? forwardedHost, string host, string? upstreamForwardedHost)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        request.Headers.Host = "a.example";
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
        if (forwardedHost is not null)
        {
            request.Headers.TryAddWithoutValidation("x-forwarded-host", forwardedHost);
        }
        using var client = new HttpClient();

        using var response = await client.SendAsync(request);
        var echoed = await response.Content.ReadFromJsonAsync<EchoedRequest>();

        Assert.Equal(host, echoed!.Headers["host"]);
        Assert.Equal(upstreamForwardedHost, echoed.Headers.GetValueOrDefault("x-forwarded-host"));
    }

    [Theory]
    [InlineData("host_rewrite_literal: a; host_rewrite_header: b", "'host_rewrite_literal', 'auto_host_rewrite', 'host_rewrite_header' and 'host_rewrite_path_regex' are alternatives (a one-of); give only one", "routes[0].route")]
    [InlineData("host_rewrite_path_regex: { pattern: { regex: \"(\" }, substitution: b }", "missing ): (", "routes[0].route.host_rewrite_path_regex.pattern.regex")]
    [InlineData("host_rewrite_header: \"\"", "'host_rewrite_header' must be a header name (HTTP_HEADER_NAME)", "routes[0].route.host_rewrite_header")]
    public void Validate_BadHostRewrite_IsRefusedWithItsPath(string fields, string message, string path)
    {
        var yaml = TestConfigs.Seed().Replace("                  auto_host_rewrite: true\n", "                  " + fields.Replace("; ", "\n                  ", StringComparison.Ordinal) + "\n", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
    }
}
