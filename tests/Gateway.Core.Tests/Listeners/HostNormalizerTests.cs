using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Listeners;

/// <summary><c>strip_trailing_host_dot</c>, <c>strip_matching_host_port</c> and <c>strip_any_host_port</c> (Envoy's maybeNormalizeHost).</summary>
public class HostNormalizerTests
{
    // mode: 0 none, 1 the listener's port, 2 any port.
    [Theory]
    [InlineData("example.com:10000", false, 1, "example.com")]
    [InlineData("example.com:8080", false, 1, "example.com:8080")]
    [InlineData("example.com:8080", false, 2, "example.com")]
    [InlineData("example.com:", false, 2, "example.com:")]
    [InlineData("example.com:x1", false, 2, "example.com:x1")]
    [InlineData("[::1]:10000", false, 1, "[::1]")]
    [InlineData("[::1]", false, 2, "[::1]")]
    [InlineData("example.com.", true, 0, "example.com")]
    [InlineData("example.com.:10000", true, 0, "example.com:10000")]
    [InlineData("example.com.:10000", true, 1, "example.com")]
    [InlineData("example.com", true, 2, "example.com")]
    public void Normalize_Host_AsEnvoy(string host, bool stripDot, int mode, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Host = host;

        HostNormalizer.Normalize(context.Request, stripDot, (StripPortMode)mode, listenerPort: 10000);

        Assert.Equal(expected, context.Request.Headers.Host.ToString());
    }

    [Fact]
    public async Task StripAnyHostPort_HostWithPort_RoutesAsWithout()
    {
        var yaml = FilterChainIntegrationTests.Yaml(FilterChainIntegrationTests.Chain("chain").Replace("domains: [\"*\"]", "domains: [\"example.com\"]", StringComparison.Ordinal)
            .Replace("codec_type: AUTO", "codec_type: AUTO\n          strip_any_host_port: true", StringComparison.Ordinal));
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Host = "example.com:8080";
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chain", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Load_BothStripModes_EnvoysError()
    {
        var yaml = FilterChainIntegrationTests.Yaml(FilterChainIntegrationTests.Chain("chain")
            .Replace("codec_type: AUTO", "codec_type: AUTO\n          strip_any_host_port: true\n          strip_matching_host_port: true", StringComparison.Ordinal));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Equal("Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.", error.Message);
    }
}
