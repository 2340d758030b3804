using Microsoft.Extensions.Logging;

namespace Gateway.Host.CommandLine;

/// <summary>What the server should do once the configuration is loaded (Envoy's <c>--mode</c>).</summary>
internal enum ServerMode
{
    /// <summary>Run.</summary>
    Serve,

    /// <summary>Check the configuration and exit.</summary>
    Validate,

    /// <summary>Initialise everything, then exit without serving.</summary>
    InitOnly,
}

/// <summary>The parsed command line; flags and spellings follow Envoy's.</summary>
internal sealed record CommandLineOptions
{
    public string? ConfigPath { get; init; }

    public string? ConfigYaml { get; init; }

    public ServerMode Mode { get; init; } = ServerMode.Serve;

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>The level as written (Envoy's name), for messages and server info.</summary>
    public string LogLevelName { get; init; } = "info";

    public string? AdminAddressPath { get; init; }

    /// <summary><c>--file-flush-interval-msec</c>: how often access log buffers are written at the latest (Envoy's default 10 s).</summary>
    public TimeSpan FileFlushInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>--drain-time-s</c>: how long draining listeners' connections may stay (Envoy's default 600 s).</summary>
    public TimeSpan DrainTime { get; init; } = Gateway.Hosting.DrainOptions.DefaultDrainTime;

    /// <summary><c>--drain-strategy</c>: <c>gradual</c> (default) or <c>immediate</c>.</summary>
    public Gateway.Hosting.DrainStrategy DrainStrategy { get; init; } = Gateway.Hosting.DrainStrategy.Gradual;

    public bool ShowHelp { get; init; }

    public bool ShowVersion { get; init; }
}

/// <summary>The outcome of parsing: options, or the error Envoy would print.</summary>
internal sealed record ParseResult(CommandLineOptions? Options, string? Error);

/// <summary>Parses Envoy's command line. Envoy flags this gateway does not implement are rejected by name.</summary>
internal static class CommandLineParser
{
    private static readonly HashSet<string> KnownUnsupportedWithValue = new(StringComparer.Ordinal)
    {
        "--component-log-level", "--log-format", "--log-path", "--service-cluster", "--service-node", "--service-zone",
        "--parent-shutdown-time-s", "--concurrency", "--base-id", "--restart-epoch",
        "--local-address-ip-version", "--disable-extensions", "--stats-tag",
        "--socket-path", "--socket-mode",
    };

    private static readonly HashSet<string> KnownUnsupportedSwitches = new(StringComparer.Ordinal)
    {
        "--use-dynamic-base-id", "--hot-restart-version", "--disable-hot-restart", "--allow-unknown-static-fields",
        "--reject-unknown-dynamic-fields", "--ignore-unknown-dynamic-fields", "--enable-mutex-tracing", "--cpuset-threads",
        "--log-format-escaped", "--enable-fine-grain-logging", "--enable-core-dump", "--skip-hot-restart-on-no-parent",
        "--skip-hot-restart-parent-stats", "--mode-validate-ignore-unknown-fields",
    };

    /// <summary>Envoy's log level names, in order.</summary>
    public static readonly IReadOnlyList<string> LevelNames = ["trace", "debug", "info", "warning", "error", "critical", "off"];

    public static ParseResult Parse(IReadOnlyList<string> args)
    {
        var options = new CommandLineOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                inlineValue = arg[(equals + 1)..];
                arg = arg[..equals];
            }

            string? Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }
                return i + 1 < args.Count ? args[++i] : null;
            }

            switch (arg)
            {
                case "-h" or "--help":
                    options = options with { ShowHelp = true };
                    break;
                case "--version":
                    options = options with { ShowVersion = true };
                    break;
                case "-c" or "--config-path":
                    if (Value() is not { } path)
                    {
                        return Missing(arg);
                    }
                    options = options with { ConfigPath = path };
                    break;
                case "--config-yaml":
                    if (Value() is not { } yaml)
                    {
                        return Missing(arg);
                    }
                    options = options with { ConfigYaml = yaml };
                    break;
                case "--mode":
                    {
                        var mode = Value();
                        ServerMode? parsed = mode switch
                        {
                            "serve" => ServerMode.Serve,
                            "validate" => ServerMode.Validate,
                            "init_only" => ServerMode.InitOnly,
                            _ => null,
                        };
                        if (parsed is null)
                        {
                            return new ParseResult(null, $"error: unknown mode '{mode}'");
                        }
                        options = options with { Mode = parsed.Value };
                        break;
                    }
                case "-l" or "--log-level":
                    {
                        var name = Value();
                        if (name is null || ToLogLevel(name) is not { } level)
                        {
                            return new ParseResult(null, $"error: invalid log level specified '{name}'");
                        }
                        options = options with { LogLevel = level, LogLevelName = name == "warn" ? "warning" : name };
                        break;
                    }
                case "--file-flush-interval-msec":
                    {
                        var text = Value();
                        if (!uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var msec) || msec == 0)
                        {
                            return new ParseResult(null, $"error: invalid value for --file-flush-interval-msec: '{text}'");
                        }
                        options = options with { FileFlushInterval = TimeSpan.FromMilliseconds(msec) };
                        break;
                    }
                case "--drain-time-s":
                    {
                        var text = Value();
                        if (!uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                        {
                            return new ParseResult(null, $"error: invalid value for --drain-time-s: '{text}'");
                        }
                        options = options with { DrainTime = TimeSpan.FromSeconds(seconds) };
                        break;
                    }
                case "--drain-strategy":
                    {
                        var text = Value();
                        Gateway.Hosting.DrainStrategy? strategy = text switch
                        {
                            "gradual" => Gateway.Hosting.DrainStrategy.Gradual,
                            "immediate" => Gateway.Hosting.DrainStrategy.Immediate,
                            _ => null,
                        };
                        if (strategy is null)
                        {
                            return new ParseResult(null, $"error: unknown drain strategy '{text}'");
                        }
                        options = options with { DrainStrategy = strategy.Value };
                        break;
                    }
                case "--admin-address-path":
                    if (Value() is not { } adminPath)
                    {
                        return Missing(arg);
                    }
                    options = options with { AdminAddressPath = adminPath };
                    break;
                default:
                    if (KnownUnsupportedWithValue.Contains(arg) || KnownUnsupportedSwitches.Contains(arg))
                    {
                        return new ParseResult(null, $"error: option '{arg}' is not supported by this gateway yet");
                    }
                    return new ParseResult(null, $"error: unknown option '{args[i]}' (see --help)");
            }
        }
        return new ParseResult(options, null);
    }

    /// <summary>Envoy's level names (and the CLI alias <c>warn</c>) to Microsoft.Extensions.Logging levels.</summary>
    public static LogLevel? ToLogLevel(string name) => name switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        "off" => LogLevel.None,
        _ => null,
    };

    private static ParseResult Missing(string flag) => new(null, $"error: option '{flag}' needs a value");

    public const string Usage = """
        USAGE:
           gateway  [--mode <serve|validate|init_only>] [-l <string>]
                    [--admin-address-path <string>] [--config-yaml <string>]
                    [--drain-time-s <uint32_t>] [--drain-strategy <gradual|immediate>]
                    [--file-flush-interval-msec <uint32_t>]
                    [-c <string>] [--version] [-h]

        An Envoy-compatible gateway on YARP: reads an Envoy v3 bootstrap (YAML or JSON).

        Where:
           --mode <serve|validate|init_only>
             One of 'serve' (default; run the server), 'validate' (check the
             configuration and exit) or 'init_only' (initialise, then exit)

           -l <string>,  --log-level <string>
             Log level: trace, debug, info (default), warning/warn, error,
             critical, off

           --admin-address-path <string>
             File to write the admin address to once it is bound

           --drain-time-s <uint32_t>
             Hot restart and LDS removal drain time in seconds (default 600)

           --drain-strategy <gradual|immediate>
             Hot restart drain sequence behaviour, one of 'gradual' (default)
             or 'immediate'

           --file-flush-interval-msec <uint32_t>
             Interval for log flushing in msec (default 10000)

           --config-yaml <string>
             Inline YAML bootstrap, merged over --config-path

           -c <string>,  --config-path <string>
             Path to the bootstrap file (.yaml, .yml or .json)

           --version
             Print version information and exit

           -h,  --help
             Print this usage information and exit
        """;
}
