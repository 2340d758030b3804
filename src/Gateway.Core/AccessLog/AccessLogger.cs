using System.Text;
using Gateway.Configuration;
using Gateway.Formatting;

namespace Gateway.AccessLog;

/// <summary>
/// One compiled access logger of the plan (an <c>access_log</c> entry): its filter, its formatter and where it writes.
/// Immutable, with no reference back into the configuration model.
/// </summary>
/// <param name="Filter">The filter, or null to log every entry.</param>
/// <param name="Format">The validated format, compiled when the logger is built.</param>
/// <param name="Destination">Where the lines go.</param>
/// <param name="Location">Where the logger's destination was configured (for the error when it cannot be opened).</param>
internal sealed record AccessLogPlan(LogFilter? Filter, AccessLogFormat Format, AccessLogDestination Destination, SourceLocation Location);

/// <summary>
/// A running access logger: the plan's filter and formatter over the shared <see cref="AccessLogFile"/>. Logging
/// formats into a per-thread buffer and appends the bytes to the file's buffer; the disk is written by the file's
/// flush task.
/// </summary>
internal sealed class AccessLogger
{
    [ThreadStatic]
    private static StringBuilder? t_builder;

    private readonly LogFilter? _filter;
    private readonly IAccessLogFormatter _formatter;
    private readonly AccessLogFile _file;
    private readonly Random _random;

    public AccessLogger(AccessLogPlan plan, AccessLogFile file, Random random, FormatterOptions options)
    {
        _filter = plan.Filter;
        _formatter = plan.Format.For(options);
        _file = file;
        _random = random;
    }

    /// <summary>
    /// Opens the plan's loggers on <paramref name="manager"/>, their formats on the gateway's clock and random source;
    /// a destination that cannot be opened is a configuration error, as in Envoy.
    /// </summary>
    public static AccessLogger[] Build(IReadOnlyList<AccessLogPlan> plans, AccessLogManager? manager, TimeProvider time, Random random)
    {
        if (plans.Count == 0)
        {
            return [];
        }
        if (manager is null)
        {
            throw new InvalidOperationException("access logs need the gateway's AccessLogManager");
        }
        var loggers = new AccessLogger[plans.Count];
        var options = new FormatterOptions { Time = time, Random = random };
        List<ConfigError>? errors = null;
        for (var i = 0; i < loggers.Length; i++)
        {
            var plan = plans[i];
            try
            {
                loggers[i] = new AccessLogger(plan, manager.GetOrOpen(plan.Destination), random, options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                (errors ??= []).Add(new ConfigError(plan.Location, $"unable to open file '{plan.Destination}': {e.Message}"));
            }
        }
        if (errors is not null)
        {
            throw new EnvoyConfigException(errors);
        }
        return loggers;
    }

    /// <summary>Writes the entry if the filter lets it through.</summary>
    public void Log(in AccessLogContext context)
    {
        if (_filter is not null && !_filter.Evaluate(context, _random))
        {
            return;
        }
        var builder = t_builder ??= new StringBuilder(512);
        builder.Clear();
        _formatter.Format(context, builder);
        _file.Write(builder);
        if (builder.Capacity > 64 * 1024)
        {
            // One huge entry should not pin its buffer on the thread.
            t_builder = null;
        }
    }

    /// <summary>Writes the entry to every logger in <paramref name="loggers"/>.</summary>
    public static void LogAll(AccessLogger[] loggers, in AccessLogContext context)
    {
        foreach (var logger in loggers)
        {
            logger.Log(context);
        }
    }
}
