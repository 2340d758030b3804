using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tls;

/// <summary>
/// <c>disable_stateless_session_resumption</c> / <c>disable_stateful_session_resumption</c> (SslStream's AllowTlsResume),
/// and the session, OCSP and cipher-preference fields SslStream cannot honour, refused with why.
/// </summary>
public class SessionResumptionIntegrationTests
{
    [Fact]
    public async Task Listener_BothResumptionKindsDisabled_ServesWithoutResumption()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var extra = "disable_stateless_session_resumption: true\ndisable_stateful_session_resumption: true";
        await using var gateway = await InProcessGateway.StartAsync(DownstreamTlsIntegrationTests.Yaml(upstream.Port, DownstreamTlsIntegrationTests.Context(extra: extra)));
        using var client = DownstreamTlsIntegrationTests.TlsClient();

        using var response = await client.GetAsync(DownstreamTlsIntegrationTests.HttpsUri(gateway));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("listener.127.0.0.1_0.ssl.session_reused", 0);
    }

    [Theory]
    [InlineData("session_ticket_keys: { keys: [ { inline_string: x } ] }", "session_ticket_keys cannot be honoured: .NET's SslStream makes its own session ticket keys and cannot be given them")]
    [InlineData("session_timeout: 300s", "session_timeout cannot be honoured: .NET's SslStream does not let the TLS session lifetime be set")]
    [InlineData("disable_stateless_session_resumption: true", ".NET's SslStream allows or disallows TLS resumption as a whole: set both disable_stateless_session_resumption and disable_stateful_session_resumption, or neither")]
    [InlineData("ocsp_staple_policy: MUST_STAPLE", "ocsp_staple_policy STRICT_STAPLING and MUST_STAPLE cannot be honoured: OCSP staples (TlsCertificate.ocsp_staple) are not supported")]
    [InlineData("prefer_client_ciphers: true", "prefer_client_ciphers cannot be honoured: .NET's SslStream does not let the server follow the client's cipher order")]
    public void Load_FieldSslStreamCannotHonour_RefusedWithWhy(string field, string message)
    {
        var yaml = DownstreamTlsIntegrationTests.Yaml(1, DownstreamTlsIntegrationTests.Context(extra: field));

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        Assert.Contains(errors, e => e.Message == message);
    }

    [Fact]
    public void Load_DefaultValues_Accepted()
    {
        var yaml = DownstreamTlsIntegrationTests.Yaml(1, DownstreamTlsIntegrationTests.Context(
            extra: "ocsp_staple_policy: LENIENT_STAPLING\nprefer_client_ciphers: false\ndisable_stateless_session_resumption: false"));

        EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml");
    }
}
