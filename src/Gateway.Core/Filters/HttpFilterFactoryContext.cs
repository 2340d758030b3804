using Gateway.Configuration;
using Gateway.Stats;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters;

/// <summary>What a factory gets when it compiles a filter for one listener's connection manager.</summary>
public sealed class HttpFilterFactoryContext
{
    internal HttpFilterFactoryContext(string filterName, string statPrefix, StatsStore stats, TimeProvider time, ILoggerFactory loggers, IServiceProvider services, Random random)
    {
        FilterName = filterName;
        StatPrefix = statPrefix;
        Stats = new HttpFilterStatsScope(stats, statPrefix);
        TimeProvider = time;
        LoggerFactory = loggers;
        Services = services;
        Random = random;
    }

    /// <summary>The filter's <c>name</c> in <c>http_filters</c> (the key of its <c>typed_per_filter_config</c>).</summary>
    public string FilterName { get; }

    /// <summary>The connection manager's stat prefix with Envoy's scope: <c>http.&lt;stat_prefix&gt;.</c>.</summary>
    public string StatPrefix { get; }

    /// <summary>Stats under <see cref="StatPrefix"/>: fetch every handle here, once, never per request.</summary>
    public HttpFilterStatsScope Stats { get; }

    /// <summary>The gateway's clock (replaceable in tests).</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Loggers; Envoy's filters log under the <c>filter</c> logger (category <c>Gateway.Filters.*</c>).</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The application's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The gateway's random source (thread-safe; replaceable in tests through a registered <see cref="Random"/>).</summary>
    public Random Random { get; }
}

/// <summary>Counters, gauges and histograms under one prefix.</summary>
public sealed class HttpFilterStatsScope
{
    private readonly StatsStore _store;

    internal HttpFilterStatsScope(StatsStore store, string prefix)
    {
        _store = store;
        Prefix = prefix;
    }

    /// <summary>The prefix, ending in '.'.</summary>
    public string Prefix { get; }

    /// <summary>The counter <c>&lt;prefix&gt;&lt;name&gt;</c>.</summary>
    public Counter Counter(string name) => _store.Counter(Prefix + name);

    /// <summary>The gauge <c>&lt;prefix&gt;&lt;name&gt;</c>.</summary>
    public Gauge Gauge(string name) => _store.Gauge(Prefix + name);

    /// <summary>The histogram <c>&lt;prefix&gt;&lt;name&gt;</c>.</summary>
    public Histogram Histogram(string name) => _store.Histogram(Prefix + name);
}

/// <summary>Where a factory reports problems in a configuration while it loads.</summary>
public sealed class HttpFilterValidationContext
{
    private readonly Action<ConfigError> _report;

    internal HttpFilterValidationContext(string filterName, Action<ConfigError> report)
    {
        FilterName = filterName;
        _report = report;
    }

    /// <summary>The filter's <c>name</c> in <c>http_filters</c>, or the key of the <c>typed_per_filter_config</c> entry.</summary>
    public string FilterName { get; }

    /// <summary>Reports a problem; use <see cref="EnvoyMessage.LocationOf"/> for its location, so it carries file:line:column and the field path.</summary>
    public void Error(SourceLocation location, string message) => _report(new ConfigError(location, message));

    /// <summary>
    /// Reports a problem with one field of <paramref name="owner"/>, at that field; dropped when the binder already
    /// refused the field (a wrong type, a misspelt key it suggested), so one mistake gives one error.
    /// </summary>
    public void Error(EnvoyMessage owner, string field, string message)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!owner.HasBindingError(field))
        {
            _report(new ConfigError(owner.LocationOf(field), message));
        }
    }

    /// <summary>
    /// Reports a problem with a message as a whole (a one-of, a required member), at the message; dropped when the
    /// binder refused any of its fields, since what it was meant to hold is then unknown.
    /// </summary>
    public void Error(EnvoyMessage owner, string message)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!owner.HasBindingErrors)
        {
            _report(new ConfigError(owner.Location, message));
        }
    }
}
