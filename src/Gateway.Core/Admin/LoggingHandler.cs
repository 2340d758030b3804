using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>
/// POST <c>/logging</c> and POST <c>/reopen_logs</c> (logs_handler.cc). <c>/logging</c>: without a query it lists the loggers and their levels;
/// <c>?level=</c> sets all, <c>?&lt;logger&gt;=&lt;level&gt;</c> one, <c>?paths=a:debug,b:info</c> several.
/// Exactly one parameter is allowed; errors are a 400 with Envoy's usage text. The levels live in
/// <see cref="EnvoyLogLevels"/>, which the host puts in the logging pipeline.
/// </summary>
internal sealed partial class LoggingHandler
{
    private const string Usage =
        "usage: /logging?<name>=<level> (change single level)\n" +
        "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n" +
        "usage: /logging?level=<level> (change all levels)\n";

    private readonly EnvoyLogLevels _levels;
    private readonly ILogger<LoggingHandler> _logger;
    private readonly AccessLog.AccessLogManager? _accessLogs;

    public LoggingHandler(IServiceProvider services, ILogger<LoggingHandler> logger)
    {
        _levels = services.GetService<EnvoyLogLevels>() ?? new EnvoyLogLevels();
        _logger = logger;
        _accessLogs = services.GetService<AccessLog.AccessLogManager>();
    }

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/logging", "query/change logging levels", true,
        [
            new AdminParam("paths", "Change multiple logging levels by setting to <logger_name1>:<desired_level1>,<logger_name2>:<desired_level2>. If fine grain logging is enabled, use __FILE__ or a glob experision as the logger name. For example, source/common*:warning"),
            new AdminParam("level", "desired logging level, this will change all loggers's level", ["", .. EnvoyLogLevels.LevelNames]),
        ], Logging),

        // Envoy's AccessLogManager::reopen: every access log file is closed and opened again at its path before its next write.
        new("/reopen_logs", "reopen access logs", true, _ =>
        {
            _accessLogs?.Reopen();
            return AdminResponse.Ok("OK\n");
        }),
    ];

    private AdminResponse Logging(AdminRequest request)
    {
        var body = new StringBuilder();
        var status = 200;
        if (request.RawParams.Count > 0 && Change(request.RawParams) is { } error)
        {
            status = 400;
            body.Append("error: ").Append(error).Append("\n\n").Append(Usage).Append("levels: ");
            foreach (var level in EnvoyLogLevels.LevelNames)
            {
                body.Append(level).Append(' ');
            }
            body.Append('\n');
        }
        body.Append("active loggers:\n");
        foreach (var logger in EnvoyLogLevels.LoggerNames)
        {
            body.Append("  ").Append(logger).Append(": ").Append(EnvoyLogLevels.LevelName(_levels.LevelOf(logger))).Append('\n');
        }
        body.Append('\n');
        return new AdminResponse(status, body.ToString());
    }

    /// <summary>Applies the change, all or nothing; returns Envoy's error message when the query is wrong.</summary>
    private string? Change(IReadOnlyList<KeyValuePair<string, string>> query)
    {
        // Envoy keeps the parameters in a map: a repeated key counts once, the first value wins.
        var distinct = new List<KeyValuePair<string, string>>();
        foreach (var pair in query)
        {
            if (!distinct.Exists(p => p.Key == pair.Key))
            {
                distinct.Add(pair);
            }
        }
        if (distinct.Count != 1)
        {
            return "invalid number of parameters";
        }
        var (key, value) = distinct[0];

        if (key == "level")
        {
            if (EnvoyLogLevels.ParseLevel(value) is not { } all)
            {
                return "unknown logger level";
            }
            Log.ChangeAll(_logger, EnvoyLogLevels.LevelName(all));
            _levels.SetAll(all);
            return null;
        }

        var changes = new List<(string Name, LogLevel Level)>();
        if (key == "paths")
        {
            foreach (var pair in value.Split(','))
            {
                if (string.IsNullOrWhiteSpace(pair))
                {
                    continue;
                }
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                var name = colon < 0 ? pair : pair[..colon];
                var levelName = colon < 0 ? string.Empty : pair[(colon + 1)..];
                if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(levelName))
                {
                    return "empty logger name or empty logger level";
                }
                if (EnvoyLogLevels.ParseLevel(levelName) is not { } level)
                {
                    return "unknown logger level";
                }
                changes.RemoveAll(c => c.Name == name);
                changes.Add((name, level));
            }
        }
        else
        {
            if (EnvoyLogLevels.ParseLevel(value) is not { } level)
            {
                return "unknown logger level";
            }
            changes.Add((key, level));
        }

        foreach (var (name, _) in changes)
        {
            if (!EnvoyLogLevels.LoggerNames.Contains(name))
            {
                return "unknown logger name";
            }
        }
        foreach (var (name, level) in changes)
        {
            Log.Change(_logger, name, EnvoyLogLevels.LevelName(level));
            _levels.TrySet(name, level);
        }
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.AdminLogLevelsChanged, Level = LogLevel.Information, Message = "change all log levels: level='{Level}'")]
        public static partial void ChangeAll(ILogger logger, string level);

        [LoggerMessage(EventId = LogEvents.AdminLogLevelChanged, Level = LogLevel.Information, Message = "change log level: name='{Name}' level='{Level}'")]
        public static partial void Change(ILogger logger, string name, string level);
    }
}
