using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Filters;

/// <summary>Registers Envoy's HTTP filters that this package implements (the router is always registered by Gateway.Core).</summary>
public static class BuiltInHttpFilters
{
    /// <summary>The factories, one per filter.</summary>
    public static IReadOnlyList<IHttpFilterFactory> All { get; } =
    [
        new Buffer.BufferFilterFactory(),
        new Compression.CompressorFilterFactory(),
        new Cors.CorsFilterFactory(),
        new Csrf.CsrfFilterFactory(),
        new Compression.DecompressorFilterFactory(),
        new Fault.FaultFilterFactory(),
        new GrpcHttp1Bridge.GrpcHttp1BridgeFilterFactory(),
        new GrpcStats.GrpcStatsFilterFactory(),
        new GrpcWeb.GrpcWebFilterFactory(),
        new HeaderMutation.HeaderMutationFilterFactory(),
        new HeaderToMetadata.HeaderToMetadataFilterFactory(),
        new HealthCheck.HealthCheckFilterFactory(),
        new LocalRateLimit.LocalRateLimitFilterFactory(),
        new SetMetadata.SetMetadataFilterFactory(),
    ];

    /// <summary>Extension configurations the filters read inside their own (compressor libraries), registered with them.</summary>
    public static IReadOnlyList<Type> ExtensionTypes { get; } =
    [
        typeof(Compression.BrotliCompressor),
        typeof(Compression.BrotliDecompressor),
        typeof(Compression.GzipCompressor),
        typeof(Compression.GzipDecompressor),
    ];

    /// <summary>Adds every built-in filter to <paramref name="types"/>.</summary>
    public static EnvoyTypeRegistry AddBuiltInHttpFilters(this EnvoyTypeRegistry types)
    {
        ArgumentNullException.ThrowIfNull(types);
        foreach (var factory in All)
        {
            types.AddHttpFilter(factory);
        }
        foreach (var type in ExtensionTypes)
        {
            types.Register(type);
        }
        return types;
    }

    /// <summary>Adds every built-in filter to the gateway.</summary>
    public static IEnvoyGatewayBuilder AddBuiltInHttpFilters(this IEnvoyGatewayBuilder gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        foreach (var factory in All)
        {
            gateway.AddHttpFilter(factory);
        }
        foreach (var type in ExtensionTypes)
        {
            gateway.Types.Register(type);
        }
        return gateway;
    }
}
