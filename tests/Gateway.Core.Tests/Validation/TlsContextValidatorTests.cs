using Gateway.Configuration;
using Gateway.Tests.Tls;

namespace Gateway.Tests.Validation;

/// <summary>A filter chain's DownstreamTlsContext: certificates read when the configuration is applied, Envoy's messages, refusals by path.</summary>
public class TlsContextValidatorTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private const string Context = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context";

    private static string Certificate(string chain = "server.pem", string key = "server-key.pem") => $"""
        tls_certificates:
        - certificate_chain: {"{"} filename: {Certs.PathOf(chain)} {"}"}
          private_key: {"{"} filename: {Certs.PathOf(key)} {"}"}
        """;

    private static string Tls(string common, string extra = "")
        => "common_tls_context:\n" + Common.ListenerYaml.Indent(Common.ListenerYaml.Dedent(common), 2) + (extra.Length == 0 ? "" : "\n" + extra);

    private static ConfigError SingleError(string tls)
    {
        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(DownstreamTlsIntegrationTests.Yaml(1, tls), "envoy.yaml"));
        return Assert.Single(error.Errors);
    }

    [Fact]
    public void Load_ValidContext_LoadsWithEveryImplementedField()
    {
        var tls = Tls(Certificate() + $$"""

            alpn_protocols: [h2, http/1.1]
            tls_params:
              tls_minimum_protocol_version: TLSv1_2
              tls_maximum_protocol_version: TLSv1_3
              cipher_suites: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384]
            validation_context:
              trusted_ca: { filename: {{Certs.PathOf("ca.pem")}} }
              allow_expired_certificate: true
              trust_chain_verification: ACCEPT_UNTRUSTED
              match_typed_subject_alt_names:
              - san_type: URI
                matcher: { prefix: "spiffe://cluster.local/" }
              - san_type: DNS
                matcher: { exact: a.example.com }
              - san_type: EMAIL
                matcher: { suffix: "@example.com" }
              - san_type: IP_ADDRESS
                matcher: { exact: 127.0.0.1 }
            """, "require_client_certificate: true");

        var bootstrap = EnvoyConfigLoader.LoadYaml(DownstreamTlsIntegrationTests.Yaml(1, tls), "envoy.yaml");

        var context = Assert.IsType<DownstreamTlsContext>(bootstrap.StaticResources!.Listeners[0].FilterChains[0].TransportSocket!.TypedConfig);
        Assert.True(context.RequireClientCertificate);
        Assert.Equal(4, context.CommonTlsContext!.ValidationContext!.MatchTypedSubjectAltNames.Count);
    }

    [Fact]
    public void Load_MissingCertificateFile_InvalidPathNamed()
    {
        var error = SingleError(Tls(Certificate(chain: "missing.pem")));

        Assert.Equal(Context + ".tls_certificates[0].certificate_chain", error.Location.Path);
        Assert.Contains($"Invalid path: {Certs.PathOf("missing.pem")}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CertificateThatDoesNotParse_FailedToLoadCertificateChain()
    {
        var error = SingleError(Tls(Certificate(chain: "server-key.pem")));

        Assert.Contains($"Failed to load certificate chain from {Certs.PathOf("server-key.pem")}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_KeyOfAnotherCertificate_KeyValuesMismatch()
    {
        var error = SingleError(Tls(Certificate(key: "client-key.pem")));

        Assert.Equal(Context + ".tls_certificates[0].private_key", error.Location.Path);
        Assert.Equal($"Failed to load private key from {Certs.PathOf("client-key.pem")}, Cause: KEY_VALUES_MISMATCH", error.Message);
    }

    [Fact]
    public void Load_NoCertificate_NoTlsCertificatesFoundForServerContext()
        => Assert.Contains("No TLS certificates found for server context", SingleError(Tls("alpn_protocols: [h2]")).Message, StringComparison.Ordinal);

    [Fact]
    public void Load_MinimumAboveMaximum_Refused()
    {
        var error = SingleError(Tls(Certificate() + "\ntls_params: { tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_2 }"));

        Assert.Equal(Context + ".tls_params.tls_minimum_protocol_version", error.Location.Path);
        Assert.Contains("TLSv1_3 is greater than tls_maximum_protocol_version TLSv1_2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RequireClientCertificateWithoutTrustedCa_Refused()
        => Assert.Contains("require_client_certificate needs common_tls_context.validation_context.trusted_ca",
            SingleError(Tls(Certificate(), "require_client_certificate: true")).Message, StringComparison.Ordinal);

    [Fact]
    public void Load_SanMatcherWithoutTrustedCa_InsecureAndNotAllowed()
        => Assert.Contains("SAN-based verification of peer certificates without trusted CA is insecure and not allowed",
            SingleError(Tls(Certificate() + "\nvalidation_context: { match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: a } }] }")).Message, StringComparison.Ordinal);

    [Fact]
    public void Load_UnknownTrustedCaContent_FailedToLoadTrustedCa()
        => Assert.Contains($"Failed to load trusted CA certificates from {Certs.PathOf("server-key.pem")}",
            SingleError(Tls(Certificate() + $"\nvalidation_context: {{ trusted_ca: {{ filename: {Certs.PathOf("server-key.pem")} }} }}")).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256, NOT-A-CIPHER]", "The following ciphers were rejected when tried individually: NOT-A-CIPHER")]
    [InlineData("cipher_suites: [\"[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]\"]", "equal-preference groups")]
    [InlineData("ecdh_curves: [X25519]", "ecdh_curves cannot be honoured")]
    public void Load_TlsParamsNetCannotHonour_RefusedNotIgnored(string parameter, string message)
        => Assert.Contains(message, SingleError(Tls(Certificate() + "\ntls_params: { " + parameter + " }")).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("name: envoy.transport_sockets.tls", "needs a typed_config")]
    [InlineData("name: envoy.transport_sockets.raw_buffer", "transport socket 'envoy.transport_sockets.raw_buffer' is not supported")]
    [InlineData("typed_config: { \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext }", "TransportSocketValidationError.Name: value length must be at least 1 characters")]
    public void Load_TransportSocketWithoutTlsContext_Refused(string socket, string message)
    {
        var yaml = Common.ListenerYaml.Build(1, string.Empty).Replace("    - filters:\n", "    - transport_socket: { " + socket + " }\n      filters:\n", StringComparison.Ordinal);
        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

        Assert.Contains(error.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("session_ticket_keys_sds_secret_config: { name: a }", "transport_socket.typed_config.session_ticket_keys_sds_secret_config")]
    [InlineData("common_tls_context: { tls_certificate_sds_secret_configs: [{ name: a, sds_config: { ads: {} } }] }", "transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.ads")]
    [InlineData("common_tls_context: { validation_context_sds_secret_config: { name: a, sds_config: { ads: {} } } }", "transport_socket.typed_config.common_tls_context.validation_context_sds_secret_config.sds_config.ads")]
    public void Load_NotImplementedField_RefusedByPath(string field, string path)
    {
        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(DownstreamTlsIntegrationTests.Yaml(1, field), "envoy.yaml"));

        Assert.Contains(error.Errors, e => e.Location.Path.EndsWith(path, StringComparison.Ordinal) && e.Message.Contains("not supported", StringComparison.Ordinal));
    }
}
