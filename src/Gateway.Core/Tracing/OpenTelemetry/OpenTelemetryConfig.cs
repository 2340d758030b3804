using Gateway.Configuration;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// <c>envoy.config.trace.v3.OpenTelemetryConfig</c> (<c>envoy.tracers.opentelemetry</c>): spans exported as OTLP to a
/// collector over gRPC (<see cref="GrpcService"/>) or HTTP/protobuf (<see cref="HttpService"/>), at most one of them.
/// </summary>
[EnvoyType("envoy.config.trace.v3.OpenTelemetryConfig", NotSupported =
[
    "set_telemetry_sdk_resource_attributes", "set_service_name_resource_attribute", "set_instrumentation_scope", "exporter",
])]
public sealed class OpenTelemetryConfig : EnvoyMessage
{
    /// <summary>The OTLP/gRPC collector (<c>TraceService/Export</c>).</summary>
    [ProtoField(1)]
    public GrpcService? GrpcService { get; set; }

    /// <summary>The resource's <c>service.name</c>; default <c>unknown_service:envoy</c>.</summary>
    [ProtoField(2)]
    public string? ServiceName { get; set; }

    /// <summary>The OTLP/HTTP collector (protobuf body, <c>POST</c> to the URI's path).</summary>
    [ProtoField(3)]
    public HttpService? HttpService { get; set; }

    /// <summary>Resource detectors, applied in order (later attributes replace earlier ones).</summary>
    [ProtoField(4)]
    public List<TypedExtensionConfig> ResourceDetectors { get; set; } = [];

    /// <summary>A sampler replacing the connection manager's decision (only <c>always_on</c> here).</summary>
    [ProtoField(5)]
    public TypedExtensionConfig? Sampler { get; set; }

    /// <summary>Spans held while waiting for the next flush; default 1024, the rest are dropped (<c>spans_dropped</c>).</summary>
    [ProtoField(6)]
    public uint? MaxCacheSize { get; set; }
}

/// <summary>
/// <c>envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig</c>
/// (<c>envoy.tracers.opentelemetry.resource_detectors.environment</c>): attributes from <c>OTEL_RESOURCE_ATTRIBUTES</c>.
/// </summary>
[EnvoyType("envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig")]
public sealed class EnvironmentResourceDetectorConfig : EnvoyMessage;

/// <summary>
/// <c>envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig</c>
/// (<c>envoy.tracers.opentelemetry.resource_detectors.static_config</c>): attributes given in the configuration.
/// </summary>
[EnvoyType("envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig")]
public sealed class StaticConfigResourceDetectorConfig : EnvoyMessage
{
    /// <summary>The resource attributes.</summary>
    [ProtoField(1)]
    public Dictionary<string, string> Attributes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// <c>envoy.extensions.tracers.opentelemetry.samplers.v3.AlwaysOnSamplerConfig</c>
/// (<c>envoy.tracers.opentelemetry.samplers.always_on</c>): every span is sampled, whatever the connection manager decided.
/// </summary>
[EnvoyType("envoy.extensions.tracers.opentelemetry.samplers.v3.AlwaysOnSamplerConfig")]
public sealed class AlwaysOnSamplerConfig : EnvoyMessage;
