using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// <c>original_ip_detection_extensions</c> (custom_header and xff) against a real echo upstream: the detected address is
/// the stream's downstream remote address (the access log shows it), may make the request internal, or the request is
/// refused as Envoy's connection manager refuses it.
/// </summary>
public sealed class OriginalIpDetectionTests : IDisposable
{
    private readonly string _log = Path.Combine(Path.GetTempPath(), "oipd-" + Guid.NewGuid().ToString("N") + ".log");

    public void Dispose() => File.Delete(_log);

    private string Yaml(EchoUpstream upstream, string extension, string extra = "")
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: $$"""
            original_ip_detection_extensions:
            {{ListenerYaml.Indent(ListenerYaml.Dedent(extension), 0)}}
            {{extra}}
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: {{_log}}
                log_format: { text_format_source: { inline_string: "%RESPONSE_CODE% %DOWNSTREAM_REMOTE_ADDRESS% %RESPONSE_CODE_DETAILS%\n" } }
            """);

    private const string CustomHeader = """
        - name: envoy.http.original_ip_detection.custom_header
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig
            header_name: x-real-ip
        """;

    [Fact]
    public async Task CustomHeader_AddressInTheHeader_IsTheDownstreamRemoteAddress()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, CustomHeader));

        using var response = await GetWithAsync(gateway, "x-real-ip", "203.0.113.7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Envoy parses the header into an address with port 0.
        Assert.Equal("200 203.0.113.7:0 via_upstream", Assert.Single(await AccessLogLines.ReadAsync(gateway, _log)));
    }

    [Fact]
    public async Task CustomHeader_NoUsableAddress_ConnectionsPeerStays()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, CustomHeader));

        using var response = await GetWithAsync(gateway, "x-real-ip", "10.1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("200 127.0.0.1:", Assert.Single(await AccessLogLines.ReadAsync(gateway, _log)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomHeader_RejectWithStatus_MissingHeaderRefusedAndCounted()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, CustomHeader + "\n    reject_with_status: { code: Forbidden }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_rejected_via_ip_detection", 1);
        Assert.EndsWith("rejecting_because_detection_failed", Assert.Single(await AccessLogLines.ReadAsync(gateway, _log)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "true")]
    [InlineData(false, null)]
    public async Task CustomHeader_TrustedAddressInInternalRanges_InternalOnlyWhenAllowed(bool allow, string? expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var extension = CustomHeader + (allow ? "\n    allow_extension_to_set_address_as_trusted: true" : "");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, extension, "internal_address_config: { cidr_ranges: [{ address_prefix: 10.0.0.0, prefix_len: 8 }] }"));

        using var response = await GetWithAsync(gateway, "x-real-ip", "10.9.8.7");
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(expected, echoed.Headers.GetValueOrDefault("x-envoy-internal"));
    }

    [Fact]
    public async Task Xff_TrustedHops_AddressBeforeThem()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, """
            - name: envoy.http.original_ip_detection.xff
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
                xff_num_trusted_hops: 1
            """));

        using var response = await GetWithAsync(gateway, "x-forwarded-for", "198.51.100.1, 10.0.0.5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("200 198.51.100.1:0 via_upstream", Assert.Single(await AccessLogLines.ReadAsync(gateway, _log)));
    }

    /// <summary>A GET of <c>/</c> carrying one header.</summary>
    private static async Task<HttpResponseMessage> GetWithAsync(InProcessGateway gateway, string name, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Add(name, value);
        return await gateway.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("use_remote_address: true", "Original IP detection extensions and use_remote_address may not be mixed")]
    [InlineData("xff_num_trusted_hops: 1", "Original IP detection extensions and xff_num_trusted_hops may not be mixed")]
    public void Load_MixedWithXffSettings_EnvoysError(string field, string message)
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: field + "\noriginal_ip_detection_extensions:\n" + ListenerYaml.Dedent(CustomHeader));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Equal(message, error.Message);
        Assert.EndsWith("typed_config.original_ip_detection_extensions", error.Location.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("header_name: \"\"", ".header_name", "CustomHeaderConfigValidationError.HeaderName: value length must be at least 1 characters")]
    [InlineData("header_name: \"a b\"", ".header_name", "CustomHeaderConfigValidationError.HeaderName: value does not match regex pattern")]
    public void Load_InvalidCustomHeaderConfig_ErrorAtTheField(string fields, string path, string message)
    {
        var extension = CustomHeader.Replace("header_name: x-real-ip", fields, StringComparison.Ordinal);
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "original_ip_detection_extensions:\n" + ListenerYaml.Dedent(extension));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("original_ip_detection_extensions[0].typed_config" + path, error.Location.Path, StringComparison.Ordinal);
    }
}
