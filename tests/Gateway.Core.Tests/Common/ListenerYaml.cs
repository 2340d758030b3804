namespace Gateway.Tests.Common;

/// <summary>
/// A bootstrap with one listener (<c>httpbin-demo</c>, stat prefix <c>ingress_http</c>) in front of one cluster
/// (<c>echo</c>), built from flush-left YAML blocks: the HTTP filters before the router, the virtual host's extra
/// fields and its routes.
/// </summary>
internal static partial class ListenerYaml
{
    /// <summary>Every path to the echo cluster.</summary>
    public const string CatchAll = """
        - name: all
          match: { prefix: "/" }
          route: { cluster: echo }
        """;

    /// <summary>
    /// The bootstrap; <paramref name="routeConfiguration"/> adds fields to the route table, <paramref name="clusters"/> clusters
    /// after <c>echo</c>, <paramref name="bootstrap"/> top-level fields (<c>node</c>), <paramref name="otherVirtualHosts"/>
    /// virtual hosts after <c>main</c>, <paramref name="connectionManager"/> fields of the HTTP connection manager.
    /// </summary>
    public static string Build(int upstreamPort, string httpFilters, string virtualHost = "", string routes = CatchAll, string routeConfiguration = "", string clusters = "", string bootstrap = "", string otherVirtualHosts = "", string connectionManager = "")
        => $$"""
        {{bootstrap}}
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
        {{Indent(connectionManager, 10)}}
                  http_filters:
        {{Indent(httpFilters, 10)}}
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  route_config:
                    name: local
        {{Indent(routeConfiguration, 12)}}
                    virtual_hosts:
                    - name: main
                      domains: ["*"]
        {{Indent(virtualHost, 14)}}
                      routes:
        {{Indent(routes, 14)}}
        {{Indent(otherVirtualHosts, 12)}}
          clusters:
          - name: echo
            type: STATIC
            load_assignment:
              cluster_name: echo
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } }
        {{Indent(clusters, 2)}}
        """;

    /// <summary>The bootstrap with <paramref name="fields"/> (flush-left YAML) added to the <c>httpbin-demo</c> listener.</summary>
    public static string WithListenerFields(string yaml, string fields)
        => yaml.Replace("  - name: httpbin-demo\n", "  - name: httpbin-demo\n" + Indent(Dedent(fields), 4) + "\n", StringComparison.Ordinal);

    /// <summary>
    /// The bootstrap with a second listener, <c>second</c>: a copy of <c>httpbin-demo</c> (its own port 0) that
    /// <paramref name="edit"/> may change.
    /// </summary>
    public static string WithSecondListener(string yaml, Func<string, string> edit)
    {
        var start = yaml.IndexOf("  - name: httpbin-demo\n", StringComparison.Ordinal);
        var end = yaml.IndexOf("  clusters:", StringComparison.Ordinal);
        var second = edit(yaml[start..end].Replace("name: httpbin-demo", "name: second", StringComparison.Ordinal));
        return yaml[..end] + second + yaml[end..];
    }

    /// <summary>A block with its common leading indentation removed (flush left).</summary>
    public static string Dedent(string block)
    {
        var lines = block.ReplaceLineEndings("\n").Split('\n');
        var common = int.MaxValue;
        foreach (var line in lines)
        {
            if (line.Trim().Length > 0)
            {
                common = Math.Min(common, line.Length - line.TrimStart(' ').Length);
            }
        }
        return common == int.MaxValue ? string.Empty : string.Join('\n', lines.Select(line => line.Length >= common ? line[common..] : line.TrimStart(' '))).Trim('\n');
    }

    /// <summary>Indents every line of a flush-left block.</summary>
    public static string Indent(string block, int spaces)
    {
        if (block.Length == 0)
        {
            return string.Empty;
        }
        var pad = new string(' ', spaces);
        return string.Join('\n', block.ReplaceLineEndings("\n").Split('\n').Select(line => line.Length == 0 ? line : pad + line));
    }
}
