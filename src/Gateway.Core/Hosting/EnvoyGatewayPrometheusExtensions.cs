using Gateway.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Gateway.Hosting;

/// <summary>Publishes the gateway's Envoy stats through prometheus-net, beside the application's own metrics.</summary>
public static class EnvoyGatewayPrometheusExtensions
{
    /// <summary>
    /// Publishes the Envoy stats into <paramref name="registry"/> (prometheus-net's default registry when
    /// null), named as <c>/stats/prometheus</c> names them; serve them with prometheus-net.AspNetCore's
    /// <c>MapMetrics()</c>. Call after <see cref="EnvoyGatewayExtensions.AddEnvoyGateway"/>.
    /// </summary>
    public static IServiceCollection AddEnvoyGatewayPrometheus(this IServiceCollection services, CollectorRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp => new PrometheusNetBridge(sp.GetRequiredService<StatsStore>()));
        services.AddHostedService(sp => new BridgeAttacher(sp.GetRequiredService<PrometheusNetBridge>(), registry ?? Metrics.DefaultRegistry));
        return services;
    }

    private sealed class BridgeAttacher(PrometheusNetBridge bridge, CollectorRegistry registry) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            bridge.Attach(registry);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
