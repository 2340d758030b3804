using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Configuration;

/// <summary>
/// The repository's own Envoy configs in <c>Configuration/EnvoyConfigs/</c>, written to exercise what the shared
/// real-world configs (<c>../shared/envoy-configs</c>) exercise, so a clone without that folder still tests it:
/// each loads, or fails with exactly the errors (field path, message, line) the matching shared config gets.
/// </summary>
public class EnvoyConfigFixtureTests
{
    /// <summary>The errors of loading a fixture, each with the line of the first line holding <c>Marker</c>.</summary>
    private static void AssertErrors(string fileName, params (string Path, string Message, string Marker)[] expected)
    {
        var path = TestConfigs.EnvoyConfigFixture(fileName);
        var lines = File.ReadAllLines(path);

        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.Load(path, null));

        Assert.Equal(expected.Select(e => e.Path), ex.Errors.Select(e => e.Location.Path));
        for (var i = 0; i < expected.Length; i++)
        {
            var error = ex.Errors[i];
            Assert.Equal(expected[i].Message, error.Message);
            Assert.Equal(path, error.Location.Source);
            Assert.Equal(Array.FindIndex(lines, l => l.Contains(expected[i].Marker, StringComparison.Ordinal)) + 1, error.Location.Line);
            Assert.True(error.Location.Column > 0);
        }
    }

    private static HttpConnectionManager Hcm(Bootstrap bootstrap, int listener)
        => (HttpConnectionManager)bootstrap.StaticResources!.Listeners[listener].FilterChains[0].Filters[0].TypedConfig!;

    // As envoy-demo.yaml without its local_reply_config.
    [Fact]
    public void Load_TwoListenersOneWithoutVirtualHosts_Loads()
    {
        var bootstrap = EnvoyConfigLoader.Load(TestConfigs.EnvoyConfigFixture("two-listeners.yaml"), null);

        Assert.Equal(["public", "internal"], bootstrap.StaticResources!.Listeners.Select(l => l.Name));
        Assert.Equal(CodecType.Auto, Hcm(bootstrap, 0).CodecType);
        Assert.Null(Hcm(bootstrap, 0).HttpFilters[0].TypedConfig);
        Assert.Equal("empty", Hcm(bootstrap, 1).RouteConfig!.Name);
        Assert.Empty(Hcm(bootstrap, 1).RouteConfig!.VirtualHosts);
        var plan = EnvoyTranslator.Translate(bootstrap);
        Assert.Equal(EnvoyTranslator.DefaultConnectTimeout, Assert.Single(plan.ClusterPlans).ConnectTimeout);
        Assert.Empty(plan.Listeners[1].FilterChains[0].ConnectionManager.Routes);
    }

    // As envoy-demo.yaml.
    [Fact]
    public void Load_LocalReplyConfig_LoadsWithItsMapper()
    {
        var bootstrap = EnvoyConfigLoader.Load(TestConfigs.EnvoyConfigFixture("two-listeners-local-reply.yaml"), null);

        var mapper = Assert.Single(Hcm(bootstrap, 1).LocalReplyConfig!.Mappers);
        Assert.NotNull(mapper.Filter!.HeaderFilter);
        Assert.NotNull(mapper.BodyFormatOverride);
        Assert.NotNull(EnvoyTranslator.Translate(bootstrap).Listeners[1].FilterChains[0].ConnectionManager.LocalReply);
    }

    // As front-proxy_envoy.yaml.
    [Fact]
    public void Load_UnnamedListenerStrictDnsClustersAdminLast_Loads()
    {
        var bootstrap = EnvoyConfigLoader.Load(TestConfigs.EnvoyConfigFixture("unnamed-listener-dns.yaml"), null);

        Assert.Equal(2, bootstrap.StaticResources!.Clusters.Count);
        Assert.All(bootstrap.StaticResources.Clusters, c => Assert.Equal(DiscoveryType.StrictDns, c.Type));
        Assert.IsType<RouterFilterConfig>(Hcm(bootstrap, 0).HttpFilters[0].TypedConfig);
        Assert.Equal(18001u, bootstrap.Admin!.Address!.SocketAddress!.PortValue);
        var plan = EnvoyTranslator.Translate(bootstrap);
        var listener = Assert.Single(plan.Listeners);
        Assert.Equal("0.0.0.0_18000", listener.Name);
        Assert.Equal(["users", "orders"], listener.FilterChains[0].ConnectionManager.Routes.Select(r => r.Cluster));
    }

    // As envoyproxy_io_proxy.yaml.
    [Fact]
    public void Load_SchemeRewriteTypo_NamesOnlyTheTypoAndAcceptsSchemeRewriteAndUpstreamTls()
    {
        const string Hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
        // scheme_header_transformation.scheme_to_overwrite is supported: only the misspelt field is left.
        AssertErrors("dns-upstream-tls.yaml",
            (Hcm + ".generate_request_ids",
             "unknown field 'generate_request_ids' in envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager (did you mean 'generate_request_id'?)",
             "generate_request_ids:"));
    }

    // As admin-interface.yaml.
    [Fact]
    public void Load_AdminAllowPathsProfileAndTcpProxy_NamesTheAdminFields_TcpProxyLoads()
    {
        AssertErrors("admin-tcp-proxy.yaml",
            ("admin.allow_paths", "field 'allow_paths' of envoy.config.bootstrap.v3.Admin is not supported by this gateway yet", "allow_paths:"),
            ("admin.profile_path", "field 'profile_path' of envoy.config.bootstrap.v3.Admin is not supported by this gateway yet", "profile_path:"));
    }

    // As google_com_proxy.yaml.
    [Fact]
    public void Load_EnvoyV1Format_NamesTheV1Fields()
    {
        AssertErrors("v1-format.yaml",
            ("listeners", "unknown field 'listeners' in envoy.config.bootstrap.v3.Bootstrap", "listeners:"),
            ("admin.address", "expected a mapping for envoy.config.core.v3.Address, got 'tcp://127.0.0.1:19903'", "address: tcp://127.0.0.1"),
            ("cluster_manager.clusters", "unknown field 'clusters' in envoy.config.bootstrap.v3.ClusterManager", "clusters:"));
    }
}
