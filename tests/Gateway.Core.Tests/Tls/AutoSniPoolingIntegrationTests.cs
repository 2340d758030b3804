using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using static Gateway.Tests.Tls.UpstreamTlsIntegrationTests;

namespace Gateway.Tests.Tls;

/// <summary>
/// <c>auto_sni</c> / <c>auto_san_validation</c> connections pooled per request host (Clusters/HostConnectionPools), as
/// Envoy keys its pools by the transport socket options: against a Kestrel TLS upstream whose certificate names
/// localhost and 127.0.0.1, recording each handshake's SNI and each request's connection.
/// </summary>
public sealed class AutoSniPoolingIntegrationTests : IDisposable
{
    private const string Ssl = "cluster.backend.ssl.";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gateway-auto-sni-" + Guid.NewGuid().ToString("N"));

    public AutoSniPoolingIntegrationTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Options(bool autoSanValidation)
        => $"upstream_http_protocol_options: {{ auto_sni: true, auto_san_validation: {(autoSanValidation ? "true" : "false")} }}";

    private static async Task<(HttpStatusCode Status, string Body, string? Connection)> SendAsync(InProcessGateway gateway, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/pooled"));
        request.Headers.Host = host;
        using var response = await gateway.Client.SendAsync(request);
        var connection = response.Headers.TryGetValues("x-connection-id", out var values) ? values.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), connection);
    }

    [Fact]
    public async Task Cluster_AutoSniAlternatingHosts_OneConnectionPerHostWithItsOwnSni()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(), clientCertificate: false), Options(autoSanValidation: false))));
        var connections = new Dictionary<string, HashSet<string>> { ["a.example"] = [], ["b.example"] = [] };

        for (var i = 0; i < 6; i++)
        {
            var host = i % 2 == 0 ? "a.example" : "b.example";
            var (status, body, connection) = await SendAsync(gateway, i < 2 ? host : host + ":443");

            Assert.Equal(HttpStatusCode.OK, status);
            // The connection that carried the request was opened with this request's host as its SNI.
            Assert.Equal("client=none;sni=" + host, body);
            connections[host].Add(Assert.IsType<string>(connection));
        }

        Assert.Equal(new[] { "a.example", "b.example" }, upstream.ServerNames.Order(StringComparer.Ordinal));
        var a = Assert.Single(connections["a.example"]);
        var b = Assert.Single(connections["b.example"]);
        Assert.NotEqual(a, b);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_total", 2);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_active", 2);
        await gateway.AssertStatAsync(Ssl + "handshake", 2);
    }

    [Fact]
    public async Task Cluster_AutoSanValidationHostNotInCertificate_503UfWhileTheOtherHostKeepsWorking()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        var log = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(), clientCertificate: false), Options(autoSanValidation: true)), log));

        var first = await SendAsync(gateway, "localhost");
        // Before pooling per host, this request rode localhost's verified connection and was answered.
        var refused = await SendAsync(gateway, "elsewhere.example");
        var again = await SendAsync(gateway, "localhost");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(first.Connection, again.Connection);
        var lines = await AccessLogLines.ReadAsync(gateway, log, expected: 3);
        Assert.StartsWith("503 UF upstream_reset_before_response_started{connection_failure|", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("200 - ", lines[2], StringComparison.Ordinal);
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
        await gateway.AssertStatAsync(Ssl + "handshake", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 1);
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public async Task Cluster_AutoSniIpLiteralHost_ConfiguredSniSentAndIpSanVerified()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        // Envoy's router sets no SNI for an IP host (the configured sni stays); auto_san_validation checks the IP against IP SANs.
        var cluster = TlsCluster(Context(TrustedCa(), clientCertificate: false, extra: "sni: backend.example"), Options(autoSanValidation: true));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), cluster));

        var (status, body, _) = await SendAsync(gateway, $"127.0.0.1:{upstream.Port}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("client=none;sni=backend.example", body);
        Assert.Equal("backend.example", Assert.Single(upstream.ServerNames));
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 0);
    }

    [Fact]
    public async Task Cluster_AutoSanValidationIpHostNotInCertificate_FailsVerifySan()
    {
        await using var upstream = await TlsUpstream.StartAsync(requireClientCertificate: false);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(Endpoint(upstream.Port), TlsCluster(Context(TrustedCa(), clientCertificate: false), Options(autoSanValidation: true))));

        var (status, _, _) = await SendAsync(gateway, "10.1.2.3");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        // No SNI for an IP host (none configured either).
        Assert.Equal(string.Empty, Assert.Single(upstream.ServerNames));
        await gateway.AssertStatAsync(Ssl + "fail_verify_san", 1);
    }
}
