using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Host.Logging;

/// <summary>Writes log lines in Envoy's default format: <c>[%Y-%m-%d %T.%e][%t][%l][%n] %v</c>.</summary>
internal sealed class EnvoyLogFormatter : ConsoleFormatter
{
    public const string FormatterName = "envoy";

    public EnvoyLogFormatter()
        : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, Microsoft.Extensions.Logging.IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }
        textWriter.Write('[');
        textWriter.Write(DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write("][");
        textWriter.Write(Environment.CurrentManagedThreadId);
        textWriter.Write("][");
        textWriter.Write(LevelName(logEntry.LogLevel));
        textWriter.Write("][");
        textWriter.Write(LoggerName(logEntry.Category));
        textWriter.Write("] ");
        textWriter.Write(message);
        if (logEntry.Exception is { } exception && logEntry.LogLevel <= LogLevel.Debug)
        {
            // Exception details only at debug and below: operators at info see Envoy-style one-liners.
            textWriter.Write(": ");
            textWriter.Write(exception.Message);
        }
        textWriter.Write(Environment.NewLine);
    }

    /// <summary>Envoy's name of a level.</summary>
    public static string LevelName(LogLevel level) => Gateway.Admin.EnvoyLogLevels.LevelName(level);

    /// <summary>Maps .NET logging categories onto Envoy's logger names (the names admin <c>/logging</c> lists).</summary>
    public static string LoggerName(string category) => Gateway.Admin.EnvoyLogLevels.LoggerFor(category);
}
