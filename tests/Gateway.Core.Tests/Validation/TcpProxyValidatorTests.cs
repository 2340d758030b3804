using Gateway.Configuration;
using Gateway.Tests.TcpProxy;
using Gateway.Translation;

namespace Gateway.Tests.Validation;

/// <summary>The tcp_proxy network filter's configuration: what loads, what Envoy refuses, what this gateway refuses by name.</summary>
public class TcpProxyValidatorTests
{
    private static string Yaml(string proxy) => TcpProxyIntegrationTests.Yaml(proxy, TcpProxyIntegrationTests.Cluster("echo", [10001]) + "\n" + TcpProxyIntegrationTests.Cluster("other", [10002]));

    private static IReadOnlyList<ConfigError> Errors(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

    private static (string Path, string Message) Single(string proxy)
    {
        var error = Assert.Single(Errors(Yaml(proxy)));
        return (error.Location.Path, error.Message);
    }

    private static TcpProxyPlan Plan(string proxy)
        => Assert.Single(Assert.Single(EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Yaml(proxy), "envoy.yaml")).Listeners).FilterChains).TcpProxy!;

    private const string FilterPath = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

    [Fact]
    public void Translate_Defaults_EnvoysDefaults()
    {
        var plan = Plan("stat_prefix: s\ncluster: echo");

        Assert.Equal("s", plan.StatPrefix);
        Assert.Equal([new TcpProxyClusterPlan("echo", 1, true)], plan.Clusters);
        Assert.Equal(TimeSpan.FromHours(1), plan.IdleTimeout);
        Assert.Equal(1, plan.MaxConnectAttempts);
        Assert.Null(plan.MaxDownstreamConnectionDuration);
        Assert.False(plan.HashSourceIp);
        Assert.Empty(plan.AccessLogs);
    }

    [Fact]
    public void Translate_EveryImplementedField_InThePlan()
    {
        var plan = Plan("""
            stat_prefix: s
            weighted_clusters: { clusters: [ { name: echo, weight: 2 }, { name: nowhere, weight: 5 } ] }
            idle_timeout: 0s
            max_connect_attempts: 3
            max_downstream_connection_duration: 90s
            hash_policy: [ { source_ip: {} } ]
            access_log: [ { name: envoy.access_loggers.stdout, typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog } } ]
            """);

        // An unknown cluster loads (Envoy looks it up per connection: downstream_cx_no_route).
        Assert.Equal([new TcpProxyClusterPlan("echo", 2, true), new TcpProxyClusterPlan("nowhere", 5, false)], plan.Clusters);
        Assert.Null(plan.IdleTimeout);
        Assert.Equal(3, plan.MaxConnectAttempts);
        Assert.Equal(TimeSpan.FromSeconds(90), plan.MaxDownstreamConnectionDuration);
        Assert.True(plan.HashSourceIp);
        Assert.Single(plan.AccessLogs);
    }

    [Theory]
    [InlineData("access_log_options: { access_log_flush_interval: 2s, flush_access_log_on_connected: true }", 2, true)]
    [InlineData("access_log_flush_interval: 3s\nflush_access_log_on_connected: true", 3, true)]
    [InlineData("access_log_flush_interval: 3s\nflush_access_log_on_connected: true\naccess_log_options: { access_log_flush_interval: 2s }", 2, false)]
    public void Translate_AccessLogOptions_TheOptionsOverTheDeprecatedFields(string fields, int seconds, bool onConnected)
    {
        var plan = Plan("stat_prefix: s\ncluster: echo\naccess_log: [ { name: envoy.access_loggers.stdout, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog } } ]\n" + fields);

        Assert.Equal(TimeSpan.FromSeconds(seconds), plan.AccessLogFlushInterval);
        Assert.Equal(onConnected, plan.FlushAccessLogOnConnected);
    }

    [Fact]
    public void Load_NoStatPrefix_Refused()
        => Assert.Equal((FilterPath + ".stat_prefix", "'stat_prefix' is required"), Single("cluster: echo"));

    [Fact]
    public void Load_NoCluster_Refused()
        => Assert.Equal((FilterPath + ".cluster", "one of 'cluster' or 'weighted_clusters' is required"), Single("stat_prefix: s"));

    [Fact]
    public void Load_ClusterAndWeightedClusters_Refused()
        => Assert.Contains("weighted_clusters", Single("stat_prefix: s\ncluster: echo\nweighted_clusters: { clusters: [ { name: echo, weight: 1 } ] }").Path, StringComparison.Ordinal);

    [Theory]
    [InlineData("weighted_clusters: { clusters: [] }", ".weighted_clusters.clusters", "'clusters' needs at least 1 item")]
    [InlineData("weighted_clusters: { clusters: [ { name: echo, weight: 0 } ] }", ".weighted_clusters.clusters[0].weight", "'weight' must be at least 1")]
    [InlineData("cluster: echo\nmax_connect_attempts: 0", ".max_connect_attempts", "'max_connect_attempts' must be at least 1")]
    [InlineData("cluster: echo\nmax_downstream_connection_duration: 0s", ".max_downstream_connection_duration", "'max_downstream_connection_duration' must be at least 1ms")]
    [InlineData("cluster: echo\naccess_log_options: { access_log_flush_interval: 0.0001s }", ".access_log_options.access_log_flush_interval", "'access_log_flush_interval' must be at least 1ms")]
    [InlineData("cluster: echo\naccess_log_flush_interval: 0s", ".access_log_flush_interval", "'access_log_flush_interval' must be at least 1ms")]
    [InlineData("cluster: echo\nhash_policy: [ { source_ip: {} }, { source_ip: {} } ]", ".hash_policy", "'hash_policy' takes at most 1 item")]
    [InlineData("cluster: echo\nhash_policy: [ {} ]", ".hash_policy[0].source_ip", "a hash policy needs 'source_ip' (the policy_specifier oneof is required)")]
    public void Load_OutOfRange_EnvoysConstraint(string fields, string path, string message)
        => Assert.Equal((FilterPath + path, message), Single("stat_prefix: s\n" + fields));

    [Theory]
    [InlineData("metadata_match: {}", "metadata_match")]
    [InlineData("proxy_protocol_tlvs: []", "proxy_protocol_tlvs")]
    [InlineData("max_downstream_connection_duration_jitter_percentage: { value: 10 }", "max_downstream_connection_duration_jitter_percentage")]
    [InlineData("backoff_options: { base_interval: 1s }", "backoff_options")]
    [InlineData("hash_policy: [ { filter_state: { key: k } } ]", "filter_state")]
    public void Load_NotImplementedField_RefusedByItsPath(string fields, string field)
    {
        var error = Assert.Single(Errors(Yaml("stat_prefix: s\ncluster: echo\n" + fields)));
        Assert.EndsWith(field, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TcpProxyBeforeTheConnectionManager_EnvoysTerminalFilterError()
    {
        var yaml = Yaml("stat_prefix: s\ncluster: echo").Replace("    - filters:\n", "    - filters:\n      - name: envoy.filters.network.tcp_proxy\n"
            + "        typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: first, cluster: echo }\n", StringComparison.Ordinal);

        var error = Assert.Single(Errors(yaml));

        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].name", error.Location.Path);
        Assert.Equal("Error: terminal filter named envoy.filters.network.tcp_proxy of type envoy.filters.network.tcp_proxy must be the last filter in a network filter chain.", error.Message);
    }

    [Fact]
    public void Load_WithoutTypedConfig_SaysWhichType()
    {
        var yaml = Yaml("stat_prefix: s\ncluster: echo").Replace("        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\n          stat_prefix: s\n          cluster: echo\n", "", StringComparison.Ordinal);

        var error = Assert.Single(Errors(yaml));

        Assert.Contains("type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", error.Message, StringComparison.Ordinal);
    }
}
