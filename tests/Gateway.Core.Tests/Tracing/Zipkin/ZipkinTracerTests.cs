using Gateway.Configuration;
using Gateway.Tracing;
using Gateway.Tracing.Zipkin;

namespace Gateway.Tests.Tracing.Zipkin;

/// <summary>Span creation as Envoy's Zipkin tracer does it (tracer.cc): ids, parents, kinds, sampling, injection.</summary>
public class ZipkinTracerTests
{
    private const string CallerTrace = "80f198ee56343ba864fe8b2a57d3eff7";
    private const ulong CallerSpan = 0xe457b5a2e4d86bd1;
    private const ulong CallerParent = 0x05e3ac9a4f6e3b90;

    private static Microsoft.AspNetCore.Http.HeaderDictionary CallerHeaders(string? sampled = null)
    {
        var headers = Spans.Headers(("x-b3-traceid", CallerTrace), ("x-b3-spanid", "e457b5a2e4d86bd1"), ("x-b3-parentspanid", "05e3ac9a4f6e3b90"));
        if (sampled is not null)
        {
            headers["x-b3-sampled"] = sampled;
        }
        return headers;
    }

    [Fact]
    public async Task StartSpan_NoContext_OneRandomNumberIsTraceAndSpanId()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x1234));
        var tracer = harness.Create(new ZipkinConfig());

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress()));

        Assert.Equal("0000000000001234", span.TraceId);
        Assert.Equal("0000000000001234", span.SpanId);
        Assert.Null(span.ParentId);
        Assert.True(span.IsServer);
        Assert.True(span.Sampled);
        Assert.True(span.UseLocalDecision);
        Assert.Equal("example.com", span.Name);
    }

    [Fact]
    public async Task StartSpan_NoContextWith128BitTraceIds_HighHalfIsASecondNumberAndLowHalfTheSpanId()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0xaaaa, 0xbbbb));
        var tracer = harness.Create(new ZipkinConfig { TraceId128Bit = true });

        var span = tracer.StartSpan(Spans.Ingress());

        Assert.Equal("000000000000bbbb000000000000aaaa", span.TraceId);
        Assert.Equal("000000000000aaaa", span.SpanId);
    }

    [Fact]
    public async Task StartSpan_CallerContextWithSharedSpanContext_ServerSpanReusesCallerSpanAndParent()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds());
        var tracer = harness.Create(new ZipkinConfig());

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress(CallerHeaders())));

        Assert.Equal(CallerTrace, span.TraceId);
        Assert.Equal(CallerSpan, span.Id);
        Assert.Equal(CallerParent, span.ParentId);
        Assert.True(span.IsServer);
        Assert.False(span.UseLocalDecision);
    }

    [Fact]
    public async Task StartSpan_CallerContextWithoutSharedSpanContext_ChildOfTheCallerSpan()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x77));
        var tracer = harness.Create(new ZipkinConfig { SharedSpanContext = false });

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress(CallerHeaders())));

        Assert.Equal(CallerTrace, span.TraceId);
        Assert.Equal(0x77UL, span.Id);
        Assert.Equal(CallerSpan, span.ParentId);
        Assert.True(span.IsServer);

        using var upstream = new HttpRequestMessage();
        span.InjectContext(upstream.Headers);
        Assert.Equal([CallerTrace], upstream.Headers.GetValues("x-b3-traceid"));
        Assert.Equal(["0000000000000077"], upstream.Headers.GetValues("x-b3-spanid"));
        Assert.Equal(["e457b5a2e4d86bd1"], upstream.Headers.GetValues("x-b3-parentspanid"));
        Assert.Equal(["1"], upstream.Headers.GetValues("x-b3-sampled"));
    }

    [Fact]
    public async Task StartSpan_EgressWithCallerContext_ClientSpanChildOfTheCaller()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x99));
        var tracer = harness.Create(new ZipkinConfig());

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Egress(CallerHeaders())));

        Assert.False(span.IsServer);
        Assert.Equal(0x99UL, span.Id);
        Assert.Equal(CallerSpan, span.ParentId);
    }

    [Fact]
    public async Task StartSpan_SingleHeaderContext_ContinuedLikeTheMultipleHeaders()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x5));
        var tracer = harness.Create(new ZipkinConfig { SharedSpanContext = false });

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress(
            Spans.Headers(("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-0")), traced: true)));

        Assert.Equal("a3ce929d0e0e4736", span.TraceId);
        Assert.Equal(0x00f067aa0ba902b7UL, span.ParentId);
        Assert.False(span.Sampled);
    }

    [Theory]
    [InlineData("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-x")]
    [InlineData("x-b3-traceid", "not-hex")]
    public async Task StartSpan_MalformedContext_NullSpan(string header, string value)
    {
        await using var harness = new ZipkinHarness(new ScriptedIds());
        var tracer = harness.Create(new ZipkinConfig());
        var headers = Spans.Headers(("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"));
        headers[header] = value;

        Assert.Same(NullSpan.Instance, tracer.StartSpan(Spans.Ingress(headers)));
    }

    [Theory]
    [InlineData("0", true, false)]
    [InlineData("1", false, true)]
    public async Task StartSpan_PropagatedSampledFlag_WinsOverTheLocalDecision(string flag, bool traced, bool sampled)
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x1, 0x2));
        var tracer = harness.Create(new ZipkinConfig());

        var continued = tracer.StartSpan(Spans.Ingress(CallerHeaders(flag), traced));
        var root = tracer.StartSpan(Spans.Ingress(Spans.Headers(("x-b3-sampled", flag)), traced));

        Assert.Equal(sampled, continued.Sampled);
        Assert.Equal(sampled, root.Sampled);
        Assert.False(root.UseLocalDecision);
    }

    [Fact]
    public async Task StartSpan_NoSampledFlag_LocalDecision()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x1));
        var tracer = harness.Create(new ZipkinConfig());

        var continued = tracer.StartSpan(Spans.Ingress(CallerHeaders(), traced: false));
        var root = tracer.StartSpan(Spans.Ingress(traced: false));

        Assert.False(continued.Sampled);
        Assert.False(root.Sampled);
        Assert.True(root.UseLocalDecision);
        Assert.False(continued.UseLocalDecision);
    }

    [Fact]
    public async Task SpawnChild_SplitSpansForRequest_ClientSpanChildOfTheServerSpan()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0xc1));
        var tracer = harness.Create(new ZipkinConfig { SplitSpansForRequest = true });
        var server = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress(CallerHeaders())));

        var child = Assert.IsType<ZipkinSpan>(server.SpawnChild("router zipkin egress", Spans.Start.AddMilliseconds(1)));

        Assert.True(server.IsServer);
        Assert.Equal(CallerSpan, server.Id);
        Assert.False(child.IsServer);
        Assert.Equal(0xc1UL, child.Id);
        Assert.Equal(CallerSpan, child.ParentId);
        Assert.Equal(CallerTrace, child.TraceId);
        Assert.Equal("router zipkin egress", child.Name);
    }

    [Fact]
    public async Task SpawnChild_SpawnUpstreamSpanOnEgress_ServerSpanDownstreamAndClientSpanUpstream()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x10, 0x20));
        var tracer = harness.Create(new ZipkinConfig { SharedSpanContext = false });
        var server = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Egress() with { SpawnUpstreamSpan = true }));

        var child = Assert.IsType<ZipkinSpan>(server.SpawnChild("upstream", Spans.Start));

        Assert.True(server.IsServer);
        Assert.False(child.IsServer);
        Assert.Equal(0x10UL, child.ParentId);
        Assert.Equal(0x20UL, child.Id);
    }

    [Fact]
    public async Task SpawnChild_IngressWithoutSplitSpans_SharesTheServerSpanAsEnvoyDoes()
    {
        // Without split_spans_for_request an ingress child is another server span, sharing the context.
        await using var harness = new ZipkinHarness(new ScriptedIds(0x10));
        var tracer = harness.Create(new ZipkinConfig());
        var server = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress()));

        var child = Assert.IsType<ZipkinSpan>(server.SpawnChild("upstream", Spans.Start));

        Assert.True(child.IsServer);
        Assert.Equal(server.Id, child.Id);
        Assert.Null(child.ParentId);
    }

    [Fact]
    public async Task StartSpan_W3CPropagationWithoutB3_ContinuesTraceParentAndInjectsBoth()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x42));
        var tracer = harness.Create(new ZipkinConfig { TraceContextOption = ZipkinTraceContextOption.UseB3WithW3cPropagation, SharedSpanContext = false });
        var headers = Spans.Headers(("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), ("tracestate", "rojo=1"));

        var span = Assert.IsType<ZipkinSpan>(tracer.StartSpan(Spans.Ingress(headers, traced: true)));
        using var upstream = new HttpRequestMessage();
        span.InjectContext(upstream.Headers);

        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", span.TraceId);
        Assert.Equal(0x00f067aa0ba902b7UL, span.ParentId);
        Assert.False(span.Sampled);
        Assert.Equal(["4bf92f3577b34da6a3ce929d0e0e4736"], upstream.Headers.GetValues("x-b3-traceid"));
        Assert.Equal(["00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000042-00"], upstream.Headers.GetValues("traceparent"));
        Assert.Equal(["rojo=1"], upstream.Headers.GetValues("tracestate"));
    }

    [Fact]
    public async Task StartSpan_W3CPropagationWithB3_B3Wins()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds());
        var tracer = harness.Create(new ZipkinConfig { TraceContextOption = ZipkinTraceContextOption.UseB3WithW3cPropagation });
        var headers = CallerHeaders("1");
        headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

        var span = tracer.StartSpan(Spans.Ingress(headers));

        Assert.Equal(CallerTrace, span.TraceId);
        Assert.True(span.Sampled);
    }

    [Fact]
    public async Task StartSpan_B3OnlyOption_TraceParentIgnoredAndNotInjected()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x3));
        var tracer = harness.Create(new ZipkinConfig());

        var span = tracer.StartSpan(Spans.Ingress(Spans.Headers(("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))));
        using var upstream = new HttpRequestMessage();
        span.InjectContext(upstream.Headers);

        Assert.Equal("0000000000000003", span.TraceId);
        Assert.False(upstream.Headers.Contains("traceparent"));
    }

    [Fact]
    public async Task Finish_SampledAndNot_OnlySampledSpansAreBuffered()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(0x1, 0x2));
        var tracer = harness.Create(new ZipkinConfig());
        var sampled = tracer.StartSpan(Spans.Ingress());
        var notSampled = tracer.StartSpan(Spans.Ingress());
        notSampled.SetSampled(false);

        sampled.Finish(Spans.Start.AddMilliseconds(3));
        sampled.Finish(Spans.Start.AddMilliseconds(4));
        notSampled.Finish(Spans.Start.AddMilliseconds(3));

        Assert.Equal(1, tracer.Reporter.PendingSpans);
        var span = Assert.IsType<ZipkinSpan>(sampled);
        Assert.Equal(3000, span.DurationMicros);
        Assert.Equal("ss", Assert.Single(span.Annotations).Value);
    }
}
