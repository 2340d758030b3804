using System.Net;
using Gateway.Tests.CommandLine;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The sample custom filter (<c>samples/ApiKeyFilter</c>, <c>acme.filters.http.api_key</c>) end to end: the sample's
/// own gateway executable (<c>samples/ApiKeyGateway</c>) as a process, on the sample's <c>envoy.yaml</c> moved to free
/// ports, in front of python httpbin.
/// </summary>
public sealed class ApiKeySampleTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    private static string SampleYaml => File.ReadAllText(Path.Combine(TestPaths.ApiKeySampleDirectory, "envoy.yaml")).ReplaceLineEndings("\n");

    private static string Render(int upstreamPort, int listenerPort, int adminPort)
    {
        var yaml = SeedConfig.ReplaceOnce(SampleYaml, "port_value: 9901 }", $"port_value: {adminPort} }}");
        yaml = SeedConfig.ReplaceOnce(yaml, "port_value: 10000 }", $"port_value: {listenerPort} }}");
        return SeedConfig.ReplaceOnce(yaml, "port_value: 8000 }", $"port_value: {upstreamPort} }}");
    }

    private static async Task<HttpResponseMessage> GetAsync(GatewayProcess gateway, string path, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Request_SampleGateway_ChecksKeysPerRouteAndCountsStats()
    {
        var ports = FreePort.Next(2);
        await using var gateway = await GatewayProcess.StartAsync(Render(httpbin.Port, ports[0], ports[1]), ports[0], ports[1], log, gatewayDll: TestPaths.SampleGatewayDll);

        using (var missing = await GetAsync(gateway, "/get"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("API key missing", await missing.Content.ReadAsStringAsync());
            Assert.Equal("ApiKey header=\"x-api-key\"", Assert.Single(missing.Headers.GetValues("www-authenticate")));
            Assert.Equal("envoy", Assert.Single(missing.Headers.GetValues("server")));
        }
        using (var invalid = await GetAsync(gateway, "/get", "not-a-key"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
            Assert.Equal("API key invalid", await invalid.Content.ReadAsStringAsync());
        }
        using (var allowed = await GetAsync(gateway, "/get", "demo-key-2"))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Contains("\"url\"", await allowed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Per route: no key on /healthz; /admin/ wants the ops key, not the listener's.
        using (var health = await GetAsync(gateway, "/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("ok\n", await health.Content.ReadAsStringAsync());
        }
        using (var wrongSet = await GetAsync(gateway, "/admin/get", "demo-key-1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongSet.StatusCode);
        }
        using (var ops = await GetAsync(gateway, "/admin/get", "ops-key"))
        {
            Assert.Equal(HttpStatusCode.OK, ops.StatusCode);
        }

        await gateway.AssertStatsAsync(
            ("http.ingress_http.api_key.allowed", 2),
            ("http.ingress_http.api_key.denied", 3),
            ("http.ingress_http.downstream_rq_total", 6),
            ("http.ingress_http.downstream_rq_4xx", 3),
            ("cluster.httpbin.upstream_rq_200", 2));
        Assert.Equal(2, httpbin.RequestsLogged("GET /get"));
    }

    [Fact]
    public async Task ValidateMode_SampleConfig_PrintsOk()
    {
        var file = Path.Combine(TestPaths.ApiKeySampleDirectory, "envoy.yaml");

        var result = await GatewayCli.RunDllInAsync(TestPaths.SampleGatewayDll, TestPaths.RepositoryRoot, "--mode", "validate", "-c", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"configuration '{file}' OK\n", result.Stdout);
    }

    [Theory]
    [InlineData("              allowed_keys: [demo-key-1, demo-key-2]\n", "              alowed_keys: [demo-key-1, demo-key-2]\n", "alowed_keys",
        "http_filters[0].typed_config.alowed_keys: unknown field 'alowed_keys' in acme.filters.http.api_key.v1.ApiKey (did you mean 'allowed_keys'?)")]
    [InlineData("              header_name: x-api-key\n", "              header_name: X Api Key\n", "X Api Key",
        "http_filters[0].typed_config.header_name: 'X Api Key' is not a valid HTTP header name (lower-case token characters)")]
    [InlineData("                    allowed_keys: [ops-key]\n", "                    allowed_keys: [ops-key]\n                    disabled: true\n", "allowed_keys: [ops-key]",
        "routes[1].typed_per_filter_config.acme.filters.http.api_key.allowed_keys: set either 'disabled' or 'allowed_keys', not both")]
    public async Task ValidateMode_MistakeInTheFilterConfig_ReportsFileLineColumn(string original, string replacement, string marker, string expected)
    {
        var yaml = SeedConfig.ReplaceOnce(SampleYaml, original, replacement);
        var lines = yaml.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains(marker, StringComparison.Ordinal) && !l.TrimStart().StartsWith('#')) + 1;
        // The error is at the field's key, on the marker's line.
        var field = lines[line - 1].TrimStart().Split(':')[0];
        var column = lines[line - 1].IndexOf(field, StringComparison.Ordinal) + 1;
        var file = Path.Combine(Path.GetTempPath(), $"apikey-sample-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            var result = await GatewayCli.RunDllInAsync(TestPaths.SampleGatewayDll, TestPaths.RepositoryRoot, "--mode", "validate", "-c", file);

            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains($"error initializing configuration '{file}': {file}:{line}:{column}: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(expected + "\n", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(" at ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ValidateMode_StockGateway_DoesNotKnowTheSampleFilter()
    {
        var file = Path.Combine(TestPaths.ApiKeySampleDirectory, "envoy.yaml");

        var result = await GatewayCli.RunAsync("--mode", "validate", "-c", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("type.googleapis.com/acme.filters.http.api_key.v1.ApiKey", result.Stderr, StringComparison.Ordinal);
    }
}
