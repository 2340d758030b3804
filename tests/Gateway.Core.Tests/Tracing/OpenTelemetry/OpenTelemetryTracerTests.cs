using System.Diagnostics;
using System.Net.Http.Headers;
using Gateway.Tests.Tracing.OpenTelemetry.Otlp;
using Gateway.Tracing;
using Gateway.Tracing.OpenTelemetry;
using Google.Protobuf;

namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>
/// The OpenTelemetry tracer against real OTLP receivers on loopback (HTTP/protobuf and gRPC), decoded with the
/// test's own protos: ids, names, kinds, parent links, attributes, status, resource; context continuation and
/// injection; sampling; Envoy's batching and stats; a dead collector.
/// </summary>
public class OpenTelemetryTracerTests
{
    private const string IncomingTraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string IncomingSpanId = "b7ad6b7169203331";
    private const string IncomingTraceParent = "00-" + IncomingTraceId + "-" + IncomingSpanId + "-01";

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.ToByteArray());

    private static string Attribute(IEnumerable<KeyValue> attributes, string key) => attributes.Single(a => a.Key == key).Value.StringValue;

    [Fact]
    public async Task HttpExport_ContinuedTraceWithChild_DecodedAsSent()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        var asked = new List<string>();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port), LoopbackCluster.For(receiver.Port, asked));
        var start = tracer.Time.GetUtcNow();

        var server = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: IncomingTraceParent, traceState: "vendor=a"));
        server.SetOperation("front.example");
        server.SetTag("http.method", "GET");
        server.SetTag("http.status_code", "503");
        server.SetTag("http.method", "POST");
        var child = server.SpawnChild("router echo egress", start.AddMilliseconds(1));
        child.SetTag("upstream_cluster", "echo");
        child.SetTag("http.status_code", "404");
        child.Finish(start.AddMilliseconds(5));
        server.Finish(start.AddMilliseconds(7));

        Assert.Equal(0, tracer.Counter("spans_sent"));
        tracer.FireFlushTimer();
        var export = await receiver.NextAsync();

        Assert.Equal(["otel"], asked);
        Assert.Equal(("POST", "/v1/traces", "HTTP/1.1"), (export.Method, export.Path, export.Protocol));
        Assert.Equal("application/x-protobuf", export.ContentType);
        Assert.Equal("collector.example:" + receiver.Port, export.Host);
        Assert.Equal("se,cret=1", export.Headers["x-api-key"]);
        Assert.Equal("front-proxy", Attribute(export.Request.ResourceSpans.Single().Resource.Attributes, "service.name"));
        Assert.Equal("Gateway", export.Request.ResourceSpans.Single().ScopeSpans.Single().Scope.Name);

        var spans = export.Spans;
        Assert.Equal(2, spans.Count);
        var serverSpan = spans.Single(s => s.Kind == Span.Types.SpanKind.Server);
        var childSpan = spans.Single(s => s.Kind == Span.Types.SpanKind.Client);
        Assert.Equal(IncomingTraceId, Hex(serverSpan.TraceId));
        Assert.Equal(IncomingSpanId, Hex(serverSpan.ParentSpanId));
        Assert.Equal(server.SpanId, Hex(serverSpan.SpanId));
        Assert.NotEqual(IncomingSpanId, server.SpanId);
        Assert.Equal("front.example", serverSpan.Name);
        Assert.Equal("vendor=a", serverSpan.TraceState);
        Assert.Equal("POST", Attribute(serverSpan.Attributes, "http.method"));
        Assert.Single(serverSpan.Attributes, a => a.Key == "http.method");
        Assert.Equal(Status.Types.StatusCode.Error, serverSpan.Status.Code);
        Assert.Equal((ulong)start.ToUnixTimeMilliseconds() * 1_000_000, serverSpan.StartTimeUnixNano);
        Assert.Equal((ulong)start.AddMilliseconds(7).ToUnixTimeMilliseconds() * 1_000_000, serverSpan.EndTimeUnixNano);

        Assert.Equal(IncomingTraceId, Hex(childSpan.TraceId));
        Assert.Equal(server.SpanId, Hex(childSpan.ParentSpanId));
        Assert.Equal(child.SpanId, Hex(childSpan.SpanId));
        Assert.Equal("router echo egress", childSpan.Name);
        Assert.Equal("echo", Attribute(childSpan.Attributes, "upstream_cluster"));
        // 4xx is an error for a client span only.
        Assert.Equal(Status.Types.StatusCode.Error, childSpan.Status.Code);

        Assert.Equal(2, tracer.Counter("spans_sent"));
        Assert.Equal(1, tracer.Counter("timer_flushed"));
    }

    [Fact]
    public async Task GrpcExport_ThroughClusterClient_DecodedAsSent()
    {
        await using var receiver = await OtlpReceiver.StartGrpcAsync();
        var clusters = new List<LoopbackCluster>();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Grpc(), LoopbackCluster.For(receiver.Port, created: clusters.Add));
        var start = tracer.Time.GetUtcNow();

        var span = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, direction: SpanDirection.Egress, operation: "egress"));
        span.SetTag("grpc.status_code", "14");
        span.Finish(start.AddMilliseconds(3));
        tracer.FireFlushTimer();
        var export = await receiver.NextAsync();

        Assert.Equal(("POST", "/opentelemetry.proto.collector.trace.v1.TraceService/Export", "HTTP/2"), (export.Method, export.Path, export.Protocol));
        Assert.Equal("application/grpc", export.ContentType);
        Assert.Equal("collector.example", export.Host);
        Assert.Equal("blue", export.Headers["x-tenant"]);
        var decoded = Assert.Single(export.Spans);
        Assert.Equal(span.TraceId, Hex(decoded.TraceId));
        Assert.Equal(span.SpanId, Hex(decoded.SpanId));
        Assert.True(decoded.ParentSpanId.IsEmpty);
        Assert.Equal(Span.Types.SpanKind.Client, decoded.Kind);
        Assert.Equal(Status.Types.StatusCode.Error, decoded.Status.Code);
        Assert.Equal("14", Attribute(decoded.Attributes, "grpc.status_code"));
        Assert.True(Assert.Single(clusters).Requests >= 1);
        Assert.Equal(1, tracer.Counter("spans_sent"));
    }

    [Fact]
    public async Task StartSpan_NoContext_NewTraceSampledByDecision()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port), LoopbackCluster.For(receiver.Port));
        var start = tracer.Time.GetUtcNow();

        var traced = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: true));
        var untraced = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: false));
        var unsampledParent = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: true, traceParent: "00-" + IncomingTraceId + "-" + IncomingSpanId + "-00"));

        Assert.True(traced.Sampled);
        Assert.False(untraced.Sampled);
        Assert.Null(((OpenTelemetrySpan)untraced).Activity);
        // With a context, its sampled flag decides, not the connection manager (Envoy's tracer.cc).
        Assert.False(unsampledParent.Sampled);
        Assert.Equal(IncomingTraceId, unsampledParent.TraceId);
        Assert.Equal(32, traced.TraceId.Length);
        Assert.NotEqual(traced.TraceId, untraced.TraceId);
        var child = untraced.SpawnChild("child", start);
        Assert.False(child.Sampled);
        Assert.Equal(untraced.TraceId, child.TraceId);

        untraced.Finish(start.AddMilliseconds(1));
        child.Finish(start.AddMilliseconds(1));
        unsampledParent.Finish(start.AddMilliseconds(1));
        traced.Finish(start.AddMilliseconds(1));
        tracer.FireFlushTimer();
        var export = await receiver.NextAsync();
        Assert.Equal(traced.SpanId, Hex(Assert.Single(export.Spans).SpanId));
        Assert.Equal(1, tracer.Counter("spans_sent"));
    }

    [Fact]
    public async Task SetSampled_FalseAfterStart_NotExported()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port), LoopbackCluster.For(receiver.Port));
        var start = tracer.Time.GetUtcNow();
        var dropped = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start));
        dropped.SetSampled(false);
        dropped.Finish(start.AddMilliseconds(1));
        var kept = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: false));
        kept.SetSampled(true);
        kept.Finish(start.AddMilliseconds(1));

        tracer.FireFlushTimer();
        var export = await receiver.NextAsync();
        Assert.Equal(kept.SpanId, Hex(Assert.Single(export.Spans).SpanId));
    }

    [Fact]
    public async Task StartSpan_MalformedTraceParent_NullSpan()
    {
        await using var tracer = OpenTelemetryTestConfigs.Create("service_name: x", _ => throw new InvalidOperationException("no collector"));
        Assert.Equal(
            ["tracing.opentelemetry.spans_dropped", "tracing.opentelemetry.spans_sent", "tracing.opentelemetry.timer_flushed"],
            tracer.Stats.Counters.Select(c => c.Name).Order(StringComparer.Ordinal));
        var start = tracer.Time.GetUtcNow();
        Assert.Same(NullSpan.Instance, tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: "00-" + IncomingTraceId + "-" + IncomingSpanId)));
        Assert.Same(NullSpan.Instance, tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: "")));
    }

    [Fact]
    public async Task InjectContext_IncomingCopies_ReplacedByOwnContext()
    {
        await using var tracer = OpenTelemetryTestConfigs.Create("service_name: x", _ => throw new InvalidOperationException("no collector"));
        var start = tracer.Time.GetUtcNow();
        var span = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: IncomingTraceParent, traceState: "vendor=a"));
        using var request = new HttpRequestMessage();
        request.Headers.TryAddWithoutValidation("traceparent", IncomingTraceParent);
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=a");

        span.InjectContext(request.Headers);

        Assert.Equal("00-" + IncomingTraceId + "-" + span.SpanId + "-01", Assert.Single(request.Headers.GetValues("traceparent")));
        Assert.Equal("vendor=a", Assert.Single(request.Headers.GetValues("tracestate")));

        var unsampled = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: false));
        var headers = new HttpRequestMessage().Headers;
        unsampled.InjectContext(headers);
        Assert.Equal("00-" + unsampled.TraceId + "-" + unsampled.SpanId + "-00", Assert.Single(headers.GetValues("traceparent")));
        Assert.Equal(string.Empty, Assert.Single(headers.GetValues("tracestate")));
    }

    [Fact]
    public async Task Export_MinFlushSpans_FlushesWithoutTimer()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port), LoopbackCluster.For(receiver.Port));
        var start = tracer.Time.GetUtcNow();
        for (var i = 0; i < SpanBuffer.MinFlushSpans; i++)
        {
            tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, operation: "op" + i)).Finish(start.AddMilliseconds(1));
        }
        var export = await receiver.NextAsync();
        Assert.Equal(SpanBuffer.MinFlushSpans, export.Spans.Count);
        Assert.Equal(0, tracer.Counter("timer_flushed"));
        Assert.Equal(SpanBuffer.MinFlushSpans, tracer.Counter("spans_sent"));
    }

    [Fact]
    public async Task Export_BeyondMaxCacheSize_DroppedAndCounted()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port, "max_cache_size: 2"), LoopbackCluster.For(receiver.Port));
        var start = tracer.Time.GetUtcNow();
        for (var i = 0; i < 3; i++)
        {
            tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start)).Finish(start.AddMilliseconds(1));
        }
        Assert.Equal(1, tracer.Counter("spans_dropped"));
        var export = await receiver.NextAsync();
        Assert.Equal(2, export.Spans.Count);
    }

    [Fact]
    public async Task Export_DeadCollector_NoErrorNothingBlocks()
    {
        // A port that was just free: nothing listens there.
        int port;
        await using (var closed = await OtlpReceiver.StartHttpAsync())
        {
            port = closed.Port;
        }
        var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(port), LoopbackCluster.For(port));
        var start = tracer.Time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            var span = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start));
            span.SetTag("http.status_code", "200");
            span.InjectContext(new HttpRequestMessage().Headers);
            span.Finish(start.AddMilliseconds(1));
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"finishing spans took {watch.Elapsed}");
        await tracer.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(OpenTelemetryTracer.ShutdownTimeoutMilliseconds + 2000), $"disposing took {watch.Elapsed}");
        Assert.Equal(20, tracer.Counter("spans_sent"));
    }

    [Fact]
    public async Task Export_HungCollector_SpansPileUpToCacheThenDropNothingBlocks()
    {
        await using var collector = await HungCollector.StartAsync();
        var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(collector.Port, "max_cache_size: 6"), LoopbackCluster.For(collector.Port));
        var start = tracer.Time.GetUtcNow();
        for (var i = 0; i < SpanBuffer.MinFlushSpans; i++)
        {
            tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start)).Finish(start.AddMilliseconds(1));
        }
        // The first batch is stuck at the collector; the next spans wait in the cache, and beyond it are dropped.
        await collector.FirstRequest.WaitAsync(TimeSpan.FromSeconds(15));
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start)).Finish(start.AddMilliseconds(1));
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"finishing spans took {watch.Elapsed}");
        Assert.Equal(SpanBuffer.MinFlushSpans, tracer.Counter("spans_sent"));
        Assert.True(tracer.Counter("spans_dropped") >= 4, $"{tracer.Counter("spans_dropped")} dropped");

        await tracer.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(OpenTelemetryTracer.ShutdownTimeoutMilliseconds + 3000), $"disposing took {watch.Elapsed}");
    }

    [Fact]
    public async Task DisposeAsync_BufferedSpans_FlushedBeforeShutdown()
    {
        await using var receiver = await OtlpReceiver.StartHttpAsync();
        var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(receiver.Port), LoopbackCluster.For(receiver.Port));
        var start = tracer.Time.GetUtcNow();
        var span = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start));
        span.Finish(start.AddMilliseconds(1));
        Assert.True(tracer.Tracer.Buffer!.IsRunning);
        await tracer.DisposeAsync();
        Assert.Equal(span.SpanId, Hex(Assert.Single(Assert.Single(receiver.All).Spans).SpanId));
        // A replaced configuration's tracer leaves nothing running.
        Assert.False(tracer.Tracer.Buffer.IsRunning);
        Assert.False(tracer.Tracer.Source.HasListeners());
        await tracer.DisposeAsync();
    }

    [Fact]
    public async Task Export_TwoTracers_EachSendsOnlyItsOwnSpans()
    {
        await using var first = await OtlpReceiver.StartHttpAsync();
        await using var second = await OtlpReceiver.StartHttpAsync();
        await using var a = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(first.Port), LoopbackCluster.For(first.Port));
        await using var b = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Http(second.Port), LoopbackCluster.For(second.Port));
        var start = a.Time.GetUtcNow();
        var spanA = a.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, operation: "a"));
        spanA.Finish(start.AddMilliseconds(1));
        var spanB = b.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, operation: "b"));
        spanB.Finish(start.AddMilliseconds(1));

        a.FireFlushTimer();
        b.FireFlushTimer();
        Assert.Equal("a", Assert.Single((await first.NextAsync()).Spans).Name);
        Assert.Equal("b", Assert.Single((await second.NextAsync()).Spans).Name);
    }

    [Fact]
    public async Task StartSpan_AppListener_SeesGatewaySpansWithoutChangingCurrent()
    {
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Grpc(), LoopbackCluster.For(1));
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == OpenTelemetryTracer.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (ReferenceEquals(activity.Source, tracer.Tracer.Source))
                {
                    lock (stopped)
                    {
                        stopped.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var appActivity = new Activity("app request").Start();
        var start = tracer.Time.GetUtcNow();

        var span = tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: IncomingTraceParent));
        Assert.Same(appActivity, Activity.Current);
        span.Finish(start.AddMilliseconds(2));

        Assert.Same(appActivity, Activity.Current);
        var seen = Assert.Single(stopped);
        Assert.Equal(IncomingTraceId, seen.TraceId.ToHexString());
        Assert.Equal(IncomingSpanId, seen.ParentSpanId.ToHexString());
        Assert.Equal(ActivityKind.Server, seen.Kind);
    }

    [Fact]
    public async Task AlwaysOnSampler_UnsampledDecisionAndParent_Sampled()
    {
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Grpc("""
            sampler:
              name: envoy.tracers.opentelemetry.samplers.always_on
              typed_config: { "@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.AlwaysOnSamplerConfig }
            """), LoopbackCluster.For(1));
        var start = tracer.Time.GetUtcNow();
        Assert.True(tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traced: false)).Sampled);
        Assert.True(tracer.Tracer.StartSpan(OpenTelemetryTestConfigs.Start(start, traceParent: "00-" + IncomingTraceId + "-" + IncomingSpanId + "-00")).Sampled);
    }
}
