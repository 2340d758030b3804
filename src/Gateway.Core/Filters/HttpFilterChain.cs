using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters;

/// <summary>What compiling a filter chain needs from the host, beyond the plan.</summary>
internal sealed record FilterServices(StatsStore Stats, TimeProvider Time, ILoggerFactory Loggers, IServiceProvider Services, Random Random);

/// <summary>One compiled filter of a chain.</summary>
internal sealed class FilterSlot(string name, IHttpFilter filter, bool disabledByDefault)
{
    public string Name { get; } = name;

    public IHttpFilter Filter { get; } = filter;

    public HttpFilterHooks Hooks { get; } = filter.Hooks;

    public bool DisabledByDefault { get; } = disabledByDefault;
}

/// <summary>
/// One filter's compiled state on one route: enabled or not, its most specific per-route configuration, and every
/// level's (most specific first) for filters that apply them all (header_mutation).
/// </summary>
internal readonly record struct RouteFilterState(bool? Disabled, object? Config, object[]? AllConfigs);

/// <summary>
/// A connection manager's HTTP filters before the router, compiled once per configuration: each filter built by its
/// factory for this listener, plus what the request path needs to skip work (which hooks any filter has).
/// </summary>
internal sealed class HttpFilterChain
{
    public static readonly HttpFilterChain Empty = new([]);

    private HttpFilterChain(FilterSlot[] filters)
    {
        Filters = filters;
        foreach (var slot in filters)
        {
            Hooks |= slot.Hooks;
        }
    }

    public FilterSlot[] Filters { get; }

    /// <summary>The union of every filter's hooks.</summary>
    public HttpFilterHooks Hooks { get; }

    public bool IsEmpty => Filters.Length == 0;

    public static HttpFilterChain Build(ConnectionManagerPlan plan, FilterServices services)
    {
        if (plan.HttpFilters.Count == 0)
        {
            return Empty;
        }
        var statPrefix = StatNames.HttpPrefix(plan.StatPrefix);
        var slots = new FilterSlot[plan.HttpFilters.Count];
        for (var i = 0; i < slots.Length; i++)
        {
            var filter = plan.HttpFilters[i];
            var context = new HttpFilterFactoryContext(filter.Name, statPrefix, services.Stats, services.Time, services.Loggers, services.Services, services.Random);
            slots[i] = new FilterSlot(filter.Name, filter.Factory.CreateFilter(filter.Config, context), filter.Disabled);
        }
        return new HttpFilterChain(slots);
    }

    /// <summary>
    /// Compiles a route's per-filter states; a configuration shared by many routes (a virtual host's) is compiled
    /// once, through <paramref name="compiled"/>.
    /// </summary>
    public RouteFilterState[]? CompileRoute(ConnectionManagerPlan plan, RoutePlan route, FilterServices services, Dictionary<object, object> compiled)
    {
        if (route.FilterConfigs is not { } configs)
        {
            return null;
        }
        var statPrefix = StatNames.HttpPrefix(plan.StatPrefix);
        var states = new RouteFilterState[configs.Count];
        for (var i = 0; i < states.Length; i++)
        {
            var config = configs[i];
            object? routeConfig = null;
            object[]? all = null;
            if (config.AllConfigs is { Count: > 0 } levels)
            {
                all = new object[levels.Count];
                for (var level = 0; level < all.Length; level++)
                {
                    all[level] = Compile(levels[level], plan.HttpFilters[i], statPrefix, services, compiled);
                }
                // The most specific level is the first: the same compiled object RouteConfig<T>() returns.
                routeConfig = all[0];
            }
            else if (config.Config is { } message)
            {
                routeConfig = Compile(message, plan.HttpFilters[i], statPrefix, services, compiled);
            }
            states[i] = new RouteFilterState(config.Disabled, routeConfig, all);
        }
        return states;
    }

    private static object Compile(EnvoyMessage message, HttpFilterPlan filter, string statPrefix, FilterServices services, Dictionary<object, object> compiled)
    {
        if (!compiled.TryGetValue(message, out var routeConfig))
        {
            var context = new HttpFilterFactoryContext(filter.Name, statPrefix, services.Stats, services.Time, services.Loggers, services.Services, services.Random);
            routeConfig = filter.Factory.CreateRouteConfig(message, context);
            compiled[message] = routeConfig;
        }
        return routeConfig;
    }
}
