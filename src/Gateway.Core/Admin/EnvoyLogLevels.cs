using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Gateway.Admin;

/// <summary>
/// Log levels per Envoy logger name, the switch behind admin <c>/logging</c>. .NET logging categories map
/// onto Envoy's logger names (<see cref="LoggerFor"/>); once <see cref="EnvoyLoggingExtensions.AddEnvoyLogLevels"/>
/// put the switch into the logging pipeline, a change here changes what is logged from the next call on.
/// </summary>
public sealed class EnvoyLogLevels : IConfigureOptions<LoggerFilterOptions>, IOptionsChangeTokenSource<LoggerFilterOptions>
{
    /// <summary>The loggers this gateway logs to, in Envoy's registry order (logger.h ALL_LOGGER_IDS).</summary>
    public static IReadOnlyList<string> LoggerNames { get; } = ["admin", "connection", "filter", "http", "main", "router", "secret", "tracing", "upstream"];

    /// <summary>Envoy's (spdlog's) level names, lowest first.</summary>
    public static IReadOnlyList<string> LevelNames { get; } = ["trace", "debug", "info", "warning", "error", "critical", "off"];

    /// <summary>Category prefixes of each Envoy logger, as <see cref="LoggerFor"/> maps them (anything else is <c>main</c>).</summary>
    private static readonly (string Prefix, string Logger)[] CategoryPrefixes =
    [
        ("Gateway.Admin", "admin"), ("Gateway.Clusters", "upstream"), ("Gateway.Tls.Secrets", "secret"), ("Gateway.Listeners", "router"), ("Gateway.Proxy", "router"),
        ("Gateway.Router", "router"), ("Gateway.Resilience", "router"), ("Gateway.Filters", "filter"), ("Gateway.Tracing", "tracing"),
        ("Yarp", "router"), ("Microsoft.AspNetCore.Server.Kestrel", "connection"), ("Microsoft.AspNetCore", "http"), ("Microsoft", "main"),
    ];

    private readonly int[] _levels;
    private CancellationTokenSource _changed = new();

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
        NotifyChanged();
        return true;
    }

    /// <summary>Sets every logger (<c>/logging?level=</c>).</summary>
    public void SetAll(LogLevel level)
    {
        for (var i = 0; i < _levels.Length; i++)
        {
            Volatile.Write(ref _levels[i], (int)level);
        }
        NotifyChanged();
    }

    /// <summary>
    /// The levels as Microsoft.Extensions.Logging filter rules, one per category prefix. Logging caches
    /// each logger's minimum level from these rules, so checking a level costs a comparison on the
    /// request path; a change fires <see cref="GetChangeToken"/> and logging recomputes them.
    /// </summary>
    public void Configure(LoggerFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MinLevel = Effective("main", string.Empty);
        foreach (var (prefix, logger) in CategoryPrefixes)
        {
            options.Rules.Add(new LoggerFilterRule(providerName: null, categoryName: prefix, logLevel: Effective(logger, prefix), filter: null));
        }
        options.Rules.Add(new LoggerFilterRule(providerName: null, categoryName: HostingDiagnosticsCategory, logLevel: Effective("http", HostingDiagnosticsCategory), filter: null));
    }

    /// <inheritdoc />
    public string? Name => Options.DefaultName;

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    private LogLevel Effective(string logger, string category)
    {
        var threshold = (LogLevel)Volatile.Read(ref _levels[IndexOf(logger)]);
        return Demoted(category, threshold);
    }

    /// <summary>
    /// At info and above, ASP.NET Core's and YARP's own categories need warning: they log every request at
    /// information. ASP.NET's hosting diagnostics go off entirely: the only thing they would still do is make
    /// every request create an Activity and a log scope (they check for Critical), which Envoy-style logs never show.
    /// </summary>
    private static LogLevel Demoted(string category, LogLevel threshold)
    {
        if (threshold is < LogLevel.Information or LogLevel.None
            || !(category.StartsWith("Microsoft", StringComparison.Ordinal) || category.StartsWith("Yarp", StringComparison.Ordinal)))
        {
            return threshold;
        }
        if (category == HostingDiagnosticsCategory)
        {
            return LogLevel.None;
        }
        return threshold < LogLevel.Warning ? LogLevel.Warning : threshold;
    }

    /// <summary>ASP.NET Core's per-request hosting log category.</summary>
    private const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private void NotifyChanged()
    {
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
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
        var threshold = (LogLevel)Volatile.Read(ref _levels[IndexOf(LoggerFor(category))]);
        return level >= Demoted(category, threshold);
    }

    /// <summary>The Envoy logger a .NET logging category writes to.</summary>
    public static string LoggerFor(string category)
    {
        foreach (var (prefix, logger) in CategoryPrefixes)
        {
            if (category.StartsWith(prefix, StringComparison.Ordinal))
            {
                return logger;
            }
        }
        return "main";
    }

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
    /// Makes <paramref name="levels"/> the source of logging's filter rules (so admin <c>/logging</c> really
    /// changes what is logged) and registers it for the admin API. Replaces <c>SetMinimumLevel</c>.
    /// </summary>
    public static ILoggingBuilder AddEnvoyLogLevels(this ILoggingBuilder logging, EnvoyLogLevels levels)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(levels);
        logging.Services.AddSingleton(levels);
        logging.Services.AddSingleton<IConfigureOptions<LoggerFilterOptions>>(levels);
        logging.Services.AddSingleton<IOptionsChangeTokenSource<LoggerFilterOptions>>(levels);
        return logging;
    }
}
