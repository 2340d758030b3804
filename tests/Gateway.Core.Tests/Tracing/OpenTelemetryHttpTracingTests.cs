using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tracing.OpenTelemetry;
using Gateway.Tracing;
using Microsoft.Extensions.DependencyInjection;
using SpanKind = Gateway.Tests.Tracing.OpenTelemetry.Otlp.Span.Types.SpanKind;

namespace Gateway.Tests.Tracing;

/// <summary>
/// The connection manager's tracing with the OpenTelemetry tracer: an incoming <c>traceparent</c> is continued upstream;
/// the operation formats name the spans an OTLP receiver on loopback decodes.
/// </summary>
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

    [Fact]
    public async Task OperationFormats_NameTheServerAndClientSpansTheCollectorReceives()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TracingYaml.Build(upstream.Port, tracing: """
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                http_service:
                  http_uri: { uri: "http://collector.example/v1/traces", cluster: echo, timeout: 5s }
                  request_headers_to_add: [ { header: { key: Content-Type, value: application/x-protobuf } } ]
            spawn_upstream_span: true
            operation: "%REQ(:METHOD)% %REQ(:PATH)%"
            upstream_operation: "%UPSTREAM_CLUSTER% %RESPONSE_FLAGS%"
            """, routes: """
            - match: { prefix: "/status" }
              route: { cluster: echo }
              tracing: { operation: "status-%RESPONSE_CODE%" }
            - match: { prefix: "/" }
              route: { cluster: echo }
            """);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureServices: s => s.AddSingleton(new TracingClusterClient(LoopbackCluster.For(receiver.Port))));

        // Three requests, two spans each: the fifth span finished flushes the batch (min_flush_spans).
        foreach (var path in new[] { "/status/202", "/get", "/status/200" })
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));
            Assert.True(response.IsSuccessStatusCode);
        }
        var export = await receiver.NextAsync();

        var names = export.Spans.Select(span => (span.Kind, span.Name)).ToList();
        Assert.Contains((SpanKind.Server, "status-202"), names);
        Assert.Contains((SpanKind.Server, "GET /get"), names);
        Assert.Contains((SpanKind.Client, "echo -"), names);
        Assert.DoesNotContain(names, n => n.Name.Contains("egress", StringComparison.Ordinal));
    }
}
