using System.Net;
using System.Net.Http;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters;

/// <summary>A listener with the stream info probe, one built-in filter and the router, in front of an echo upstream.</summary>
internal static class SingleFilterConfig
{
    /// <summary>
    /// The YAML (on <see cref="ListenerYaml"/>): the stream info probe, the filter <paramref name="name"/> with
    /// <paramref name="filter"/> as its <c>typed_config</c> body, the router; routes <c>/limited</c> (with the extra
    /// fields <paramref name="limitedRoute"/>) and the rest to the echo cluster, <c>/direct</c> a direct response.
    /// Both blocks are written from column 0.
    /// </summary>
    public static string Yaml(EchoUpstream upstream, string name, string type, string filter, string limitedRoute = "")
        => Yaml(upstream.Port, name, type, filter, limitedRoute);

    /// <summary>The YAML with the upstream at <paramref name="port"/> (for loader tests, which start nothing).</summary>
    public static string Yaml(int port, string name, string type, string filter, string limitedRoute = "")
        => ListenerYaml.Build(port, $$"""
            {{StreamInfoProbeFactory.Entry}}
            - name: {{name}}
              typed_config:
                "@type": type.googleapis.com/{{type}}
            {{ListenerYaml.Indent(filter, 4)}}
            """, routes: $$"""
            - name: limited
              match: { prefix: "/limited" }
              route: { cluster: echo }
            {{ListenerYaml.Indent(limitedRoute, 2)}}
            - name: direct
              match: { prefix: "/direct" }
              direct_response: { status: 200, body: { inline_string: "direct" } }
            - name: rest
              match: { prefix: "/" }
              route: { cluster: echo }
            """);

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
