using Gateway.Tests.Common;

namespace Gateway.Tests.Tracing;

/// <summary>A one-listener bootstrap with HCM <c>tracing</c> (blocks given flush-left), the router's settings and routes, in front of <c>echo</c>.</summary>
internal static class TracingYaml
{
    /// <summary>The recording tracer as the HCM's provider.</summary>
    public const string RecordingProvider = """
        provider:
          name: gateway.tests.recording
          typed_config: { "@type": type.googleapis.com/gateway.tests.RecordingTracerConfig, label: a }
        """;

    public static string Build(int upstreamPort, string tracing = RecordingProvider, string routes = ListenerYaml.CatchAll, string router = "", string listener = "", string bootstrap = "", string clusters = "")
        => $$"""
        {{bootstrap}}
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        {{ListenerYaml.Indent(listener, 4)}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  tracing:
        {{ListenerYaml.Indent(tracing.Length == 0 ? "{}" : tracing, 12)}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        {{ListenerYaml.Indent(router, 14)}}
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: main
                      domains: ["*"]
                      routes:
        {{ListenerYaml.Indent(routes, 14)}}
          clusters:
          - name: echo
            type: STATIC
            metadata: { filter_metadata: { team: { owner: payments } } }
            load_assignment:
              cluster_name: echo
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } }
                  metadata: { filter_metadata: { host: { zone: z1 } } }
        {{ListenerYaml.Indent(clusters, 2)}}
        """;
}
