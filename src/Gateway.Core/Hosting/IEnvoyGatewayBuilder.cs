using Gateway.Configuration;
using Gateway.Filters;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

/// <summary>
/// What <c>services.AddEnvoyGateway(...)</c> returns: where HTTP filters are registered. The configuration is
/// loaded, checked against the registered filters and translated when the application is built, so filters may be
/// added after <c>AddEnvoyGateway</c> and before <c>Build()</c>.
/// </summary>
public interface IEnvoyGatewayBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The types and HTTP filters the configuration is read with.</summary>
    EnvoyTypeRegistry Types { get; }

    /// <summary>Registers an HTTP filter, so that <c>http_filters</c> and <c>typed_per_filter_config</c> can name it.</summary>
    IEnvoyGatewayBuilder AddHttpFilter(IHttpFilterFactory factory);

    /// <summary>Registers an HTTP filter by its factory type.</summary>
    IEnvoyGatewayBuilder AddHttpFilter<TFactory>() where TFactory : IHttpFilterFactory, new() => AddHttpFilter(new TFactory());
}

/// <summary>The builder; it owns the deferred load of the configuration.</summary>
internal sealed class EnvoyGatewayBuilder(IServiceCollection services, EnvoyTypeRegistry types) : IEnvoyGatewayBuilder
{
    private bool _frozen;

    public IServiceCollection Services { get; } = services;

    public EnvoyTypeRegistry Types { get; } = types;

    public IEnvoyGatewayBuilder AddHttpFilter(IHttpFilterFactory factory)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("The gateway's configuration has been loaded: register HTTP filters before the application is built.");
        }
        Types.AddHttpFilter(factory);
        return this;
    }

    /// <summary>Called when the configuration is loaded: later registrations could not take effect.</summary>
    public void Freeze() => _frozen = true;
}
