using Gateway.Listeners;

namespace Gateway.Tracing;

/// <summary>
/// The tracing of one connection manager as it runs: its compiled plan, the (shared) tracer of its provider, the local
/// node for the <c>node_id</c>/<c>zone</c> tags, its <c>tracing.*</c> counters and the random source of its sampling.
/// </summary>
internal sealed class ConnectionManagerTracing(ConnectionManagerTracingPlan plan, ITracer tracer, LocalNode node, TracingStats stats, Random random)
{
    public ConnectionManagerTracingPlan Plan { get; } = plan;

    public ITracer Tracer { get; } = tracer;

    public LocalNode Node { get; } = node;

    public TracingStats Stats { get; } = stats;

    public Random Random { get; } = random;

    /// <summary>The gateway's clock (span start and end times).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Whether the router makes a span per upstream request: the router's <c>start_child_span</c> or the connection
    /// manager's <c>spawn_upstream_span</c>.
    /// </summary>
    public bool UpstreamSpans { get; init; }

    /// <summary>The sampling in force on <paramref name="route"/>: the route's <c>tracing</c> replaces the connection manager's.</summary>
    public TracingSampling SamplingFor(RouteRuntime? route) => route?.Plan.Tracing?.Sampling ?? Plan.Sampling;
}

/// <summary>Envoy's NullTracer: a connection manager with <c>tracing</c> but no provider counts decisions and traces nothing.</summary>
internal sealed class NullTracer : ITracer
{
    public static readonly NullTracer Instance = new();

    private NullTracer()
    {
    }

    public ISpan StartSpan(in SpanStart start) => NullSpan.Instance;

    public ValueTask DisposeAsync() => default;
}
