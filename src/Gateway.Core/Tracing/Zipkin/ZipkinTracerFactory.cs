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
        if (zipkin.CollectorService is { } service)
        {
            // Envoy's Driver: the service wins and the legacy fields are not read (nor checked).
            CollectorHttpService.Validate(service, context, "collector_service", requireAbsoluteUri: false, unknownClusterPrefix: "envoy.tracers.zipkin: ");
        }
        else if (string.IsNullOrEmpty(zipkin.CollectorCluster))
        {
            context.Error(zipkin, "collector_cluster", "Either collector_cluster or collector_service must be specified");
        }
        else
        {
            if (!context.ClusterNames.Contains(zipkin.CollectorCluster) && context.ClusterNamesComplete)
            {
                // Config::Utility::checkCluster's message.
                context.Error(zipkin, "collector_cluster", $"envoy.tracers.zipkin: unknown cluster '{zipkin.CollectorCluster}'");
            }
            if (string.IsNullOrEmpty(zipkin.CollectorEndpoint))
            {
                context.Error(zipkin, "collector_endpoint", "collector_endpoint must be specified when using collector_cluster");
            }
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
        var (cluster, hostname, endpoint, headers) = Collector(zipkin);
        var settings = new ZipkinSettings(
            CollectorCluster: cluster,
            CollectorHostname: hostname,
            CollectorEndpoint: endpoint,
            Proto: zipkin.CollectorEndpointVersion == ZipkinCollectorEndpointVersion.HttpProto,
            TraceId128Bit: zipkin.TraceId128Bit,
            SharedSpanContext: zipkin.SharedSpanContext ?? true,
            SplitSpansForRequest: zipkin.SplitSpansForRequest,
            W3CPropagation: zipkin.TraceContextOption == ZipkinTraceContextOption.UseB3WithW3cPropagation)
        {
            RequestHeaders = headers,
        };
        return new ZipkinTracer(settings, context);
    }

    /// <summary>
    /// Where reports go (Envoy's Driver): with <c>collector_service</c>, its cluster, the URI's host (else the
    /// cluster's name) and path, and its headers; else <c>collector_cluster</c>, <c>collector_hostname</c> (else the
    /// cluster's name) and <c>collector_endpoint</c>, without headers.
    /// </summary>
    internal static (string Cluster, string Hostname, string Endpoint, IReadOnlyList<KeyValuePair<string, string>> Headers) Collector(ZipkinConfig zipkin)
    {
        if (zipkin.CollectorService is { } service)
        {
            var cluster = service.HttpUri?.Cluster ?? string.Empty;
            var (host, path) = SplitUri(service.HttpUri?.Uri ?? string.Empty);
            return (cluster, host.Length > 0 ? host : cluster, path, CollectorHttpService.Headers(service));
        }
        var legacy = zipkin.CollectorCluster ?? string.Empty;
        return (legacy, string.IsNullOrEmpty(zipkin.CollectorHostname) ? legacy : zipkin.CollectorHostname, zipkin.CollectorEndpoint ?? string.Empty, []);
    }

    /// <summary>
    /// Envoy's parseUri: <c>scheme://host/path</c> gives the host and the path (<c>/</c> when there is none); anything
    /// without <c>://</c> is a path alone (no host).
    /// </summary>
    internal static (string Host, string Path) SplitUri(string uri)
    {
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return (string.Empty, uri);
        }
        var hostStart = scheme + 3;
        var slash = uri.IndexOf('/', hostStart);
        return slash < 0 ? (uri[hostStart..], "/") : (uri[hostStart..slash], uri[slash..]);
    }
}
