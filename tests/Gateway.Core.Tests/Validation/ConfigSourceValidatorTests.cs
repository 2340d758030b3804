using Gateway.Configuration;

namespace Gateway.Tests.Validation;

/// <summary>gRPC config sources (<c>ads_config</c>, <c>api_config_source</c>, <c>ads: {}</c>): what loads, Envoy's errors, and what this gateway refuses by path.</summary>
public sealed class ConfigSourceValidatorTests
{
    private const string XdsCluster = """
        static_resources:
          clusters:
          - name: xds_cluster
            type: STATIC
            connect_timeout: 1s
            load_assignment: { cluster_name: xds_cluster, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 18000 } } } } ] } ] }
        """;

    private static string Yaml(string dynamicResources, string clusters = XdsCluster) => "dynamic_resources:\n" + Common.ListenerYaml.Indent(dynamicResources, 2) + "\n" + clusters;

    private static IReadOnlyList<ConfigError> Errors(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

    [Theory]
    [InlineData("ads_config: { api_type: GRPC, transport_api_version: V3, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }\ncds_config: { resource_api_version: V3, ads: {} }\nlds_config: { ads: {}, initial_fetch_timeout: 0s }")]
    [InlineData("ads_config: { api_type: AGGREGATED_GRPC, transport_api_version: V3, set_node_on_first_message_only: true, rate_limit_settings: { max_tokens: 5, fill_rate: 2 }, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }\ncds_config: { ads: {} }")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, transport_api_version: V3, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }")]
    [InlineData("ads_config: { api_type: DELTA_GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }\ncds_config: { ads: {} }")]
    [InlineData("ads_config: { api_type: AGGREGATED_DELTA_GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }\nlds_config: { ads: {} }")]
    [InlineData("cds_config: { api_config_source: { api_type: DELTA_GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }")]
    [InlineData("lds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { google_grpc: { target_uri: \"127.0.0.1:18000\", stat_prefix: xds } } ] } }")]
    public void Load_GrpcSources_Load(string dynamicResources)
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(Yaml(dynamicResources), "envoy.yaml");

        Assert.NotNull(bootstrap.DynamicResources);
    }

    [Theory]
    [InlineData("cds_config: { ads: {} }", "dynamic_resources.cds_config.ads", "cds_config uses ADS ('ads: {}'), but the bootstrap has no dynamic_resources.ads_config")]
    [InlineData("cds_config: { api_config_source: { api_type: AGGREGATED_DELTA_GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }", "dynamic_resources.cds_config.api_config_source.api_type",
        "cds_config: AGGREGATED_DELTA_GRPC is the ADS stream's type: set it in dynamic_resources.ads_config and use 'ads: {}' here")]
    [InlineData("cds_config: { api_config_source: { api_type: AGGREGATED_GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }", "dynamic_resources.cds_config.api_config_source.api_type",
        "cds_config: AGGREGATED_GRPC is the ADS stream's type: set it in dynamic_resources.ads_config and use 'ads: {}' here")]
    [InlineData("cds_config: { api_config_source: { api_type: REST, cluster_names: [xds_cluster] } }", "dynamic_resources.cds_config.api_config_source.api_type", "cds_config: REST polling is not supported by this gateway (use GRPC or DELTA_GRPC)")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC } }", "dynamic_resources.cds_config.api_config_source.grpc_services", "cds_config::GRPC must have a single gRPC service specified")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, cluster_names: [a], grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }", "dynamic_resources.cds_config.api_config_source.cluster_names", "cds_config::GRPC must not have a cluster name specified: a")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: nowhere } } ] } }", "dynamic_resources.cds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name",
        "cds_config must have a statically defined non-EDS cluster: 'nowhere' does not exist, was added via api, or is an EDS cluster")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { google_grpc: { target_uri: \"xds.example\", stat_prefix: x } } ] } }", "dynamic_resources.cds_config.api_config_source.grpc_services[0].google_grpc.target_uri",
        "'xds.example' is not a host:port target (or an http:// address) this gateway can reach")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { google_grpc: { target_uri: \"127.0.0.1:1\" } } ] } }", "dynamic_resources.cds_config.api_config_source.grpc_services[0].google_grpc.stat_prefix",
        "Proto constraint validation failed (GoogleGrpcValidationError.StatPrefix: value length must be at least 1 characters)")]
    [InlineData("cds_config: { ads: {}, initial_fetch_timeout: -1s }", "dynamic_resources.cds_config.initial_fetch_timeout",
        "Proto constraint validation failed (ConfigSourceValidationError.InitialFetchTimeout: value must be greater than or equal to 0s)")]
    [InlineData("ads_config: { api_type: GRPC, rate_limit_settings: { fill_rate: 0 }, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }", "dynamic_resources.ads_config.rate_limit_settings.fill_rate",
        "Proto constraint validation failed (RateLimitSettingsValidationError.FillRate: value must be greater than 0)")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster }, initial_metadata: [ { key: \"a b\", value: x } ] } ] } }",
        "dynamic_resources.cds_config.api_config_source.grpc_services[0].initial_metadata[0].key", "'a b' is not a valid header name")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster }, initial_metadata: [ { key: token-bin, value: x } ] } ] } }",
        "dynamic_resources.cds_config.api_config_source.grpc_services[0].initial_metadata[0].key", "'token-bin': binary metadata is not supported by this gateway's xDS client")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, transport_api_version: V2, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }",
        "dynamic_resources.cds_config.api_config_source.transport_api_version", "V2 (and AUTO) xDS transport protocol versions are deprecated in cds_config.")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster }, timeout: -1s } ] } }",
        "dynamic_resources.cds_config.api_config_source.grpc_services[0].timeout", "'timeout' must not be negative")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: \"\" } } ] } }",
        "dynamic_resources.cds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name", "Proto constraint validation failed (EnvoyGrpcValidationError.ClusterName: value length must be at least 1 characters)")]
    [InlineData("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster }, google_grpc: { target_uri: \"127.0.0.1:1\", stat_prefix: x } } ] } }",
        "dynamic_resources.cds_config.api_config_source.grpc_services[0]", "a gRPC service takes only one of envoy_grpc and google_grpc (the target_specifier one-of)")]
    public void Load_BadGrpcSource_FailsByPath(string dynamicResources, string path, string message)
    {
        var error = Assert.Single(Errors(Yaml(dynamicResources)));

        Assert.Equal(path, error.Location.Path);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Load_AdsAndApiConfigSourceBoth_IsRefusedByPath()
    {
        var errors = Errors(Yaml("ads_config: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] }\n"
            + "cds_config: { ads: {}, api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }"));

        var error = Assert.Single(errors);
        Assert.Equal("dynamic_resources.cds_config", error.Location.Path);
        Assert.Equal("cds_config takes only one of path, path_config_source, api_config_source and ads (the config_source_specifier one-of)", error.Message);
    }

    [Fact]
    public void Load_XdsClusterWithTls_Loads()
    {
        var clusters = XdsCluster + """

                transport_socket: { name: envoy.transport_sockets.tls, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: xds.internal } }
            """;

        var bootstrap = EnvoyConfigLoader.LoadYaml(Yaml("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }", clusters), "envoy.yaml");

        Assert.NotNull(bootstrap.DynamicResources?.CdsConfig?.ApiConfigSource);
    }

    [Fact]
    public void Load_XdsClusterTlsFromSds_IsRefusedByPath()
    {
        var clusters = XdsCluster + """

                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    common_tls_context: { tls_certificate_sds_secret_configs: [ { name: client, sds_config: { path_config_source: { path: /etc/hosts } } } ] }
            """;

        var errors = Errors(Yaml("cds_config: { api_config_source: { api_type: GRPC, grpc_services: [ { envoy_grpc: { cluster_name: xds_cluster } } ] } }", clusters));

        var error = Assert.Single(errors, e => e.Location.Path == "dynamic_resources.cds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name");
        Assert.Contains("takes secrets from SDS", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:18000", "http://127.0.0.1:18000/")]
    [InlineData("dns:///xds.internal:15010", "http://xds.internal:15010/")]
    [InlineData("http://[::1]:9000", "http://[::1]:9000/")]
    [InlineData("xds.internal", null)]
    [InlineData("xds.internal:0", null)]
    [InlineData("https://xds.internal:443", null)]
    [InlineData("user@xds.internal:80", null)]
    [InlineData("http://xds.internal:80/path", null)]
    public void TryParse_Targets_GiveTheAddressOrNone(string target, string? expected)
    {
        var parsed = GrpcTarget.TryParse(target, out var address);

        Assert.Equal(expected is not null, parsed);
        Assert.Equal(expected, address?.ToString());
    }
}
