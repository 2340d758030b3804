using System.Globalization;
using System.Reflection;
using Gateway.Admin;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Host.CommandLine;
using Gateway.Host.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Host;

/// <summary>Runs the gateway process: builds the ASP.NET Core host for a loaded bootstrap and serves until SIGTERM/Ctrl-C.</summary>
internal static partial class GatewayServer
{
    /// <summary>Envoy-style version string: <c>&lt;revision&gt;/&lt;version&gt;/Clean/RELEASE/.NET</c>.</summary>
    public static string Version
    {
        get
        {
            var informational = typeof(GatewayServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            var version = plus >= 0 ? informational[..plus] : informational;
            var revision = plus >= 0 ? informational[(plus + 1)..] : "0000000000000000000000000000000000000000";
            return $"{revision}/{version}/Clean/RELEASE/.NET-{Environment.Version}";
        }
    }

    /// <summary>A critical line in Envoy's log format, for failures before logging is set up.</summary>
    public static void WriteCritical(string message)
    {
        var timestamp = DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        Console.Error.WriteLine($"[{timestamp}][{Environment.CurrentManagedThreadId}][critical][main] {message}");
    }

    public static async Task<int> RunAsync(Bootstrap bootstrap, EnvoyTypeRegistry types, CommandLineOptions options, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "gateway",
            ContentRootPath = AppContext.BaseDirectory,
        });
        ConfigureLogging(builder.Logging, options.LogLevel);
        builder.Services.AddSingleton(new AdminServerOptions
        {
            Version = Version,
            ConfigPath = options.ConfigPath ?? string.Empty,
            ConfigYaml = options.ConfigYaml ?? string.Empty,
            LogLevel = options.LogLevelName,
            Mode = options.Mode.ToString(),
            AdminAddressPath = options.AdminAddressPath ?? string.Empty,
        });
        builder.Services.AddSingleton(new Gateway.AccessLog.AccessLogOptions { FlushInterval = options.FileFlushInterval });
        builder.Services.AddSingleton(new Gateway.Hosting.DrainOptions { DrainTime = options.DrainTime, Strategy = options.DrainStrategy });
        builder.Services.AddEnvoyGateway(bootstrap, types);
        configureServices?.Invoke(builder.Services);

        WebApplication app;
        try
        {
            app = builder.Build();
            app.UseEnvoyGateway();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or EnvoyConfigException)
        {
            WriteCritical($"error initializing configuration '{options.ConfigPath}': {Describe(ex)}");
            return 1;
        }

        await using (app.ConfigureAwait(false))
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Host");
            var runtime = app.Services.GetRequiredService<IEnvoyGateway>();
            Log.Initializing(logger, Version, runtime.Plan.Listeners.Count, runtime.Plan.Clusters.Count);
            if (options.Mode == ServerMode.InitOnly)
            {
                return 0;
            }

            try
            {
                await app.StartAsync().ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                WriteCritical($"error initializing configuration '{options.ConfigPath}': cannot bind a listener: {ex.Message}");
                return 1;
            }

            if (options.AdminAddressPath is { } adminAddressPath && runtime.AdminBoundEndPoint is { } admin)
            {
                await File.WriteAllTextAsync(adminAddressPath, Gateway.Translation.EnvoyTranslator.FormatHostPort(admin.Address.ToString(), admin.Port)).ConfigureAwait(false);
            }
            if (runtime.AdminBoundEndPoint is { } adminEndPoint)
            {
                Log.AdminListening(logger, Gateway.Translation.EnvoyTranslator.FormatHostPort(adminEndPoint.Address.ToString(), adminEndPoint.Port));
            }
            foreach (var listener in runtime.Plan.Listeners)
            {
                var bound = runtime.ListenerBoundEndPoint(listener.Name);
                Log.ListenerListening(logger, listener.Name, bound is null ? Gateway.Translation.EnvoyTranslator.FormatHostPort(listener.Address, listener.Port) : Gateway.Translation.EnvoyTranslator.FormatHostPort(bound.Address.ToString(), bound.Port));
            }
            Log.Started(logger);
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStopping.Register(() => Log.ShuttingDown(logger));

            await app.WaitForShutdownAsync().ConfigureAwait(false);
            Log.Exiting(logger);
            return 0;
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging, LogLevel level)
    {
        logging.ClearProviders();
        logging.AddConsole(console =>
        {
            console.FormatterName = EnvoyLogFormatter.FormatterName;
            // Envoy logs to stderr.
            console.LogToStandardErrorThreshold = LogLevel.Trace;
        });
        logging.AddConsoleFormatter<EnvoyLogFormatter, ConsoleFormatterOptions>();
        // Levels per Envoy logger, changed at run time by admin /logging (ASP.NET Core's and YARP's own
        // categories need warning at info: they log every request at Information, Envoy's info does not).
        logging.AddEnvoyLogLevels(new EnvoyLogLevels(level));
    }

    private static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }
        return string.Join(": ", messages.Distinct());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.MainInitializing, Level = LogLevel.Information, Message = "initializing gateway version {Version}: {Listeners} listener(s), {Clusters} cluster(s)")]
        public static partial void Initializing(ILogger logger, string version, int listeners, int clusters);

        [LoggerMessage(EventId = LogEvents.MainAdminListening, Level = LogLevel.Information, Message = "admin address: {Address}")]
        public static partial void AdminListening(ILogger logger, string address);

        [LoggerMessage(EventId = LogEvents.MainListenerListening, Level = LogLevel.Information, Message = "listener '{Name}' listening on {Address}")]
        public static partial void ListenerListening(ILogger logger, string name, string address);

        [LoggerMessage(EventId = LogEvents.MainStarted, Level = LogLevel.Information, Message = "starting main dispatch loop")]
        public static partial void Started(ILogger logger);

        [LoggerMessage(EventId = LogEvents.MainShuttingDown, Level = LogLevel.Information, Message = "shutting down server instance")]
        public static partial void ShuttingDown(ILogger logger);

        [LoggerMessage(EventId = LogEvents.MainExiting, Level = LogLevel.Information, Message = "exiting")]
        public static partial void Exiting(ILogger logger);
    }
}
