using global::OpenTelemetry.Trace;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// The SDK sampler of one tracer's provider. Envoy decides sampling itself (the connection manager's decision, the
/// incoming sampled flag, or the configured sampler) before an activity is created, and creates one only for a
/// sampled span; so this sampler just tells the tracer's own activities (marked, on the creating thread, by
/// <see cref="Creating"/>) from those of other tracers, which every provider listening to the gateway's source
/// name would otherwise record.
/// </summary>
internal sealed class OwnedSampler(object owner) : Sampler
{
    private static readonly SamplingResult Sample = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    /// <summary>The tracer whose activity is being created on this thread (set around <c>CreateActivity</c> only).</summary>
    [ThreadStatic]
    internal static object? Creating;

    /// <inheritdoc />
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        => ReferenceEquals(Creating, owner) ? Sample : Drop;
}
