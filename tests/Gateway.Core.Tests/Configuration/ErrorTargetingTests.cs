using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>A config error names the real problem: not a port clash for a UDP listener, not lb_policy for a cluster type.</summary>
public class ErrorTargetingTests
{
    private const string UdpListener = """
          - name: udp-demo
            address:
              socket_address: { protocol: UDP, address: 0.0.0.0, port_value: 15001 }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: udp
                  route_config: { virtual_hosts: [ { name: v, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: httpbin_service } } ] } ] }
          clusters:
        """;

    private static EnvoyConfigException LoadFails(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

    [Fact]
    public void Load_UdpListenerOnATcpListenersPort_ReportsUdpNotThePort()
    {
        var yaml = TestConfigs.Seed().Replace("  clusters:\n", UdpListener + "\n", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[1].address.socket_address.protocol", error.Location.Path);
        Assert.Equal("only TCP listeners are supported; UDP is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Load_TwoTcpListenersOnOnePort_StillClash()
    {
        var yaml = TestConfigs.Seed().Replace("  clusters:\n", UdpListener.Replace("protocol: UDP, ", "", StringComparison.Ordinal) + "\n", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.listeners[1].address", error.Location.Path);
        Assert.StartsWith("port 15001 is already used by static_resources.listeners[0].address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OriginalDstWithClusterProvided_ReportsOnlyTheType()
    {
        var yaml = TestConfigs.Seed("127.0.0.1", 8000, "ORIGINAL_DST").Replace("lb_policy: ROUND_ROBIN", "lb_policy: CLUSTER_PROVIDED", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].type", error.Location.Path);
        Assert.Equal("cluster type ORIGINAL_DST is not supported by this gateway yet; use STATIC, STRICT_DNS, LOGICAL_DNS or EDS", error.Message);
    }

    [Fact]
    public void Load_StaticWithClusterProvided_SaysTheTypeProvidesNoBalancer()
    {
        var yaml = TestConfigs.Seed("127.0.0.1", 8000, "STATIC").Replace("lb_policy: ROUND_ROBIN", "lb_policy: CLUSTER_PROVIDED", StringComparison.Ordinal);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal("static_resources.clusters[0].lb_policy", error.Location.Path);
        Assert.StartsWith("lb_policy CLUSTER_PROVIDED is not valid for cluster type STATIC", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("use ROUND_ROBIN", error.Message, StringComparison.Ordinal);
    }
}
