using Gateway.Configuration;
using Gateway.Tests.Tls;
using Gateway.Translation;

namespace Gateway.Tests.Validation;

/// <summary>A cluster's <c>transport_socket</c> / <c>transport_socket_matches</c>: what loads, what is refused and Envoy's messages.</summary>
public class UpstreamTlsValidatorTests
{
    private static TestCertificates Certs => TestCertificates.Shared;

    private const string Socket = "static_resources.clusters[1].transport_socket";

    private static string Yaml(string cluster)
        => UpstreamTlsIntegrationTests.Yaml(UpstreamTlsIntegrationTests.Endpoint(1), cluster);

    private static string WithSocket(string context)
        => "transport_socket:\n" + Common.ListenerYaml.Indent(UpstreamTlsIntegrationTests.Socket(context), 2);

    private static ConfigError SingleError(string cluster)
        => Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Yaml(cluster), "envoy.yaml")).Errors);

    [Fact]
    public void Load_EveryImplementedField_Loads()
    {
        var context = UpstreamTlsIntegrationTests.Context(
            $"trusted_ca: {{ filename: {Certs.PathOf("ca.pem")} }}\nmatch_typed_subject_alt_names: [{{ san_type: DNS, matcher: {{ exact: localhost }} }}]",
            extra: "sni: a.example\nallow_renegotiation: false\nmax_session_keys: 0\nenforce_rsa_key_usage: false",
            parameters: "tls_minimum_protocol_version: TLSv1_2\ntls_maximum_protocol_version: TLSv1_3\ncipher_suites: [ECDHE-ECDSA-AES128-GCM-SHA256]");
        var cluster = WithSocket(context) + """

            upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true }
            transport_socket_matches:
            - name: plain
              match: { mode: plain }
              transport_socket:
                name: envoy.transport_sockets.raw_buffer
                typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer }
            health_checks:
            - timeout: 1s
              interval: 1s
              unhealthy_threshold: 1
              healthy_threshold: 1
              transport_socket_match_criteria: { mode: plain }
              http_health_check: { path: /healthz }
            """;

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(cluster)));

        var transport = plan.ClusterPlans[1].Transport!;
        Assert.True(transport.AutoSni);
        Assert.True(transport.AutoSanValidation);
        Assert.Equal(2, transport.Sockets.Count);
        var tls = transport.Sockets[0]!;
        Assert.Equal("a.example", tls.Sni);
        Assert.False(tls.AllowTlsResume);
        Assert.NotNull(tls.ClientCertificate);
        Assert.Null(transport.Sockets[1]);
        Assert.Equal(1, plan.ClusterPlans[1].HealthCheck!.TransportSocket);
    }

    [Fact]
    public void Load_AllowRenegotiation_Refused()
    {
        var error = SingleError(WithSocket("allow_renegotiation: true"));

        Assert.Equal(Socket + ".typed_config.allow_renegotiation", error.Location.Path);
        Assert.Contains(".NET's SslStream does not accept a server's renegotiation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DownstreamContextOnCluster_UnableToUnpack()
    {
        var cluster = """
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext }
            """;

        var error = SingleError(cluster);

        Assert.Equal(Socket + ".typed_config", error.Location.Path);
        Assert.Equal("Unable to unpack as envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext: [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext]", error.Message);
    }

    [Fact]
    public void Load_ClientCertificateFileMissing_InvalidPath()
    {
        var context = $$"""
            common_tls_context:
              tls_certificates:
              - certificate_chain: { filename: {{Certs.PathOf("missing.pem")}} }
                private_key: { filename: {{Certs.PathOf("client-key.pem")}} }
            """;

        var error = SingleError(WithSocket(context));

        Assert.Equal(Socket + ".typed_config.common_tls_context.tls_certificates[0].certificate_chain", error.Location.Path);
        Assert.Equal($"Invalid path: {Certs.PathOf("missing.pem")}", error.Message);
    }

    [Fact]
    public void Load_KeyOfAnotherCertificate_KeyValuesMismatch()
    {
        var context = $$"""
            common_tls_context:
              tls_certificates:
              - certificate_chain: { filename: {{Certs.PathOf("client.pem")}} }
                private_key: { filename: {{Certs.PathOf("server-key.pem")}} }
            """;

        var error = SingleError(WithSocket(context));

        Assert.Equal($"Failed to load private key from {Certs.PathOf("server-key.pem")}, Cause: KEY_VALUES_MISMATCH", error.Message);
    }

    [Fact]
    public void Load_TwoClientCertificates_RefusedAsEnvoyDoes()
    {
        var certificate = $"- certificate_chain: {{ filename: {Certs.PathOf("client.pem")} }}\n  private_key: {{ filename: {Certs.PathOf("client-key.pem")} }}";
        var context = "common_tls_context:\n  tls_certificates:\n" + Common.ListenerYaml.Indent(certificate + "\n" + certificate, 2);

        var error = SingleError(WithSocket(context));

        Assert.Equal("Multiple TLS certificates are not supported for client contexts", error.Message);
    }

    [Theory]
    [InlineData("common_tls_context: { validation_context_sds_secret_config: { name: a, sds_config: { path_config_source: { path: /etc/envoy/sds.yaml } } } }", ".typed_config.common_tls_context.validation_context_sds_secret_config.sds_config")]
    [InlineData("enforce_rsa_key_usage: true", ".typed_config.enforce_rsa_key_usage")]
    [InlineData("common_tls_context: { tls_params: { ecdh_curves: [X25519] } }", ".typed_config.common_tls_context.tls_params.ecdh_curves")]
    public void Load_FieldNotHonoured_RefusedByPath(string context, string path)
    {
        var error = SingleError(WithSocket(context));

        Assert.Equal(Socket + path, error.Location.Path);
    }

    [Fact]
    public void Load_SanMatchersWithoutTrustedCa_RefusedAsInsecure()
    {
        var error = SingleError(WithSocket("common_tls_context: { validation_context: { match_typed_subject_alt_names: [{ san_type: DNS, matcher: { exact: a } }] } }"));

        Assert.Equal("SAN-based verification of peer certificates without trusted CA is insecure and not allowed", error.Message);
    }

    [Fact]
    public void Load_UnknownTransportSocketName_Refused()
    {
        var error = SingleError("transport_socket: { name: envoy.transport_sockets.alts }");

        Assert.Contains("transport socket 'envoy.transport_sockets.alts' is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MatchWithoutTransportSocket_Refused()
    {
        var error = SingleError("transport_socket_matches: [{ name: a, match: { x: y } }]");

        Assert.Equal("static_resources.clusters[1].transport_socket_matches[0].transport_socket", error.Location.Path);
    }

    [Theory]
    [InlineData("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "{ upstream_http_protocol_options: { auto_sni: true } }",
        "static_resources.clusters[1].typed_extension_protocol_options.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.explicit_http_config",
        "Proto constraint validation failed (HttpProtocolOptionsValidationError.UpstreamProtocolOptions: value is required)")]
    [InlineData("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "{ explicit_http_config: { http3_protocol_options: {} } }",
        "static_resources.clusters[1].typed_extension_protocol_options.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.explicit_http_config.http3_protocol_options",
        "field 'http3_protocol_options' of envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig is not supported by this gateway yet")]
    [InlineData("envoy.filters.network.tcp_proxy", "{ explicit_http_config: { http_protocol_options: {} } }",
        "static_resources.clusters[1].typed_extension_protocol_options",
        "Didn't find a registered network or http filter or protocol options implementation for name: 'envoy.filters.network.tcp_proxy'")]
    public void Load_TypedExtensionProtocolOptions_EnvoysChecks(string key, string body, string path, string message)
    {
        var cluster = $"typed_extension_protocol_options:\n  {key}: {{ \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, {body[2..]}";

        var error = SingleError(cluster);

        Assert.Equal(path, error.Location.Path);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Resolve_EndpointThenLocalityThenDefault_FirstMatchInOrder()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(Yaml("""
            transport_socket_matches:
            - { name: a, match: { mode: a, extra: 1 }, transport_socket: { name: envoy.transport_sockets.raw_buffer } }
            - { name: b, match: { mode: a }, transport_socket: { name: envoy.transport_sockets.raw_buffer } }
            - { name: c, match: { zone: z }, transport_socket: { name: envoy.transport_sockets.raw_buffer } }
            """));
        var matches = bootstrap.StaticResources!.Clusters[1].TransportSocketMatches;
        static EnvoyMetadata Metadata(string json)
            => EnvoyMetadata.Create([new(UpstreamTransportPlan.MatchNamespace, System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject())]);

        // Every key of a match must be present and equal (numbers compare as values): the first such match wins.
        Assert.Equal(1, UpstreamTransportPlan.Resolve(matches, Metadata("""{ "mode": "a", "extra": 1.0 }"""), null));
        Assert.Equal(2, UpstreamTransportPlan.Resolve(matches, Metadata("""{ "mode": "a" }"""), null));
        // The endpoint's metadata is tried against every match before the locality's.
        Assert.Equal(2, UpstreamTransportPlan.Resolve(matches, Metadata("""{ "mode": "a" }"""), Metadata("""{ "zone": "z" }""")));
        Assert.Equal(3, UpstreamTransportPlan.Resolve(matches, Metadata("""{ "mode": "b" }"""), Metadata("""{ "zone": "z" }""")));
        Assert.Equal(0, UpstreamTransportPlan.Resolve(matches, Metadata("""{ "mode": "b" }"""), null));
        Assert.Equal(0, UpstreamTransportPlan.Resolve(matches, null, null));
    }
}
