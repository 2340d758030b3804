using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Tracing;

/// <summary>
/// The connection manager's and router's tracing with the Zipkin tracer, through a real gateway and an upstream that
/// echoes the headers it got: B3 contexts continued, new traces sampled as Envoy decides, <c>x-b3-sampled</c> honoured.
/// </summary>
public class ZipkinHttpTracingTests
{
    private const string TraceId = "463ac35c9f6413ad";
    private const string SpanId = "a2fb4a1d1a96d312";

    private static string Yaml(int port, string zipkin = "", string sampling = "")
        => TracingYaml.Build(port, tracing: $$"""
            {{sampling}}
            provider:
              name: envoy.tracers.zipkin
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
                collector_cluster: echo
                collector_endpoint: /api/v2/spans
                collector_endpoint_version: HTTP_JSON
                {{zipkin}}
            """);

    private static async Task<(InProcessGateway Gateway, EchoUpstream Upstream)> StartAsync(Func<int, string> yaml)
    {
        var upstream = await EchoUpstream.StartAsync();
        var gateway = await InProcessGateway.StartAsync(yaml(upstream.Port), configureServices: s => s.AddSingleton(new Random(7)));
        return (gateway, upstream);
    }

    private static async Task<SortedDictionary<string, string>> UpstreamHeadersAsync(InProcessGateway gateway, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EchoedRequest>())!.Headers;
    }

    [Fact]
    public async Task B3Headers_NotSharedSpanContext_ContinuedWithANewSpanWhoseParentIsTheCaller()
    {
        var (gateway, upstream) = await StartAsync(port => Yaml(port, "shared_span_context: false"));
        await using (upstream)
        await using (gateway)
        {
            var headers = await UpstreamHeadersAsync(gateway, ("x-b3-traceid", TraceId), ("x-b3-spanid", SpanId), ("x-b3-sampled", "1"));

            // One value each (EchoUpstream joins repeated headers with ',').
            Assert.Equal(TraceId, headers["x-b3-traceid"]);
            Assert.Equal(SpanId, headers["x-b3-parentspanid"]);
            Assert.Matches("^[0-9a-f]{16}$", headers["x-b3-spanid"]);
            Assert.NotEqual(SpanId, headers["x-b3-spanid"]);
            Assert.Equal("1", headers["x-b3-sampled"]);
        }
    }

    [Fact]
    public async Task B3Headers_SharedSpanContext_TheServerSpanKeepsTheCallersSpanId()
    {
        var (gateway, upstream) = await StartAsync(port => Yaml(port));
        await using (upstream)
        await using (gateway)
        {
            var headers = await UpstreamHeadersAsync(gateway, ("x-b3-traceid", TraceId), ("x-b3-spanid", SpanId), ("x-b3-sampled", "1"));

            Assert.Equal(TraceId, headers["x-b3-traceid"]);
            Assert.Equal(SpanId, headers["x-b3-spanid"]);
        }
    }

    [Fact]
    public async Task B3SingleHeader_NotSharedSpanContext_Continued()
    {
        var (gateway, upstream) = await StartAsync(port => Yaml(port, "shared_span_context: false"));
        await using (upstream)
        await using (gateway)
        {
            var headers = await UpstreamHeadersAsync(gateway, ("b3", $"{TraceId}-{SpanId}-1"));

            Assert.Equal(TraceId, headers["x-b3-traceid"]);
            Assert.Equal(SpanId, headers["x-b3-parentspanid"]);
            Assert.NotEqual(SpanId, headers["x-b3-spanid"]);
            Assert.Equal("1", headers["x-b3-sampled"]);
        }
    }

    [Theory]
    [InlineData("random_sampling: { value: 100 }", "1")]
    [InlineData("random_sampling: { value: 0 }", "0")]
    public async Task NoContext_NewTrace_SampledAsTheConnectionManagerDecides(string sampling, string sampled)
    {
        var (gateway, upstream) = await StartAsync(port => Yaml(port, sampling: sampling));
        await using (upstream)
        await using (gateway)
        {
            var headers = await UpstreamHeadersAsync(gateway);

            Assert.Matches("^[0-9a-f]{16}$", headers["x-b3-traceid"]);
            // A root span: its span id is its trace id (Envoy's Zipkin tracer), and it has no parent.
            Assert.Equal(headers["x-b3-traceid"], headers["x-b3-spanid"]);
            Assert.False(headers.ContainsKey("x-b3-parentspanid"));
            Assert.Equal(sampled, headers["x-b3-sampled"]);
        }
    }

    [Fact]
    public async Task B3SampledZero_IsHonouredOverTheLocalDecision()
    {
        var (gateway, upstream) = await StartAsync(port => Yaml(port, sampling: "random_sampling: { value: 100 }"));
        await using (upstream)
        await using (gateway)
        {
            var headers = await UpstreamHeadersAsync(gateway, ("x-b3-traceid", TraceId), ("x-b3-spanid", SpanId), ("x-b3-sampled", "0"));

            Assert.Equal("0", headers["x-b3-sampled"]);
            Assert.Equal(TraceId, headers["x-b3-traceid"]);
        }
    }
}
