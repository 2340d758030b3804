using Gateway.Configuration;

namespace Gateway.Tracing;

/// <summary>
/// The tracers built into the gateway (Envoy's <c>envoy.tracers.*</c> extensions). A provider whose
/// <c>typed_config</c> is none of them is refused when the configuration is bound (an unknown <c>@type</c> of the
/// tracer category), naming its path.
/// </summary>
internal static class TracerFactories
{
    /// <summary>The built-in tracer factories: <c>envoy.tracers.zipkin</c> and <c>envoy.tracers.opentelemetry</c>.</summary>
    public static IReadOnlyList<ITracerFactory> BuiltIns { get; } = [Zipkin.ZipkinTracerFactory.Instance, OpenTelemetry.OpenTelemetryTracerFactory.Instance];

    /// <summary>Registers every built-in tracer with <paramref name="registry"/>.</summary>
    public static void AddBuiltIns(EnvoyTypeRegistry registry)
    {
        foreach (var factory in BuiltIns)
        {
            registry.AddTracer(factory);
        }
    }
}
