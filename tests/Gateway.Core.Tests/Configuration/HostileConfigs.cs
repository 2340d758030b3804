using System.Text;

namespace Gateway.Tests.Configuration;

/// <summary>Inputs built to make a config loader crash, exhaust memory or take long.</summary>
internal static class HostileConfigs
{
    private const string HcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    /// <summary>
    /// Under 2 KB that expand to 3.2 million routes through typed fields: 20 listeners × 20 filter
    /// chains × 20 filters × 20 virtual hosts × 20 routes, one anchor and 19 aliases at each level.
    /// </summary>
    public static string ListenerAliasBomb()
    {
        static string More(string alias, string indent) => string.Concat(Enumerable.Repeat($"{indent}- *{alias}\n", 19));
        return $$"""
            static_resources:
              listeners:
              - &L
                name: l
                address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
                filter_chains:
                - &FC
                  filters:
                  - &F
                    name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": {{HcmType}}
                      stat_prefix: s
                      http_filters: [ { name: envoy.filters.http.router } ]
                      route_config:
                        virtual_hosts:
                        - &V
                          name: v
                          domains: [ "*" ]
                          routes:
                          - &R { match: { prefix: / }, route: { cluster: c } }

            """
            + More("R", "              ") + More("V", "            ") + More("F", "      ") + More("FC", "    ") + More("L", "  ");
    }

    /// <summary>The classic: nine levels of lists of ten aliases, 10^9 strings once expanded.</summary>
    public static string BillionLaughs()
    {
        var builder = new StringBuilder("!ignore a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 1; level <= 9; level++)
        {
            builder.Append($"!ignore a{level}: &a{level} [")
                .AppendJoin(", ", Enumerable.Repeat($"*a{level - 1}", 10))
                .Append("]\n");
        }
        return builder.Append("static_resources: { clusters: *a9 }\n").ToString();
    }

    /// <summary>A cluster with <paramref name="keys"/> unknown fields, or as many repetitions of <c>name</c>.</summary>
    public static string WideCluster(int keys, bool duplicate = false)
    {
        var builder = new StringBuilder("static_resources:\n  clusters:\n  - name: c\n");
        for (var i = 0; i < keys - (duplicate ? 1 : 0); i++)
        {
            if (duplicate)
            {
                builder.Append("    name: c\n");
            }
            else
            {
                builder.Append("    k").Append(i).Append(": 1\n");
            }
        }
        return builder.ToString();
    }
}
