using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>
/// Log levels per Envoy logger name, the switch behind admin <c>/logging</c>. .NET logging categories map
/// onto Envoy's logger names (<see cref="LoggerFor"/>); once <see cref="EnvoyLoggingExtensions.AddEnvoyLogLevels"/>
/// put the switch into the logging pipeline, a change here changes what is logged from the next call on.
/// </summary>
public sealed class EnvoyLogLevels
{
    /// <summary>The loggers this gateway logs to, in Envoy's registry order (logger.h ALL_LOGGER_IDS).</summary>
    public static IReadOnlyList<string> LoggerNames { get; } = ["admin", "connection", "http", "main", "router", "upstream"];

    /// <summary>Envoy's (spdlog's) level names, lowest first.</summary>
    public static IReadOnlyList<string> LevelNames { get; } = ["trace", "debug", "info", "warning", "error", "critical", "off"];

    private readonly int[] _levels;
    private readonly ConcurrentDictionary<string, int> _loggerOfCategory = new(StringComparer.Ordinal);

    /// <summary>Every logger at <paramref name="initial"/> (Envoy's <c>-l</c>; default <c>info</c>).</summary>
    public EnvoyLogLevels(LogLevel initial = LogLevel.Information)
    {
        _levels = new int[LoggerNames.Count];
        Array.Fill(_levels, (int)initial);
    }

    /// <summary>The level of one logger.</summary>
    public LogLevel LevelOf(string logger)
    {
        var index = IndexOf(logger);
        return index < 0 ? LogLevel.None : (LogLevel)Volatile.Read(ref _levels[index]);
    }

    /// <summary>Sets one logger; false when there is no such logger.</summary>
    public bool TrySet(string logger, LogLevel level)
    {
        var index = IndexOf(logger);
        if (index < 0)
        {
            return false;
        }
        Volatile.Write(ref _levels[index], (int)level);
        return true;
    }

    /// <summary>Sets every logger (<c>/logging?level=</c>).</summary>
    public void SetAll(LogLevel level)
    {
        for (var i = 0; i < _levels.Length; i++)
        {
            Volatile.Write(ref _levels[i], (int)level);
        }
    }

    /// <summary>
    /// Whether a message of <paramref name="level"/> from <paramref name="category"/> is logged: at or above its
    /// logger's level. At info and above, ASP.NET Core's and YARP's own categories need warning, since they
    /// log every request at information where Envoy logs nothing.
    /// </summary>
    public bool IsEnabled(string? category, LogLevel level)
    {
        if (level == LogLevel.None)
        {
            return false;
        }
        category ??= string.Empty;
        var index = _loggerOfCategory.GetOrAdd(category, static c => IndexOf(LoggerFor(c)));
        var threshold = (LogLevel)Volatile.Read(ref _levels[index]);
        if (threshold is >= LogLevel.Information and < LogLevel.None
            && (category.StartsWith("Microsoft", StringComparison.Ordinal) || category.StartsWith("Yarp", StringComparison.Ordinal)))
        {
            threshold = threshold < LogLevel.Warning ? LogLevel.Warning : threshold;
        }
        return level >= threshold;
    }

    /// <summary>The Envoy logger a .NET logging category writes to.</summary>
    public static string LoggerFor(string category) => category switch
    {
        _ when category.StartsWith("Gateway.Admin", StringComparison.Ordinal) => "admin",
        _ when category.StartsWith("Gateway.Clusters", StringComparison.Ordinal) => "upstream",
        _ when category.StartsWith("Gateway.Listeners", StringComparison.Ordinal) => "router",
        _ when category.StartsWith("Gateway.Proxy", StringComparison.Ordinal) => "router",
        _ when category.StartsWith("Yarp", StringComparison.Ordinal) => "router",
        _ when category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) => "connection",
        _ when category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) => "http",
        _ => "main",
    };

    /// <summary>Envoy's name of a level (<c>warning</c>, not <c>warn</c>).</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "off",
    };

    /// <summary>The level for one of <see cref="LevelNames"/>, or null.</summary>
    public static LogLevel? ParseLevel(string name) => name switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        "off" => LogLevel.None,
        _ => null,
    };

    private static int IndexOf(string logger)
    {
        for (var i = 0; i < LoggerNames.Count; i++)
        {
            if (LoggerNames[i] == logger)
            {
                return i;
            }
        }
        return -1;
    }
}

/// <summary>Puts <see cref="EnvoyLogLevels"/> in charge of what is logged.</summary>
public static class EnvoyLoggingExtensions
{
    /// <summary>
    /// Filters every category through <paramref name="levels"/> (so admin <c>/logging</c> really changes what
    /// is logged) and registers it for the admin API. Replaces <c>SetMinimumLevel</c>: the minimum becomes
    /// trace and the switch decides.
    /// </summary>
    public static ILoggingBuilder AddEnvoyLogLevels(this ILoggingBuilder logging, EnvoyLogLevels levels)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(levels);
        logging.Services.AddSingleton(levels);
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter((_, category, level) => levels.IsEnabled(category, level));
        return logging;
    }
}
