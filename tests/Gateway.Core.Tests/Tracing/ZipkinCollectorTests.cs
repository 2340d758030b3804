using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gateway.Tests.Hosting;
using Gateway.Tracing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tracing;

/// <summary>
/// Spans of proxied requests reach a Zipkin receiver on loopback (through the tracing cluster client seam), decoded here
/// with System.Text.Json, independently of the gateway's encoder: ids, names, parent links and Envoy's tags.
/// </summary>
public class ZipkinCollectorTests
{
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public BlockingCollection<JsonElement[]> Reports { get; } = [];

        /// <summary>The Host and the other headers of each report, in the order the reports came.</summary>
        public ConcurrentQueue<IHeaderDictionary> ReportHeaders { get; } = new();

        public int Port { get; private set; }

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/api/v2/spans", async context =>
            {
                receiver.ReportHeaders.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)));
                using var document = await JsonDocument.ParseAsync(context.Request.Body);
                receiver.Reports.Add([.. document.RootElement.EnumerateArray().Select(e => e.Clone())]);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            });
            await app.StartAsync();
            receiver.Port = new Uri(app.Urls.First()).Port;
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Sends every request to the receiver, keeping the path (what the async client does with the cluster's one host).</summary>
    private sealed class ToReceiver(int port) : DelegatingHandler(new SocketsHttpHandler { UseProxy = false })
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = new UriBuilder(request.RequestUri!) { Host = "127.0.0.1", Port = port }.Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task Requests_WithUpstreamSpans_ArriveAtTheCollectorWithParentLinksAndTags()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var upstream = await EchoUpstream.StartAsync();
        using var invoker = new HttpMessageInvoker(new ToReceiver(receiver.Port));
        var yaml = TracingYaml.Build(upstream.Port, bootstrap: "node: { id: n1, cluster: front }", tracing: """
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: echo
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
                shared_span_context: false
            spawn_upstream_span: true
            """);
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureServices: s => s.AddSingleton(new TracingClusterClient(_ => invoker)));

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(receiver.Reports.TryTake(out var spans, TimeSpan.FromSeconds(10)), "no report arrived");
        Assert.Equal(5, spans.Length);
        var child = spans[0];
        var server = spans[1];
        Assert.Equal("router echo egress", child.GetProperty("name").GetString());
        Assert.Equal(server.GetProperty("id").GetString(), child.GetProperty("parentId").GetString());
        Assert.Equal(server.GetProperty("traceId").GetString(), child.GetProperty("traceId").GetString());
        Assert.Equal("CLIENT", child.GetProperty("kind").GetString());
        Assert.Equal("SERVER", server.GetProperty("kind").GetString());
        Assert.Equal("front", server.GetProperty("localEndpoint").GetProperty("serviceName").GetString());
        var tags = server.GetProperty("tags");
        Assert.Equal("200", tags.GetProperty("http.status_code").GetString());
        Assert.Equal("proxy", tags.GetProperty("component").GetString());
        Assert.Equal("echo", tags.GetProperty("upstream_cluster").GetString());
        Assert.Equal("n1", tags.GetProperty("node_id").GetString());
        Assert.Equal("GET", tags.GetProperty("http.method").GetString());
        Assert.Equal("200", child.GetProperty("tags").GetProperty("http.status_code").GetString());
        await gateway.AssertStatAsync("tracing.zipkin.spans_sent", 5);
    }

    [Fact]
    public async Task CollectorService_AndOperationFormats_ReportsGoToItsUriWithItsHeadersAndTheSpansAreNamed()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var upstream = await EchoUpstream.StartAsync();
        using var invoker = new HttpMessageInvoker(new ToReceiver(receiver.Port));
        var yaml = TracingYaml.Build(upstream.Port, tracing: """
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_endpoint_version: HTTP_JSON
                shared_span_context: false
                collector_service:
                  http_uri: { uri: "https://zipkin.example.com/api/v2/spans", cluster: echo, timeout: 5s }
                  request_headers_to_add:
                  - header: { key: X-Custom-Token, value: your-custom-token }
                  - header: { key: Content-Type, value: application/json; charset=utf-8 }
            spawn_upstream_span: true
            operation: "%REQ(:METHOD)% %REQ(x-op)% %RESPONSE_CODE%"
            upstream_operation: "up-%UPSTREAM_CLUSTER%"
            """);
        string? usedCluster = null;
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureServices: s => s.AddSingleton(new TracingClusterClient(name =>
        {
            usedCluster = name;
            return invoker;
        })));

        for (var i = 0; i < 3; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/status/200"));
            request.Headers.Add("x-op", "op" + i);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(receiver.Reports.TryTake(out var spans, TimeSpan.FromSeconds(10)), "no report arrived");
        Assert.Equal(5, spans.Length);
        Assert.Equal("echo", usedCluster);
        Assert.True(receiver.ReportHeaders.TryDequeue(out var headers));
        Assert.Equal("zipkin.example.com", headers["Host"].ToString());
        Assert.Equal("your-custom-token", headers["x-custom-token"].ToString());
        Assert.Equal("application/json; charset=utf-8", headers.ContentType.ToString());
        Assert.Equal("up-echo", spans[0].GetProperty("name").GetString());
        Assert.Equal("CLIENT", spans[0].GetProperty("kind").GetString());
        Assert.Equal("GET op0 200", spans[1].GetProperty("name").GetString());
        Assert.Equal("SERVER", spans[1].GetProperty("kind").GetString());
        Assert.Equal("GET op1 200", spans[3].GetProperty("name").GetString());
        await gateway.AssertStatAsync("tracing.zipkin.reports_sent", 1);
    }
}
