using System.Net;
using System.Net.Http;
using Gateway.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters;

/// <summary>A listener with the stream info probe, one built-in filter and the router, two routes (/limited and the rest) to an echo upstream.</summary>
internal static class SingleFilterConfig
{
    /// <summary>
    /// The YAML. <paramref name="filter"/> is the filter's <c>typed_config</c> body and <paramref name="limitedRoute"/>
    /// extra fields of the /limited route, both written from column 0.
    /// </summary>
    public static string Yaml(EchoUpstream upstream, string name, string type, string filter, string limitedRoute = "")
        => Yaml(upstream.Port, name, type, filter, limitedRoute);

    /// <summary>The YAML with the upstream at <paramref name="port"/> (for loader tests, which start nothing).</summary>
    public static string Yaml(int port, string name, string type, string filter, string limitedRoute = "")
        => Template(port, name, type, Indent(filter, 14), Indent(limitedRoute, 16)).Replace(
            "          http_filters:\n", "          http_filters:\n" + Indent(StreamInfoProbeFactory.Entry, 10) + "\n", StringComparison.Ordinal);

    private static string Indent(string yaml, int spaces)
    {
        var pad = new string(' ', spaces);
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].Length == 0 ? lines[i] : pad + lines[i];
        }
        return string.Join('\n', lines);
    }

    private static string Template(int port, string name, string type, string filter, string limitedRoute)
        => $$"""
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
                  http_filters:
                  - name: {{name}}
                    typed_config:
                      "@type": type.googleapis.com/{{type}}
        {{filter}}
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: main
                      domains: ["*"]
                      routes:
                      - name: limited
                        match: { prefix: "/limited" }
                        route: { cluster: echo }
        {{limitedRoute}}
                      - name: direct
                        match: { prefix: "/direct" }
                        direct_response: { status: 200, body: { inline_string: "direct" } }
                      - name: rest
                        match: { prefix: "/" }
                        route: { cluster: echo }
          clusters:
          - name: echo
            type: STATIC
            load_assignment:
              cluster_name: echo
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
        """;

    /// <summary>
    /// Starts the gateway with the built-in filters and <paramref name="probe"/> on a fake clock (the gateway's
    /// <see cref="TimeProvider"/>), the filter configured by <paramref name="filter"/>.
    /// </summary>
    public static async Task<(InProcessGateway Gateway, FakeTimeProvider Time)> StartAsync(
        EchoUpstream upstream, StreamInfoProbeFactory probe, string name, string type, string filter, string limitedRoute = "")
    {
        var time = new FakeTimeProvider();
        var gateway = await InProcessGateway.StartAsync(
            Yaml(upstream, name, type, filter, limitedRoute),
            configureServices: s => s.AddSingleton<TimeProvider>(time),
            configureGateway: g => g.AddBuiltInHttpFilters().AddHttpFilter(probe));
        return (gateway, time);
    }

    /// <summary>The statuses of <paramref name="count"/> GETs sent one after the other.</summary>
    public static async Task<List<HttpStatusCode>> StatusesAsync(InProcessGateway gateway, int count, string path, params string[] headers)
    {
        var statuses = new List<HttpStatusCode>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await GetAsync(gateway, path, headers);
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }

    /// <summary>Sends a GET with the given headers (name, value pairs).</summary>
    public static async Task<HttpResponseMessage> GetAsync(InProcessGateway gateway, string path, params string[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(path));
        for (var i = 0; i + 1 < headers.Length; i += 2)
        {
            request.Headers.TryAddWithoutValidation(headers[i], headers[i + 1]);
        }
        return await gateway.Client.SendAsync(request);
    }
}
