using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tests.Tracing.Zipkin.Proto;
using Gateway.Tracing.Zipkin;

namespace Gateway.Tests.Tracing.Zipkin;

/// <summary>Reports to a real collector on loopback: batching by count and by timer, both encodings, failures counted.</summary>
public class ZipkinReporterTests
{
    // The test's own reading of Zipkin v2 JSON, independent of the encoder.
    private sealed record JsonEndpoint(string? ServiceName, string? Ipv4, int? Port);

    private sealed record JsonAnnotation(long Timestamp, string Value);

    private sealed record JsonSpan(
        string TraceId, string? ParentId, string Id, string? Kind, string? Name, long Timestamp, long? Duration,
        JsonEndpoint? LocalEndpoint, List<JsonAnnotation>? Annotations, Dictionary<string, string>? Tags, bool? Shared, bool? Debug);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Report_FiveSpans_OneJsonPostWithIdsKindsTimesTagsAndAnnotations()
    {
        await using var collector = await ZipkinCollector.StartAsync();
        await using var harness = new ZipkinHarness(new ScriptedIds(1, 2, 3, 4, 5), IPAddress.Parse("10.0.0.5"));
        harness.AddCluster("zipkin", collector.Port);
        var tracer = harness.Create(new ZipkinConfig { CollectorHostname = "collector.example", SharedSpanContext = true, SplitSpansForRequest = true });

        var server = tracer.StartSpan(Spans.Ingress(Spans.Headers(("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"), ("x-b3-spanid", "e457b5a2e4d86bd1"), ("x-b3-parentspanid", "05e3ac9a4f6e3b90"))));
        server.SetOperation("ingress");
        server.SetTag("http.method", "GET");
        server.SetTag("http.status_code", "500");
        server.SetTag("http.status_code", "200");
        server.SetTag("empty", "");
        server.Log(Spans.Start.AddMilliseconds(1), "first byte");
        var client = server.SpawnChild("egress", Spans.Start.AddMilliseconds(1));
        client.Finish(Spans.Start.AddMilliseconds(9));
        server.Finish(Spans.Start.AddMilliseconds(10));
        Assert.Null(collector.TryNext(out _) ? "sent too early" : null);
        for (var i = 0; i < 3; i++)
        {
            tracer.StartSpan(Spans.Egress()).Finish(Spans.Start.AddMilliseconds(2));
        }

        var report = await collector.NextAsync();

        Assert.Equal("/api/v2/spans", report.Path);
        Assert.Equal("collector.example", report.Host);
        Assert.Equal("application/json", report.ContentType);
        var spans = JsonSerializer.Deserialize<List<JsonSpan>>(report.Body, Web)!;
        Assert.Equal(5, spans.Count);
        var c = spans[0];
        Assert.Equal("80f198ee56343ba864fe8b2a57d3eff7", c.TraceId);
        Assert.Equal("CLIENT", c.Kind);
        Assert.Equal("0000000000000001", c.Id);
        Assert.Equal("e457b5a2e4d86bd1", c.ParentId);
        Assert.Equal(8000, c.Duration);
        Assert.Null(c.Shared);
        Assert.Equal("cr", Assert.Single(c.Annotations!).Value);
        var s = spans[1];
        Assert.Equal("SERVER", s.Kind);
        Assert.Equal("e457b5a2e4d86bd1", s.Id);
        Assert.Equal("05e3ac9a4f6e3b90", s.ParentId);
        Assert.Equal("ingress", s.Name);
        Assert.Equal(ZipkinTracer.ToMicros(Spans.Start), s.Timestamp);
        Assert.Equal(10000, s.Duration);
        Assert.True(s.Shared);
        Assert.Equal(new JsonEndpoint("front-proxy", "10.0.0.5", 0), s.LocalEndpoint);
        Assert.Equal(new Dictionary<string, string> { ["http.method"] = "GET", ["http.status_code"] = "200" }, s.Tags);
        Assert.Equal([new JsonAnnotation(ZipkinTracer.ToMicros(Spans.Start) + 1000, "first byte"), new JsonAnnotation(ZipkinTracer.ToMicros(Spans.Start) + 10000, "ss")], s.Annotations);
        Assert.Equal("0000000000000002", spans[2].TraceId);
        Assert.Null(spans[2].ParentId);

        await WaitForAsync(() => harness.Counter("reports_sent") == 1);
        Assert.Equal(5, harness.Counter("spans_sent"));
        Assert.Equal(0, harness.Counter("timer_flushed"));
    }

    [Fact]
    public async Task Report_HttpProto_ListOfSpansDecodedByGoogleProtobuf()
    {
        await using var collector = await ZipkinCollector.StartAsync();
        await using var harness = new ZipkinHarness(new ScriptedIds(0x1111, 0x2222, 3, 4, 5, 6, 7, 8, 9, 10), IPAddress.Parse("10.0.0.5"));
        harness.AddCluster("zipkin", collector.Port);
        var tracer = harness.Create(new ZipkinConfig { CollectorEndpointVersion = ZipkinCollectorEndpointVersion.HttpProto, TraceId128Bit = true, SplitSpansForRequest = true });

        var server = tracer.StartSpan(Spans.Ingress(Spans.Headers(("x-b3-flags", "1"))));
        server.SetTag("component", "proxy");
        server.Log(Spans.Start.AddMilliseconds(1), "ä event");
        server.Finish(Spans.Start.AddMilliseconds(2));
        for (var i = 0; i < 4; i++)
        {
            tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start.AddMilliseconds(2));
        }

        var report = await collector.NextAsync();

        Assert.Equal("application/x-protobuf", report.ContentType);
        var list = ListOfSpans.Parser.ParseFrom(report.Body);
        Assert.Equal(5, list.Spans.Count);
        var span = list.Spans[0];
        Assert.Equal([0, 0, 0, 0, 0, 0, 0x22, 0x22, 0, 0, 0, 0, 0, 0, 0x11, 0x11], span.TraceId.ToByteArray());
        Assert.Equal([0, 0, 0, 0, 0, 0, 0x11, 0x11], span.Id.ToByteArray());
        Assert.True(span.ParentId.IsEmpty);
        Assert.Equal(Span.Types.Kind.Server, span.Kind);
        Assert.Equal("example.com", span.Name);
        Assert.Equal((ulong)ZipkinTracer.ToMicros(Spans.Start), span.Timestamp);
        Assert.Equal(2000UL, span.Duration);
        Assert.Equal("front-proxy", span.LocalEndpoint.ServiceName);
        Assert.Equal([10, 0, 0, 5], span.LocalEndpoint.Ipv4.ToByteArray());
        Assert.Equal("proxy", span.Tags["component"]);
        Assert.Equal(["ä event", "ss"], span.Annotations.Select(a => a.Value));
        Assert.True(span.Shared);
        Assert.True(span.Debug);
    }

    [Fact]
    public async Task Timer_FewerSpansThanABatch_SentWhenTheFlushIntervalPasses()
    {
        await using var collector = await ZipkinCollector.StartAsync();
        await using var harness = new ZipkinHarness(new ScriptedIds(1, 2));
        harness.AddCluster("zipkin", collector.Port);
        var tracer = harness.Create(new ZipkinConfig());
        tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start.AddMilliseconds(1));
        tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start.AddMilliseconds(1));

        harness.Time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.Equal(2, tracer.Reporter.PendingSpans);
        harness.Time.Advance(TimeSpan.FromMilliseconds(1));

        var report = await collector.NextAsync();
        Assert.Equal(2, JsonSerializer.Deserialize<List<JsonSpan>>(report.Body, Web)!.Count);
        Assert.Equal(1, harness.Counter("timer_flushed"));
        harness.Time.Advance(TimeSpan.FromMilliseconds(5000));
        Assert.Equal(2, harness.Counter("timer_flushed"));
        Assert.Equal(2, harness.Counter("spans_sent"));
    }

    [Fact]
    public async Task Report_DeadCollector_NoExceptionSpansCountedAsFailedReports()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(1, 2, 3, 4, 5));
        harness.AddCluster("zipkin", ClosedPort());
        var tracer = harness.Create(new ZipkinConfig());

        for (var i = 0; i < 5; i++)
        {
            tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start);
        }

        await WaitForAsync(() => harness.Counter("reports_failed") == 1);
        Assert.Equal(5, harness.Counter("spans_sent"));
        Assert.Equal(0, harness.Counter("reports_sent"));
        Assert.Equal(0, tracer.Reporter.PendingSpans);
    }

    [Fact]
    public async Task Report_CollectorAnswersNot202_CountedAsDropped()
    {
        await using var collector = await ZipkinCollector.StartAsync();
        collector.Status = 503;
        await using var harness = new ZipkinHarness(new ScriptedIds(1, 2, 3, 4, 5));
        harness.AddCluster("zipkin", collector.Port);
        var tracer = harness.Create(new ZipkinConfig());

        for (var i = 0; i < 5; i++)
        {
            tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start);
        }

        await collector.NextAsync();
        await WaitForAsync(() => harness.Counter("reports_dropped") == 1);
        Assert.Equal(0, harness.Counter("reports_sent"));
    }

    [Fact]
    public async Task Report_NoSuchCluster_SkippedAndCounted()
    {
        await using var harness = new ZipkinHarness(new ScriptedIds(1, 2, 3, 4, 5));
        var tracer = harness.Create(new ZipkinConfig { CollectorCluster = "missing" });

        for (var i = 0; i < 5; i++)
        {
            tracer.StartSpan(Spans.Ingress()).Finish(Spans.Start);
        }

        Assert.Equal(1, harness.Counter("reports_skipped_no_cluster"));
        Assert.Equal(5, harness.Counter("spans_sent"));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // Bounded: the report's outcome is counted on a pool thread just after the collector answers.
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }
        Assert.True(condition());
    }
}
