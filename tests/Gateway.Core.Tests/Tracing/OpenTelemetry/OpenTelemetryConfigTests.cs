using Gateway.Tracing.OpenTelemetry;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>OpenTelemetryConfig: binding, validation (every error, with its path) and the compiled plan.</summary>
public class OpenTelemetryConfigTests
{
    [Fact]
    public void Validate_HttpAndGrpc_NoErrors()
    {
        Assert.Empty(OpenTelemetryTestConfigs.Load(OpenTelemetryTestConfigs.Http(4318)).Errors);
        Assert.Empty(OpenTelemetryTestConfigs.Load(OpenTelemetryTestConfigs.Grpc()).Errors);
        Assert.Empty(OpenTelemetryTestConfigs.Load("service_name: no-collector").Errors);
    }

    [Fact]
    public void Validate_BothServices_EnvoysError()
    {
        var (_, errors) = OpenTelemetryTestConfigs.Load("""
            grpc_service: { envoy_grpc: { cluster_name: otel } }
            http_service: { http_uri: { uri: "http://c/v1/traces", cluster: otel, timeout: 1s } }
            """);
        var error = Assert.Single(errors);
        Assert.Contains("otel.yaml:2:", error);
        Assert.Contains("http_service", error);
        Assert.Contains("cannot have both gRPC and HTTP exporters", error);
    }

    [Fact]
    public void Validate_UnknownClustersMissingFields_AllReportedWithPaths()
    {
        var (_, errors) = OpenTelemetryTestConfigs.Load("""
            http_service:
              http_uri: { uri: "not a uri", cluster: nowhere }
              request_headers_to_add:
              - header: { key: "bad header", value: x }
            """);
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("http_uri.uri", StringComparison.Ordinal) && e.Contains("absolute http", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("http_uri.cluster", StringComparison.Ordinal) && e.Contains("unknown cluster 'nowhere'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("http_uri.timeout", StringComparison.Ordinal) && e.Contains("'timeout' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("header.key", StringComparison.Ordinal) && e.Contains("not a valid header name", StringComparison.Ordinal));

        var grpc = OpenTelemetryTestConfigs.Load("grpc_service: { envoy_grpc: { cluster_name: elsewhere } }").Errors;
        Assert.Contains("Unknown gRPC client cluster 'elsewhere'", Assert.Single(grpc));
    }

    [Theory]
    [InlineData("grpc_service: { google_grpc: { target_uri: x, stat_prefix: y } }", "grpc_service.google_grpc")]
    [InlineData("grpc_service: { envoy_grpc: { cluster_name: otel, skip_envoy_headers: true } }", "envoy_grpc.skip_envoy_headers")]
    [InlineData("set_instrumentation_scope: true", "set_instrumentation_scope")]
    public void Load_NotSupportedField_RefusedNamingPath(string yaml, string path)
    {
        var error = Assert.Single(OpenTelemetryTestConfigs.Load(yaml).Errors);
        Assert.Contains(path, error);
    }

    [Fact]
    public void Validate_SamplerOtherThanAlwaysOn_Refused()
    {
        var (_, errors) = OpenTelemetryTestConfigs.Load("""
            sampler:
              name: envoy.tracers.opentelemetry.samplers.static_config
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig
            """);
        Assert.Contains("Sampler factory not found", Assert.Single(errors));
        Assert.Empty(OpenTelemetryTestConfigs.Load("""
            sampler:
              name: envoy.tracers.opentelemetry.samplers.always_on
              typed_config: { "@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.AlwaysOnSamplerConfig }
            """).Errors);
    }

    [Fact]
    public void Compile_Resource_ServiceNameThenDetectorsInOrder()
    {
        var (config, errors) = OpenTelemetryTestConfigs.Load("""
            resource_detectors:
            - name: envoy.tracers.opentelemetry.resource_detectors.static_config
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig
                attributes: { deployment.environment: staging, team: edge }
            - name: envoy.tracers.opentelemetry.resource_detectors.environment
              typed_config: { "@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig }
            """);
        Assert.Empty(errors);
        var environment = new Dictionary<string, string> { ["OTEL_RESOURCE_ATTRIBUTES"] = "team=core,,broken,a=b=c,region=eu" };
        var plan = new OpenTelemetryTracerFactory(name => environment.GetValueOrDefault(name)).Compile(config, NullLogger.Instance);

        Assert.Equal(
            [("service.name", "unknown_service:envoy"), ("deployment.environment", "staging"), ("team", "core"), ("region", "eu")],
            plan.Resource.Select(a => (a.Key, (string)a.Value)));
        Assert.Null(plan.Exporter);
        Assert.Equal(1024, plan.MaxCacheSize);
        Assert.False(plan.AlwaysOnSampler);
    }

    [Fact]
    public void Compile_Services_ProtocolEndpointAuthorityTimeoutHeaders()
    {
        var factory = new OpenTelemetryTracerFactory(_ => null);
        var http = factory.Compile(OpenTelemetryTestConfigs.Load(OpenTelemetryTestConfigs.Http(4318, "max_cache_size: 7")).Config, NullLogger.Instance);
        Assert.Equal(global::OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf, http.Exporter!.Protocol);
        Assert.Equal("http://collector.example:4318/v1/traces", http.Exporter.Endpoint.ToString());
        Assert.Equal("collector.example:4318", http.Exporter.Authority);
        Assert.Equal(TimeSpan.FromSeconds(2), http.Exporter.Timeout);
        Assert.Equal([new("x-api-key", "se,cret=1")], http.Exporter.Headers);
        Assert.Equal(7, http.MaxCacheSize);
        Assert.Equal("front-proxy", http.Resource[0].Value);

        var grpc = factory.Compile(OpenTelemetryTestConfigs.Load(OpenTelemetryTestConfigs.Grpc()).Config, NullLogger.Instance);
        Assert.Equal(global::OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, grpc.Exporter!.Protocol);
        Assert.Equal("otel", grpc.Exporter.Cluster);
        Assert.Equal("collector.example", grpc.Exporter.Authority);

        var noTimeout = factory.Compile(OpenTelemetryTestConfigs.Load("grpc_service: { envoy_grpc: { cluster_name: otel } }").Config, NullLogger.Instance);
        Assert.Equal(OpenTelemetryTracerFactory.DefaultGrpcTimeout, noTimeout.Exporter!.Timeout);
        Assert.Equal("otel", noTimeout.Exporter.Authority);
    }
}
