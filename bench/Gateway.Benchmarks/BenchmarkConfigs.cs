using System.Text;

namespace Gateway.Benchmarks;

/// <summary>Generates Envoy configs of a given size for the benchmarks.</summary>
internal static class BenchmarkConfigs
{
    /// <summary>One listener whose single virtual host has <paramref name="routes"/> prefix routes, each with a header matcher, over 3 clusters.</summary>
    public static string Routes(int routes)
    {
        var builder = new StringBuilder();
        builder.Append("""
            admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
            static_resources:
              listeners:
              - name: bench
                address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: bench
                      http_filters: [ { name: envoy.filters.http.router } ]
                      route_config:
                        name: bench
                        virtual_hosts:
                        - name: bench
                          domains: ["*"]
                          routes:

            """);
        for (var i = 0; i < routes; i++)
        {
            builder.Append("                      - match: { prefix: \"/svc").Append(i).Append("/\", headers: [ { name: x-tenant, string_match: { exact: \"t")
                .Append(i % 10).Append("\" } } ] }\n                        route: { cluster: c").Append(i % 3).Append(" }\n");
        }
        builder.Append("  clusters:\n");
        for (var c = 0; c < 3; c++)
        {
            builder.Append("  - { name: c").Append(c).Append(", type: STATIC, lb_policy: LEAST_REQUEST, load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ")
                .Append(8000 + c).Append(" } } } } ] } ] } }\n");
        }
        return builder.ToString();
    }
}
