namespace Gateway.Tests;

/// <summary>Configs shared by tests, and the repository's root (its examples and fixtures).</summary>
internal static class TestConfigs
{
    /// <summary>The seed lab's simple.yaml with the upstream given as parameters.</summary>
    public static string Seed(string upstreamAddress = "httpbin", int upstreamPort = 8000, string type = "LOGICAL_DNS", int listenerPort = 15001, int adminPort = 15000, string routeExtra = "", string listenerAddress = "0.0.0.0")
        => $$"""
        admin:
          address:
            socket_address: { address: {{listenerAddress}}, port_value: {{adminPort}} }

        static_resources:
          listeners:
          - name: httpbin-demo
            address:
              socket_address: { address: {{listenerAddress}}, port_value: {{listenerPort}} }
            filter_chains:
            - filters:
              - name:  envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  http_filters:
                  - name: envoy.filters.http.router
                  route_config:
                    name: httpbin_local_route
                    virtual_hosts:
                    - name: httpbin_local_service
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route:
                          auto_host_rewrite: true
                          cluster: httpbin_service{{routeExtra}}
          clusters:
            - name: httpbin_service
              connect_timeout: 5s
              type: {{type}}
              dns_lookup_family: V4_ONLY
              lb_policy: ROUND_ROBIN
              load_assignment:
                cluster_name: httpbin
                endpoints:
                - lb_endpoints:
                  - endpoint:
                      address:
                        socket_address:
                          address: {{upstreamAddress}}
                          port_value: {{upstreamPort}}
        """;

    /// <summary>The <paramref name="seed"/> (the seed by default) with its one route replaced by <paramref name="match"/> and <paramref name="action"/> (flow YAML).</summary>
    public static string SeedWithRoute(string match, string action, string? seed = null)
    {
        const string SeedRoute = "              - match: { prefix: \"/\" }\n                route:\n                  auto_host_rewrite: true\n                  cluster: httpbin_service\n";
        seed ??= Seed();
        Assert.Contains(SeedRoute, seed, StringComparison.Ordinal);
        return seed.Replace(SeedRoute, $"              - match: {match}\n                {action}\n", StringComparison.Ordinal);
    }

    /// <summary>The seed config with more HCM fields (YAML lines indented by ten spaces) after <c>stat_prefix</c>.</summary>
    public static string SeedWithHcmFields(string fields)
        => Seed().Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + fields, StringComparison.Ordinal);

    /// <summary>
    /// A <see cref="Seed"/> config with a <c>metadata</c> field (its YAML flow value) at each place given: the
    /// cluster, its endpoint, the route configuration, the virtual host and the route.
    /// </summary>
    public static string SeedWithMetadata(string seed, string cluster = "", string endpoint = "", string routeConfig = "", string virtualHost = "", string route = "")
    {
        var yaml = After(seed, "            name: httpbin_local_route\n", "            metadata: ", routeConfig);
        yaml = After(yaml, "              domains: [\"*\"]\n", "              metadata: ", virtualHost);
        yaml = After(yaml, "                  cluster: httpbin_service\n", "                metadata: ", route);
        yaml = After(yaml, "      lb_policy: ROUND_ROBIN\n", "      metadata: ", cluster);
        // The endpoint's port_value is the seed's last line.
        return endpoint.Length == 0 ? yaml : yaml + "\n            metadata: " + endpoint + "\n";

        static string After(string yaml, string anchor, string key, string value)
        {
            if (value.Length == 0)
            {
                return yaml;
            }
            var at = yaml.IndexOf(anchor, StringComparison.Ordinal);
            if (at < 0)
            {
                throw new ArgumentException($"'{anchor.Trim()}' is not in the seed config", nameof(seed));
            }
            return yaml.Insert(at + anchor.Length, key + value + "\n");
        }
    }

    /// <summary>The repository's own Envoy configs (<c>tests/Gateway.Core.Tests/Configuration/EnvoyConfigs</c>), standing in for the shared ones.</summary>
    public static string EnvoyConfigFixture(string fileName) => Path.Combine(RepositoryRoot, "tests", "Gateway.Core.Tests", "Configuration", "EnvoyConfigs", fileName);

    /// <summary>The repository root (the folder holding Gateway.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// A loopback listener routing everything to the STATIC, round-robin cluster <paramref name="cluster"/>
    /// of the loopback <paramref name="ports"/>; <paramref name="clusterExtra"/> holds more cluster fields,
    /// indented by four spaces; <paramref name="hcmFields"/> more HTTP connection manager fields (one per entry) and
    /// <paramref name="routes"/>, when given, the virtual host's routes (unindented YAML list) instead of the catch-all.
    /// </summary>
    public static string Backends(string cluster, IEnumerable<int> ports, string clusterExtra = "", IEnumerable<string>? hcmFields = null, string? routes = null)
    {
        var hcm = string.Join("\n", (hcmFields ?? []).Select(f => "          " + f));
        var routeList = string.Join("\n", (routes ?? $"- match: {{ prefix: \"/\" }}\n  route: {{ cluster: {cluster} }}").Split('\n').Select(l => "              " + l));
        var endpoints = string.Join("\n", ports.Select(p => $$"""
                - endpoint:
                    address:
                      socket_address: { address: 127.0.0.1, port_value: {{p}} }
        """));
        return $$"""
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: 0 }
        static_resources:
          listeners:
          - name: httpbin-demo
            address:
              socket_address: { address: 127.0.0.1, port_value: 0 }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
        {{hcm}}
                  http_filters:
                  - name: envoy.filters.http.router
                  route_config:
                    name: local_route
                    virtual_hosts:
                    - name: {{cluster}}
                      domains: ["*"]
                      routes:
        {{routeList}}
          clusters:
          - name: {{cluster}}
            connect_timeout: 1s
            type: STATIC
            lb_policy: ROUND_ROBIN
        {{clusterExtra}}
            load_assignment:
              cluster_name: {{cluster}}
              endpoints:
              - lb_endpoints:
        {{endpoints}}
        """;
    }
}
