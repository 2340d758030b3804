namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>What a request the OpenTelemetry tracer does not sample costs: no activity, no export, one small object.</summary>
public class OpenTelemetrySpanAllocationTests
{
    [Fact]
    public async Task StartSpan_Unsampled_NoActivityFewBytes()
    {
        await using var tracer = OpenTelemetryTestConfigs.Create(OpenTelemetryTestConfigs.Grpc(), LoopbackCluster.For(1));
        var start = OpenTelemetryTestConfigs.Start(tracer.Time.GetUtcNow(), traced: false);
        var end = start.StartTime.AddMilliseconds(1);

        var bytes = Allocations.Measure(() =>
        {
            var span = tracer.Tracer.StartSpan(start);
            span.SetTag("http.status_code", "200");
            span.SetOperation("ingress");
            span.Finish(end);
        });

        Assert.True(bytes / 1000 <= 160, $"{bytes / 1000} bytes per unsampled span");
        Assert.Equal(0, tracer.Tracer.Buffer!.PendingCount);
    }
}
