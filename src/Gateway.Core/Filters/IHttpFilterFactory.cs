using Gateway.Configuration;

namespace Gateway.Filters;

/// <summary>
/// Creates one kind of HTTP filter, as Envoy's <c>NamedHttpFilterConfigFactory</c> does: it names the filter, the
/// message types of its configuration and of its per-route configuration, checks a configuration when it is
/// loaded, and compiles it once per configuration load into the filter instance every request of a listener
/// uses. Register factories with <c>IEnvoyGatewayBuilder.AddHttpFilter</c> (or <see cref="EnvoyTypeRegistry.AddHttpFilter"/>)
/// before the configuration is loaded. Most factories derive from <see cref="HttpFilterFactory{TConfig}"/>.
/// </summary>
public interface IHttpFilterFactory
{
    /// <summary>The filter's extension name, e.g. <c>envoy.filters.http.cors</c> (what a config without <c>typed_config</c> names).</summary>
    string Name { get; }

    /// <summary>The configuration message: an <see cref="EnvoyMessage"/> with <see cref="EnvoyTypeAttribute"/>, whose full name is the <c>@type</c>.</summary>
    Type ConfigType { get; }

    /// <summary>The per-route configuration message (<c>typed_per_filter_config</c>), or null when the filter has none.</summary>
    Type? RouteConfigType { get; }

    /// <summary>Whether the filter ends the chain (only the router does); a terminal filter must be last.</summary>
    bool IsTerminal => false;

    /// <summary>Reports what is wrong with a configuration (every problem, at its location); called while the configuration loads.</summary>
    void Validate(EnvoyMessage config, HttpFilterValidationContext context);

    /// <summary>Reports what is wrong with a per-route configuration; called while the configuration loads.</summary>
    void ValidateRouteConfig(EnvoyMessage config, HttpFilterValidationContext context);

    /// <summary>Compiles a valid configuration into the filter that serves a listener's requests until the next configuration.</summary>
    IHttpFilter CreateFilter(EnvoyMessage config, HttpFilterFactoryContext context);

    /// <summary>Compiles a valid per-route configuration into the immutable object <see cref="HttpFilterContext.RouteConfig{T}"/> returns.</summary>
    object CreateRouteConfig(EnvoyMessage config, HttpFilterFactoryContext context);

    /// <summary>
    /// What <see cref="HttpFilterContext.RouteConfig{T}"/> returns on a route where several levels configure the filter:
    /// given their compiled configurations, most specific first (route, virtual host, route configuration). The
    /// default is the most specific (Envoy's mostSpecificPerFilterConfig); a filter that reads every level, as
    /// Envoy's CORS filter does through getAllPerFilterConfig, merges them here, once per route at load.
    /// </summary>
    object CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst) => mostSpecificFirst[0];
}

/// <summary>A factory for a filter with a typed configuration and no per-route configuration.</summary>
/// <typeparam name="TConfig">The configuration message.</typeparam>
public abstract class HttpFilterFactory<TConfig> : IHttpFilterFactory
    where TConfig : EnvoyMessage, new()
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type ConfigType => typeof(TConfig);

    /// <inheritdoc />
    public virtual Type? RouteConfigType => null;

    /// <summary>Checks the configuration; the default accepts everything the binder accepted.</summary>
    protected virtual void Validate(TConfig config, HttpFilterValidationContext context)
    {
    }

    /// <summary>Compiles the configuration into the listener's filter.</summary>
    protected abstract IHttpFilter CreateFilter(TConfig config, HttpFilterFactoryContext context);

    /// <summary>Checks a per-route configuration (only called when <see cref="RouteConfigType"/> is set).</summary>
    protected virtual void ValidateRouteConfig(EnvoyMessage config, HttpFilterValidationContext context)
    {
    }

    /// <summary>Compiles a per-route configuration (only called when <see cref="RouteConfigType"/> is set).</summary>
    protected virtual object CreateRouteConfig(EnvoyMessage config, HttpFilterFactoryContext context)
        => throw new NotSupportedException($"{Name} has no per-route configuration.");

    /// <summary>Merges the compiled per-route configurations of several levels, most specific first; the default keeps the most specific.</summary>
    protected virtual object CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst) => mostSpecificFirst[0];

    void IHttpFilterFactory.Validate(EnvoyMessage config, HttpFilterValidationContext context) => Validate((TConfig)config, context);

    void IHttpFilterFactory.ValidateRouteConfig(EnvoyMessage config, HttpFilterValidationContext context) => ValidateRouteConfig(config, context);

    IHttpFilter IHttpFilterFactory.CreateFilter(EnvoyMessage config, HttpFilterFactoryContext context) => CreateFilter((TConfig)config, context);

    object IHttpFilterFactory.CreateRouteConfig(EnvoyMessage config, HttpFilterFactoryContext context) => CreateRouteConfig(config, context);

    object IHttpFilterFactory.CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst) => CombineRouteConfigs(mostSpecificFirst);
}

/// <summary>A factory for a filter with a typed configuration and a typed per-route configuration.</summary>
/// <typeparam name="TConfig">The configuration message.</typeparam>
/// <typeparam name="TRouteConfig">The per-route configuration message.</typeparam>
public abstract class HttpFilterFactory<TConfig, TRouteConfig> : HttpFilterFactory<TConfig>
    where TConfig : EnvoyMessage, new()
    where TRouteConfig : EnvoyMessage, new()
{
    /// <inheritdoc />
    public sealed override Type? RouteConfigType => typeof(TRouteConfig);

    /// <summary>Checks a per-route configuration; the default accepts everything the binder accepted.</summary>
    protected virtual void ValidateRouteConfig(TRouteConfig config, HttpFilterValidationContext context)
    {
    }

    /// <summary>Compiles a per-route configuration into the immutable object the filter reads with <see cref="HttpFilterContext.RouteConfig{T}"/>.</summary>
    protected abstract object CreateRouteConfig(TRouteConfig config, HttpFilterFactoryContext context);

    /// <inheritdoc />
    protected sealed override void ValidateRouteConfig(EnvoyMessage config, HttpFilterValidationContext context) => ValidateRouteConfig((TRouteConfig)config, context);

    /// <inheritdoc />
    protected sealed override object CreateRouteConfig(EnvoyMessage config, HttpFilterFactoryContext context) => CreateRouteConfig((TRouteConfig)config, context);
}
