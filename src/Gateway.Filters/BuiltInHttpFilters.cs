using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Filters;

/// <summary>Registers Envoy's HTTP filters that this package implements (the router is always registered by Gateway.Core).</summary>
public static class BuiltInHttpFilters
{
    /// <summary>The factories, one per filter.</summary>
    public static IReadOnlyList<IHttpFilterFactory> All { get; } =
    [
        new Cors.CorsFilterFactory(),
        new Csrf.CsrfFilterFactory(),
        new Fault.FaultFilterFactory(),
        new HeaderMutation.HeaderMutationFilterFactory(),
        new HeaderToMetadata.HeaderToMetadataFilterFactory(),
        new HealthCheck.HealthCheckFilterFactory(),
        new LocalRateLimit.LocalRateLimitFilterFactory(),
        new SetMetadata.SetMetadataFilterFactory(),
    ];

    /// <summary>Adds every built-in filter to <paramref name="types"/>.</summary>
    public static EnvoyTypeRegistry AddBuiltInHttpFilters(this EnvoyTypeRegistry types)
    {
        ArgumentNullException.ThrowIfNull(types);
        foreach (var factory in All)
        {
            types.AddHttpFilter(factory);
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
        return gateway;
    }
}
