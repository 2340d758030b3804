using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters;

/// <summary>What compiling a filter chain needs from the host, beyond the plan.</summary>
internal sealed record FilterServices(StatsStore Stats, TimeProvider Time, ILoggerFactory Loggers, IServiceProvider Services, Random Random)
{
    /// <summary>What one filter of a connection manager is compiled with.</summary>
    public HttpFilterFactoryContext ContextFor(string filterName, string statPrefix)
        => new(filterName, statPrefix, Stats, Time, Loggers, Services, Random);
}

/// <summary>One compiled filter of a chain.</summary>
internal sealed class FilterSlot(string name, IHttpFilter filter, bool disabledByDefault)
{
    public string Name { get; } = name;

    public IHttpFilter Filter { get; } = filter;

    public HttpFilterHooks Hooks { get; } = filter.Hooks;

    public bool DisabledByDefault { get; } = disabledByDefault;
}

/// <summary>One filter's compiled state on one route: enabled or not, and its per-route configuration.</summary>
internal readonly record struct RouteFilterState(bool? Disabled, object? Config);

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
            var context = services.ContextFor(filter.Name, statPrefix);
            slots[i] = new FilterSlot(filter.Name, filter.Factory.CreateFilter(filter.Config, context), filter.Disabled);
        }
        return new HttpFilterChain(slots);
    }

    /// <summary>
    /// Compiles a route's (or weighted cluster entry's) per-filter states; a configuration shared by many routes (a virtual host's) is compiled
    /// once, through <paramref name="compiled"/>.
    /// </summary>
    public RouteFilterState[]? CompileRoute(ConnectionManagerPlan plan, IReadOnlyList<PerFilterConfigPlan>? filterConfigs, FilterServices services, Dictionary<object, object> compiled)
    {
        if (filterConfigs is not { } configs)
        {
            return null;
        }
        var statPrefix = StatNames.HttpPrefix(plan.StatPrefix);
        var states = new RouteFilterState[configs.Count];
        for (var i = 0; i < states.Length; i++)
        {
            var config = configs[i];
            object? routeConfig = null;
            if (config.Config is not null)
            {
                var filter = plan.HttpFilters[i];
                var levels = config.Configs.Count > 0 ? config.Configs : [config.Config];
                var levelConfigs = new object[levels.Count];
                for (var level = 0; level < levels.Count; level++)
                {
                    var message = levels[level];
                    if (!compiled.TryGetValue(message, out var levelConfig))
                    {
                        var context = services.ContextFor(filter.Name, statPrefix);
                        levelConfig = filter.Factory.CreateRouteConfig(message, context);
                        compiled[message] = levelConfig;
                    }
                    levelConfigs[level] = levelConfig;
                }
                routeConfig = levelConfigs.Length == 1 ? levelConfigs[0] : filter.Factory.CombineRouteConfigs(levelConfigs);
            }
            states[i] = new RouteFilterState(config.Disabled, routeConfig);
        }
        return states;
    }
}
