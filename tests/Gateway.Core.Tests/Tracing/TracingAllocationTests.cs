using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Tracing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tracing;

/// <summary>A request a connection manager does not trace costs no allocation in the tracing code.</summary>
public class TracingAllocationTests
{
    [Fact]
    public void StartFinish_NotTracedWithTheNullTracer_AllocatesNothing()
    {
        var plan = new ConnectionManagerTracingPlan(null, TracingSampling.Default with { Random = Gateway.Configuration.Percentage.Never }, [], false, 256, false, false, SpanDirection.Ingress);
        var tracing = new ConnectionManagerTracing(plan, NullTracer.Instance, LocalNode.From(null), new TracingStats(new StatsStore(), "http.p."), new Random(1));
        var context = new DefaultHttpContext();
        context.Request.Headers.Host = "example.com";
        var info = new RequestStreamInfo(context, TimeProvider.System, TimeProvider.System.GetTimestamp());

        var bytes = Allocations.Measure(() =>
        {
            // The decision itself (RequestHeaderMutation) is measured by RequestHeaderMutationTests.
            var decision = new TracingDecision(TraceReason.NotTraceable, false);
            HttpTracing.StartDownstream(tracing, context, info, null, decision);
            HttpTracing.FinishDownstream(tracing, context, info, "/");
        });

        Assert.Equal(0, bytes);
        Assert.Equal(1100, tracing.Stats.NotTraceable.Value);
    }
}
