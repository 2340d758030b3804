using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The seed lab with <c>examples/simple.yaml</c> in front of httpbin: <c>/headers</c>, <c>/status</c>, <c>/delay/3</c>.</summary>
public sealed partial class SimpleYamlTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    private const string UserAgent = "gateway-e2e/1.0";

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV4();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Integer();

    [Fact]
    public async Task GetHeaders_SimpleYaml_UpstreamSeesEnvoyRequestHeaders()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/headers?show_env=1"));
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = UpstreamHeaders(body);
        Assert.Equal("localhost", headers.GetValueOrDefault("Host"));
        Assert.Equal("15000", headers.GetValueOrDefault("X-Envoy-Expected-Rq-Timeout-Ms"));
        Assert.Matches(UuidV4(), headers.GetValueOrDefault("X-Request-Id") ?? "<no X-Request-Id>");
        Assert.Equal(UserAgent, headers.GetValueOrDefault("User-Agent"));
        Assert.False(headers.ContainsKey("X-Forwarded-For"), $"X-Forwarded-For must not be added (use_remote_address is false): {body}");
    }

    [Fact]
    public async Task GetHeaders_SimpleYaml_SetsForwardedProtoHttp()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/headers?show_env=1"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("http", UpstreamHeaders(body).GetValueOrDefault("X-Forwarded-Proto"));
    }

    [Fact]
    public async Task GetHeaders_SimpleYaml_ResponseHasServerEnvoyAndUpstreamServiceTime()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/headers"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["envoy"], HeaderValues(response, "server"));
        var serviceTime = Assert.Single(HeaderValues(response, "x-envoy-upstream-service-time"));
        Assert.Matches(Integer(), serviceTime);
    }

    [Fact]
    public async Task GetHeaders_ClientSendsRequestId_RequestIdPreserved()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/headers?show_env=1"));
        request.Headers.TryAddWithoutValidation("x-request-id", "client-chosen-id-42");
        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("client-chosen-id-42", UpstreamHeaders(body).GetValueOrDefault("X-Request-Id"));
    }

    [Fact]
    public async Task GetHeaders_ConfigYamlFlag_ProxiesLikeConfigFile()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log, inlineYaml: true);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/headers"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = UpstreamHeaders(body);
        Assert.Equal("localhost", headers.GetValueOrDefault("Host"));
        Assert.Equal("15000", headers.GetValueOrDefault("X-Envoy-Expected-Rq-Timeout-Ms"));
    }

    [Fact]
    public async Task GetStatus_Upstream200_Returns200()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["envoy"], HeaderValues(response, "server"));
    }

    [Fact]
    public async Task GetStatus_Upstream503NoRetryPolicy_Returns503Unchanged()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(["envoy"], HeaderValues(response, "server"));
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        await gateway.AssertStatsAsync(
            ("cluster.httpbin_service.upstream_rq_total", 1),
            ("cluster.httpbin_service.upstream_rq_503", 1));
    }

    [Fact]
    public async Task GetDelay_ThreeSecondsUnderDefaultTimeout_Returns200AfterDelay()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);

        var stopwatch = Stopwatch.StartNew();
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/3"));
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(3), $"answered after {stopwatch.Elapsed.TotalMilliseconds} ms, before httpbin's 3 s delay");
    }

    /// <summary>The <c>headers</c> object of an httpbin JSON body, case-insensitive.</summary>
    internal static Dictionary<string, string> UpstreamHeaders(string body)
    {
        using var json = JsonDocument.Parse(body);
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in json.RootElement.GetProperty("headers").EnumerateObject())
        {
            result[property.Name] = property.Value.GetString() ?? string.Empty;
        }
        return result;
    }

    /// <summary>Values of a response or content header, empty when absent.</summary>
    internal static string[] HeaderValues(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.ToArray()
            : [];
}
