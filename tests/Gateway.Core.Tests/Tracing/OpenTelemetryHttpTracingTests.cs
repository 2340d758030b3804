using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Tracing;

/// <summary>The connection manager's tracing with the OpenTelemetry tracer: an incoming <c>traceparent</c> is continued upstream.</summary>
public class OpenTelemetryHttpTracingTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ParentId = "00f067aa0ba902b7";

    [Fact]
    public async Task Traceparent_IsContinued_SameTraceNewSpanOneHeader()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(TracingYaml.Build(upstream.Port, tracing: """
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                service_name: front
                http_service: { http_uri: { uri: "http://echo/v1/traces", cluster: echo, timeout: 1s } }
            """));
        var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Add("traceparent", $"00-{TraceId}-{ParentId}-01");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = (await response.Content.ReadFromJsonAsync<EchoedRequest>())!.Headers;
        // One value (EchoUpstream joins repeated headers with ','): the gateway's span, child of the caller's.
        Assert.Matches($"^00-{TraceId}-[0-9a-f]{{16}}-01$", headers["traceparent"]);
        Assert.DoesNotContain(ParentId, headers["traceparent"], StringComparison.Ordinal);
        await gateway.AssertStatAsync("http.ingress_http.tracing.random_sampling", 1);
    }
}
