using Gateway.Configuration;
using Gateway.Router;

namespace Gateway.Filters;

/// <summary>
/// Envoy's checks of an HTTP filter chain and of <c>typed_per_filter_config</c> (FilterChainHelper::processFilters,
/// PerFilterConfigs): every filter found by its <c>@type</c> (or, without one, its name), the router last and never
/// disabled, each configuration checked by its own factory. Shared by the validator and the translator, which
/// resolves the same way.
/// </summary>
internal static class HttpFilterChainValidator
{
    /// <summary>The factory and configuration of one <c>http_filters</c> entry; null when an optional filter is unknown (skipped).</summary>
    public static IHttpFilterFactory? Resolve(HttpFilter filter, EnvoyTypeRegistry types, out EnvoyMessage? config)
    {
        config = filter.TypedConfig;
        if (config is not null)
        {
            return types.FindHttpFilter(config.GetType());
        }
        if (filter.HasField("typed_config") || filter.Name is null)
        {
            // An is_optional filter whose @type this gateway does not know: the binder dropped it, Envoy skips it.
            return null;
        }
        var factory = types.FindHttpFilterByName(filter.Name);
        if (factory is null && RouterFilterFactory.Names.Contains(filter.Name))
        {
            factory = RouterFilterFactory.Instance;
        }
        if (factory is not null)
        {
            // A filter named without typed_config gets its default configuration (Envoy's empty proto).
            config = (EnvoyMessage)Activator.CreateInstance(factory.ConfigType)!;
            config.Location = filter.Location.Child("typed_config");
        }
        return factory;
    }

    public static void ValidateChain(HttpConnectionManager hcm, EnvoyTypeRegistry types, Action<ConfigError> report)
    {
        // An empty http_filters is valid in Envoy (requests then wait for the stream idle timeout); a
        // non-empty one must end with the router.
        var filters = hcm.HttpFilters;
        for (var i = 0; i < filters.Count; i++)
        {
            var filter = filters[i];
            var isLast = i == filters.Count - 1;
            if (filter.HasBindingError("name"))
            {
                // Reported by the binder; without a name nothing more can be said of the filter.
                continue;
            }
            if (string.IsNullOrEmpty(filter.Name))
            {
                report(new ConfigError(filter.Location, "an HTTP filter needs a 'name'"));
                continue;
            }
            var factory = Resolve(filter, types, out var config);
            if (factory is null && filter.HasBindingError("typed_config"))
            {
                // The binder named the problem (an unknown @type, a typed_config that is not a mapping).
                continue;
            }
            if (factory is null)
            {
                if (!filter.IsOptional)
                {
                    report(new ConfigError(filter.LocationOf("name"),
                        $"Didn't find a registered implementation for name: '{filter.Name}'; the HTTP filters registered are: {string.Join(", ", Names(types))} (mark it is_optional: true to skip it)"));
                }
                else if (isLast)
                {
                    report(new ConfigError(filter.LocationOf("name"), $"non-terminal filter named {filter.Name} is the last filter in a http filter chain; the router (envoy.filters.http.router) must be last"));
                }
                continue;
            }
            var terminal = ReferenceEquals(factory, RouterFilterFactory.Instance);
            if (terminal && !isLast)
            {
                report(new ConfigError(filter.LocationOf("name"), $"terminal filter named {filter.Name} of type {factory.Name} must be the last filter in a http filter chain"));
            }
            if (!terminal && isLast)
            {
                report(new ConfigError(filter.LocationOf("name"), $"non-terminal filter named {filter.Name} of type {factory.Name} is the last filter in a http filter chain; the router (envoy.filters.http.router) must be last"));
            }
            if (terminal && filter.Disabled)
            {
                report(new ConfigError(filter.LocationOf("disabled"), $"the last (terminal) filter ({filter.Name}) in the chain cannot be disabled by default"));
            }
            factory.Validate(config!, new HttpFilterValidationContext(filter.Name, report));
        }
    }

    /// <summary>Checks one level's <c>typed_per_filter_config</c> (route configuration, virtual host or route).</summary>
    public static void ValidatePerFilterConfigs(Dictionary<string, EnvoyMessage> configs, EnvoyMessage owner, EnvoyTypeRegistry types, Action<ConfigError> report)
    {
        foreach (var (name, value) in configs)
        {
            var at = owner.LocationOf("typed_per_filter_config").Child(name);
            EnvoyMessage? config = value;
            if (value is FilterConfig wrapper)
            {
                if (wrapper.Disabled)
                {
                    continue;
                }
                if (wrapper.Config is null)
                {
                    if (!wrapper.HasField("config"))
                    {
                        report(new ConfigError(at, $"Empty route/virtual host per filter configuration for {name} filter"));
                    }
                    continue;
                }
                config = wrapper.Config;
            }
            if (config is EmptyAny)
            {
                continue;
            }
            if (types.FindHttpFilterByRouteConfig(config.GetType()) is not { } factory)
            {
                report(new ConfigError(at, $"The filter {name} doesn't support virtual host or route specific configurations"));
                continue;
            }
            factory.ValidateRouteConfig(config, new HttpFilterValidationContext(name, report));
        }
    }

    /// <summary>The filter checks of every connection manager and route table of a bootstrap.</summary>
    public static List<ConfigError> ValidateAll(Bootstrap bootstrap, EnvoyTypeRegistry types)
    {
        var errors = new List<ConfigError>();
        foreach (var listener in bootstrap.StaticResources?.Listeners ?? [])
        {
            foreach (var chain in listener.FilterChains)
            {
                foreach (var filter in chain.Filters)
                {
                    if (filter.TypedConfig is not HttpConnectionManager hcm)
                    {
                        continue;
                    }
                    ValidateChain(hcm, types, errors.Add);
                    if (hcm.RouteConfig is { } routes)
                    {
                        ValidatePerFilterConfigs(routes.TypedPerFilterConfig, routes, types, errors.Add);
                        foreach (var vhost in routes.VirtualHosts)
                        {
                            ValidatePerFilterConfigs(vhost.TypedPerFilterConfig, vhost, types, errors.Add);
                            foreach (var route in vhost.Routes)
                            {
                                ValidatePerFilterConfigs(route.TypedPerFilterConfig, route, types, errors.Add);
                                foreach (var entry in route.Action?.WeightedClusters?.Clusters ?? [])
                                {
                                    ValidatePerFilterConfigs(entry.TypedPerFilterConfig, entry, types, errors.Add);
                                }
                            }
                        }
                    }
                }
            }
        }
        return errors;
    }

    private static IEnumerable<string> Names(EnvoyTypeRegistry types)
    {
        foreach (var factory in types.HttpFilters)
        {
            yield return factory.Name;
        }
    }
}
