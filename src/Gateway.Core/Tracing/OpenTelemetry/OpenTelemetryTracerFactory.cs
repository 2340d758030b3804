using Gateway.Configuration;
using Gateway.Validation;
using global::OpenTelemetry.Exporter;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// <c>envoy.tracers.opentelemetry</c>: checks an <see cref="OpenTelemetryConfig"/> and builds its
/// <see cref="OpenTelemetryTracer"/>. Its resource detectors and sampler are configured by type
/// (<see cref="ExtensionConfigTypes"/>, to be registered with the type registry beside the tracer).
/// </summary>
internal sealed partial class OpenTelemetryTracerFactory : ITracerFactory
{
    /// <summary>Envoy's default <c>service.name</c>.</summary>
    public const string DefaultServiceName = "unknown_service:envoy";

    /// <summary>Envoy's default <c>max_cache_size</c>.</summary>
    public const int DefaultMaxCacheSize = 1024;

    /// <summary>The path of the OTLP/gRPC export call (opentelemetry-proto collector/trace/v1).</summary>
    public const string GrpcExportPath = "opentelemetry.proto.collector.trace.v1.TraceService/Export";

    /// <summary>The deadline of a gRPC export when <c>grpc_service.timeout</c> is unset (the OpenTelemetry SDK's).</summary>
    public static readonly TimeSpan DefaultGrpcTimeout = TimeSpan.FromSeconds(10);

    private const string EnvironmentVariable = "OTEL_RESOURCE_ATTRIBUTES";
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    private readonly Func<string, string?> _environment;

    /// <param name="environment">Reads an environment variable (the environment resource detector's source).</param>
    internal OpenTelemetryTracerFactory(Func<string, string?> environment) => _environment = environment;

    /// <summary>The factory reading the process environment.</summary>
    public static OpenTelemetryTracerFactory Instance { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>The configuration types of the resource detectors and samplers this tracer knows.</summary>
    public IReadOnlyList<Type> ExtensionConfigTypes { get; } =
        [typeof(EnvironmentResourceDetectorConfig), typeof(StaticConfigResourceDetectorConfig), typeof(AlwaysOnSamplerConfig)];

    /// <inheritdoc />
    public string Name => "envoy.tracers.opentelemetry";

    /// <inheritdoc />
    public Type ConfigType => typeof(OpenTelemetryConfig);

    /// <inheritdoc />
    public void Validate(EnvoyMessage config, ValidationContext context)
    {
        var otel = (OpenTelemetryConfig)config;
        if (otel.GrpcService is not null && otel.HttpService is not null)
        {
            context.Error(otel, "http_service", "OpenTelemetry Tracer cannot have both gRPC and HTTP exporters configured. OpenTelemetry tracer will be disabled.");
        }
        if (otel.GrpcService is { } grpc)
        {
            ValidateGrpc(grpc, context);
        }
        if (otel.HttpService is { } http)
        {
            CollectorHttpService.Validate(http, context, "http_service", requireAbsoluteUri: true, unknownClusterPrefix: string.Empty);
        }
        foreach (var detector in otel.ResourceDetectors)
        {
            if (detector.TypedConfig is null)
            {
                context.Error(detector, "typed_config", "resource detector: 'typed_config' is required");
            }
            else if (detector.TypedConfig is not (EnvironmentResourceDetectorConfig or StaticConfigResourceDetectorConfig))
            {
                context.Error(detector, "typed_config", $"Resource detector factory not found: '{detector.Name}' (only envoy.tracers.opentelemetry.resource_detectors.environment and static_config are supported)");
            }
        }
        if (otel.Sampler is { } sampler)
        {
            if (sampler.TypedConfig is null)
            {
                context.Error(sampler, "typed_config", "sampler: 'typed_config' is required");
            }
            else if (sampler.TypedConfig is not AlwaysOnSamplerConfig)
            {
                context.Error(sampler, "typed_config", $"Sampler factory not found: '{sampler.Name}' (only envoy.tracers.opentelemetry.samplers.always_on is supported)");
            }
        }
    }

    /// <inheritdoc />
    public ITracer Create(EnvoyMessage config, TracerContext context)
    {
        var logger = context.Loggers.CreateLogger("Gateway.Tracing.OpenTelemetry");
        return new OpenTelemetryTracer(Compile((OpenTelemetryConfig)config, logger), context);
    }

    /// <summary>The plan of a validated configuration; the resource detectors run now, as Envoy runs them when the tracer is made.</summary>
    internal OpenTelemetryPlan Compile(OpenTelemetryConfig config, ILogger logger)
    {
        OtlpPlan? exporter = null;
        if (config.GrpcService is { EnvoyGrpc: { } envoyGrpc } grpc)
        {
            var cluster = envoyGrpc.ClusterName!;
            var authority = string.IsNullOrEmpty(envoyGrpc.Authority) ? cluster : envoyGrpc.Authority;
            // The URI's authority is the cluster client's to replace; a name that is not a host still makes a URI.
            var endpoint = Uri.TryCreate("http://" + authority + "/", UriKind.Absolute, out var byAuthority) && byAuthority.AbsolutePath == "/"
                ? byAuthority
                : new Uri("http://localhost/");
            var timeout = grpc.Timeout is { } t && t > TimeSpan.Zero ? Clamp(t) : grpc.Timeout == TimeSpan.Zero ? MaxTimeout : DefaultGrpcTimeout;
            exporter = new OtlpPlan(OtlpExportProtocol.Grpc, cluster, endpoint, authority, timeout, ClusterHandler.HeadersOf(grpc.InitialMetadata));
        }
        else if (config.HttpService is { HttpUri: { } httpUri } http)
        {
            var uri = new Uri(httpUri.Uri!, UriKind.Absolute);
            var timeout = httpUri.Timeout is { } t && t > TimeSpan.Zero ? Clamp(t) : MaxTimeout;
            exporter = new OtlpPlan(OtlpExportProtocol.HttpProtobuf, httpUri.Cluster!, uri, uri.Authority, timeout, CollectorHttpService.Headers(http));
        }

        var resource = new List<KeyValuePair<string, object>>();
        Set(resource, "service.name", string.IsNullOrEmpty(config.ServiceName) ? DefaultServiceName : config.ServiceName);
        foreach (var detector in config.ResourceDetectors)
        {
            switch (detector.TypedConfig)
            {
                case EnvironmentResourceDetectorConfig:
                    DetectEnvironment(resource, logger);
                    break;
                case StaticConfigResourceDetectorConfig staticConfig:
                    foreach (var (key, value) in staticConfig.Attributes)
                    {
                        Set(resource, key, value);
                    }
                    break;
            }
        }
        return new OpenTelemetryPlan(exporter, resource, config.Sampler?.TypedConfig is AlwaysOnSamplerConfig, (int)Math.Min(int.MaxValue, config.MaxCacheSize ?? DefaultMaxCacheSize));
    }

    private static TimeSpan Clamp(TimeSpan timeout) => timeout > MaxTimeout ? MaxTimeout : timeout;

    // Envoy's environment detector: OTEL_RESOURCE_ATTRIBUTES as key=value pairs separated by commas, empty pieces
    // skipped, a pair that is not exactly key=value warned about and ignored; values are taken as written.
    private void DetectEnvironment(List<KeyValuePair<string, object>> resource, ILogger logger)
    {
        var text = _environment(EnvironmentVariable);
        if (string.IsNullOrEmpty(text))
        {
            Log.ResourceDetectorFailed(logger, EnvironmentVariable);
            return;
        }
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                Log.ResourceInvalid(logger, pair);
                continue;
            }
            Set(resource, parts[0], parts[1]);
        }
    }

    // Later detectors replace earlier attributes (the OpenTelemetry resource merge Envoy implements).
    private static void Set(List<KeyValuePair<string, object>> resource, string key, string value)
    {
        for (var i = 0; i < resource.Count; i++)
        {
            if (string.Equals(resource[i].Key, key, StringComparison.Ordinal))
            {
                resource[i] = new(key, value);
                return;
            }
        }
        resource.Add(new(key, value));
    }

    private static void ValidateGrpc(GrpcService grpc, ValidationContext context)
    {
        if (grpc.GoogleGrpc is not null)
        {
            // The gateway's own client reaches a google_grpc target for xDS only.
            context.Error(grpc, "google_grpc", "'google_grpc' is not supported by this gateway for the OpenTelemetry collector: use envoy_grpc");
            return;
        }
        if (grpc.EnvoyGrpc is not { } envoyGrpc)
        {
            context.Error(grpc, "grpc_service: 'envoy_grpc' is required ('google_grpc' is not supported)");
            return;
        }
        if (string.IsNullOrEmpty(envoyGrpc.ClusterName))
        {
            context.Error(envoyGrpc, "cluster_name", "'cluster_name' is required");
        }
        else if (!context.ClusterNames.Contains(envoyGrpc.ClusterName) && context.ClusterNamesComplete)
        {
            context.Error(envoyGrpc, "cluster_name", $"Unknown gRPC client cluster '{envoyGrpc.ClusterName}'");
        }
        if (grpc.Timeout < TimeSpan.Zero)
        {
            context.Error(grpc, "timeout", "'timeout' must not be negative");
        }
        HeaderNames.Validate(grpc.InitialMetadata, context);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.OpenTelemetryResourceDetectorFailed, Level = LogLevel.Warning, Message = "Failed to detect resource attributes from the environment: {Variable} is not set.")]
        public static partial void ResourceDetectorFailed(ILogger logger, string variable);

        [LoggerMessage(EventId = LogEvents.OpenTelemetryResourceInvalid, Level = LogLevel.Warning, Message = "Invalid resource format from the environment, invalid text: {Text}.")]
        public static partial void ResourceInvalid(ILogger logger, string text);
    }
}
