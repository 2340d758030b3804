using System.Collections.Concurrent;
using System.Net;
using Gateway.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Admin;

/// <summary>POST <c>/logging</c> (logs_handler.cc): the listing, the three ways to change levels, Envoy's errors, and that logging really changes.</summary>
public class LoggingHandlerTests
{
    private const string Usage = """
        usage: /logging?<name>=<level> (change single level)
        usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)
        usage: /logging?level=<level> (change all levels)
        levels: trace debug info warning error critical off 

        """;

    private static string Loggers(string admin = "info", string connection = "info", string filter = "info", string http = "info", string main = "info", string router = "info", string secret = "info", string tracing = "info", string upstream = "info") => $"""
        active loggers:
          admin: {admin}
          connection: {connection}
          filter: {filter}
          http: {http}
          main: {main}
          router: {router}
          secret: {secret}
          tracing: {tracing}
          upstream: {upstream}


        """;

    [Fact]
    public async Task Logging_NoQuery_ListsTheLoggers()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/logging");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Loggers(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logging_OneLogger_ChangesOnlyThatLogger()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/logging?http=debug");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Loggers(http: "debug"), await response.Content.ReadAsStringAsync());
        Assert.Equal(Loggers(http: "debug"), await (await server.PostAsync("/logging")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logging_Level_ChangesEveryLogger()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/logging?level=warning");

        Assert.Equal(Loggers("warning", "warning", "warning", "warning", "warning", "warning", "warning", "warning", "warning"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logging_Paths_ChangesSeveralLoggers()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/logging?paths=router:trace,upstream:off");

        Assert.Equal(Loggers(router: "trace", upstream: "off"), await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/logging?http=verbose", "unknown logger level")]
    [InlineData("/logging?http", "unknown logger level")]
    [InlineData("/logging?level=warn", "unknown logger level")]
    [InlineData("/logging?nope=debug", "unknown logger name")]
    [InlineData("/logging?paths=router:debug,nope:debug", "unknown logger name")]
    [InlineData("/logging?http=debug&router=debug", "invalid number of parameters")]
    [InlineData("/logging?paths=router", "empty logger name or empty logger level")]
    public async Task Logging_BadQuery_Answers400WithUsageAndChangesNothing(string path, string error)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"error: {error}\n\n" + Usage + Loggers(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logging_ChangeLevel_ChangesWhatIsLogged()
    {
        var levels = new EnvoyLogLevels(LogLevel.Information);
        var sink = new CapturingLoggerProvider();
        await using var server = await AdminTestServer.StartAsync(services => services.AddLogging(logging =>
        {
            logging.AddProvider(sink);
            logging.AddEnvoyLogLevels(levels);
        }));
        var factory = server.Gateway.Services.GetRequiredService<ILoggerFactory>();
        var upstream = factory.CreateLogger("Gateway.Clusters.Test");
        var kestrel = factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Test");

        upstream.LogDebug("before");
        (await server.PostAsync("/logging?upstream=debug")).Dispose();
        upstream.LogDebug("after");
        kestrel.LogDebug("connection logger still at info");

        Assert.Equal(["after"], sink.Messages("Gateway.Clusters.Test"));
        Assert.Empty(sink.Messages("Microsoft.AspNetCore.Server.Kestrel.Test"));
        Assert.Equal(["change log level: name='upstream' level='debug'"], sink.Messages("Gateway.Admin.LoggingHandler"));
    }

    [Fact]
    public async Task Logging_TracingLogger_ChangesTheTracersCategories()
    {
        var levels = new EnvoyLogLevels(LogLevel.Information);
        var sink = new CapturingLoggerProvider();
        await using var server = await AdminTestServer.StartAsync(services => services.AddLogging(logging =>
        {
            logging.AddProvider(sink);
            logging.AddEnvoyLogLevels(levels);
        }));
        var factory = server.Gateway.Services.GetRequiredService<ILoggerFactory>();
        var zipkin = factory.CreateLogger("Gateway.Tracing.Zipkin");
        var otel = factory.CreateLogger("Gateway.Tracing.OpenTelemetry");
        var router = factory.CreateLogger("Gateway.Router.Test");

        zipkin.LogDebug("before");
        using var response = await server.PostAsync("/logging?tracing=debug");
        zipkin.LogDebug("zipkin after");
        otel.LogDebug("otel after");
        router.LogDebug("router still at info");

        Assert.Equal(Loggers(tracing: "debug"), await response.Content.ReadAsStringAsync());
        Assert.Equal(["zipkin after"], sink.Messages("Gateway.Tracing.Zipkin"));
        Assert.Equal(["otel after"], sink.Messages("Gateway.Tracing.OpenTelemetry"));
        Assert.Empty(sink.Messages("Gateway.Router.Test"));
    }

    [Theory]
    [InlineData("Gateway.Tls.Secrets", "secret")]
    [InlineData("Gateway.Tracing.Zipkin", "tracing")]
    [InlineData("Gateway.Tracing.OpenTelemetry", "tracing")]
    [InlineData("Gateway.Clusters.ClusterRegistry", "upstream")]
    public void LoggerFor_Category_MapsToTheEnvoyLogger(string category, string logger)
        => Assert.Equal(logger, EnvoyLogLevels.LoggerFor(category));

    [Theory]
    [InlineData("Gateway.Admin.AdminHandler", LogLevel.Information, true)]
    [InlineData("Gateway.Listeners.ConnectionManager", LogLevel.Debug, false)]
    [InlineData("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information, false)]
    [InlineData("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Critical, false)]
    [InlineData("Microsoft.AspNetCore.Routing", LogLevel.Warning, true)]
    [InlineData("Yarp.ReverseProxy.Forwarder", LogLevel.Information, false)]
    [InlineData("Some.App", LogLevel.Information, true)]
    public void IsEnabled_InfoLevel_FollowsTheLoggerLevelAndQuietsFrameworkInfo(string category, LogLevel level, bool expected)
        => Assert.Equal(expected, new EnvoyLogLevels(LogLevel.Information).IsEnabled(category, level));

    [Fact]
    public void IsEnabled_DebugLevel_LetsFrameworkDebugThrough()
    {
        var levels = new EnvoyLogLevels(LogLevel.Information);
        levels.TrySet("http", LogLevel.Debug);

        Assert.True(levels.IsEnabled("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Debug));
        Assert.False(levels.IsEnabled("Microsoft.AspNetCore.Server.Kestrel.Connections", LogLevel.Debug));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, string Message)> _entries = new();

        public string[] Messages(string category) => _entries.Where(e => e.Category == category).Select(e => e.Message).ToArray();

        public ILogger CreateLogger(string categoryName) => new Capturing(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Capturing(string category, ConcurrentQueue<(string, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue((category, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task ReopenLogs_Post_AnswersOk()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/reopen_logs");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
    }
}
