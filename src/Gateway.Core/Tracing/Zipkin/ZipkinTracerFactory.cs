using Gateway.Configuration;
using Gateway.Validation;

namespace Gateway.Tracing.Zipkin;

/// <summary>The <c>envoy.tracers.zipkin</c> provider: validates a <see cref="ZipkinConfig"/> with Envoy's messages and builds its tracer.</summary>
internal sealed class ZipkinTracerFactory : ITracerFactory
{
    public static readonly ZipkinTracerFactory Instance = new();

    private ZipkinTracerFactory()
    {
    }

    public string Name => "envoy.tracers.zipkin";

    public Type ConfigType => typeof(ZipkinConfig);

    public void Validate(EnvoyMessage config, ValidationContext context)
    {
        var zipkin = (ZipkinConfig)config;
        if (string.IsNullOrEmpty(zipkin.CollectorCluster))
        {
            context.Error(zipkin, "collector_cluster", "Either collector_cluster or collector_service must be specified");
        }
        else if (!context.ClusterNames.Contains(zipkin.CollectorCluster) && context.ClusterNamesComplete)
        {
            // Config::Utility::checkCluster's message.
            context.Error(zipkin, "collector_cluster", $"envoy.tracers.zipkin: unknown cluster '{zipkin.CollectorCluster}'");
        }
        if (!string.IsNullOrEmpty(zipkin.CollectorCluster) && string.IsNullOrEmpty(zipkin.CollectorEndpoint))
        {
            context.Error(zipkin, "collector_endpoint", "collector_endpoint must be specified when using collector_cluster");
        }
        switch (zipkin.CollectorEndpointVersion)
        {
            case ZipkinCollectorEndpointVersion.DeprecatedAndUnavailableDoNotUse:
                // Unset is the proto default, the removed v1 format: Envoy's SpanBuffer refuses it with this message.
                context.Error(zipkin, "collector_endpoint_version",
                    "hidden_envoy_deprecated_HTTP_JSON_V1 has been deprecated. Please use a non-default "
                    + "envoy::config::trace::v3::ZipkinConfig::CollectorEndpointVersion value.");
                break;
            case ZipkinCollectorEndpointVersion.Grpc:
                // Envoy marks it not implemented (and would abort on it): refused here, with the alternatives.
                context.Error(zipkin, "collector_endpoint_version", "collector_endpoint_version GRPC is not implemented; use HTTP_JSON or HTTP_PROTO");
                break;
        }
    }

    public ITracer Create(EnvoyMessage config, TracerContext context)
    {
        var zipkin = (ZipkinConfig)config;
        var cluster = zipkin.CollectorCluster ?? string.Empty;
        var settings = new ZipkinSettings(
            CollectorCluster: cluster,
            CollectorHostname: string.IsNullOrEmpty(zipkin.CollectorHostname) ? cluster : zipkin.CollectorHostname,
            CollectorEndpoint: zipkin.CollectorEndpoint ?? string.Empty,
            Proto: zipkin.CollectorEndpointVersion == ZipkinCollectorEndpointVersion.HttpProto,
            TraceId128Bit: zipkin.TraceId128Bit,
            SharedSpanContext: zipkin.SharedSpanContext ?? true,
            SplitSpansForRequest: zipkin.SplitSpansForRequest,
            W3CPropagation: zipkin.TraceContextOption == ZipkinTraceContextOption.UseB3WithW3cPropagation);
        return new ZipkinTracer(settings, context);
    }
}
