using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tracing;

/// <summary>The tracing decision, the health check rule, the URL tag and the response flags text, without a server.</summary>
public class HttpTracingUnitTests
{
    private static readonly TracingSampling Half = new(
        TracingSampling.FromPercent(new Percent { Value = 50 }, Percentage.Always),
        TracingSampling.FromPercent(new Percent { Value = 50 }, Percentage.Always),
        Percentage.Always);

    [Theory]
    [InlineData("x-client-trace-id", 4999L, (int)TraceReason.ClientForced)]
    [InlineData("x-envoy-force-trace", 0L, (int)TraceReason.ServiceForced)]
    [InlineData("x-other", 4999L, (int)TraceReason.Sampling)]
    [InlineData("x-other", 5000L, (int)TraceReason.NotTraceable)]
    public void Decide_Headers_GiveEnvoysReason(string header, long draw, int expected)
    {
        var reason = (TraceReason)expected;
        var headers = new HeaderDictionary { [header] = "1" };

        var decision = HttpTracing.Decide(headers, Half, new ScriptedRandom(draw, draw));

        Assert.Equal(new TracingDecision(reason, reason != TraceReason.NotTraceable), decision);
    }

    [Fact]
    public void Decide_ClientOutsideClientSampling_FallsToRandomSampling()
    {
        var headers = new HeaderDictionary { ["x-client-trace-id"] = "c" };

        // client draw 6000 misses 50 %, random draw 10 hits it.
        Assert.Equal(new TracingDecision(TraceReason.Sampling, true), HttpTracing.Decide(headers, Half, new ScriptedRandom(6000, 10)));
    }

    [Fact]
    public void Decide_OverallSampling_CapsEveryReason()
    {
        var sampling = Half with { Overall = Percentage.Never };
        var headers = new HeaderDictionary { ["x-envoy-force-trace"] = "1" };

        Assert.Equal(new TracingDecision(TraceReason.NotTraceable, false), HttpTracing.Decide(headers, sampling, new ScriptedRandom()));
    }

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
