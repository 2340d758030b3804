using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tracing;

/// <summary>The health check rule, the URL tag and the response flags text, without a server (the decision itself: RequestHeaderMutationTests).</summary>
public class HttpTracingUnitTests
{
    [Fact]
    public void FinishDownstream_HealthCheck_DropsTheSpanAndCountsIt()
    {
        var store = new StatsStore();
        var stats = new TracingStats(store, "http.p.");
        var plan = new ConnectionManagerTracingPlan(null, TracingSampling.Default, [], false, 256, false, false, SpanDirection.Ingress);
        var tracer = new RecordingTracer(null);
        var tracing = new ConnectionManagerTracing(plan, tracer, LocalNode.From(null), stats, new Random(1));
        var context = new DefaultHttpContext();
        context.Request.Headers.Host = "h";
        var info = new RequestStreamInfo(context, TimeProvider.System, TimeProvider.System.GetTimestamp());
        HttpTracing.StartDownstream(tracing, context, info, null, new TracingDecision(TraceReason.Sampling, true));
        info.SetHealthCheck();

        HttpTracing.FinishDownstream(tracing, context, info, "/healthz");

        Assert.Single(tracer.Started);
        Assert.Empty(tracer.Finished);
        Assert.Equal(1, store.Counter("http.p.tracing.health_check").Value);
        Assert.Equal(1, store.Counter("http.p.tracing.random_sampling").Value);
    }

    [Fact]
    public void Url_LongPath_IsTruncatedToMaxPathTagLength()
    {
        var headers = new HeaderDictionary { ["x-forwarded-proto"] = "https", ["host"] = "example.com" };

        Assert.Equal("https://example.com/abc", HttpTracing.Url(headers, "/abcdef", 4));
        Assert.Equal("https://example.com/abcdef", HttpTracing.Url(headers, "/abcdef", 256));
    }

    [Theory]
    [InlineData(ResponseFlags.None, "-")]
    [InlineData(ResponseFlags.UpstreamConnectionFailure, "UF")]
    [InlineData(ResponseFlags.UpstreamRetryLimitExceeded | ResponseFlags.NoHealthyUpstream, "UH,URX")]
    [InlineData(ResponseFlags.DropOverload, "DO")]
    public void ShortString_Flags_AreEnvoys(ResponseFlags flags, string text)
        => Assert.Equal(text, ResponseFlagText.ShortString(flags));
}
