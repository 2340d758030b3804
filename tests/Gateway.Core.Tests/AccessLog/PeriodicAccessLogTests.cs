using System.Net;
using System.Text.RegularExpressions;
using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

/// <summary>
/// Periodic entries: the connection manager's <c>access_log_flush_interval</c> (AccessLogType <c>DownstreamPeriodic</c>)
/// and the router's <c>upstream_log_options</c> (<c>UpstreamPoolReady</c>, <c>UpstreamPeriodic</c>).
/// </summary>
public sealed partial class PeriodicAccessLogTests : IDisposable
{
    private const string RouterLine = "typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }";
    private const string DownstreamFormat = "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% %REQ(:PATH)% %RESP(x-upstream)%";

    private readonly string _dir = Directory.CreateTempSubdirectory("periodiclog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string LogPath(string name) => Path.Combine(_dir, name);

    private static string FileLogger(string path, string format, string filter = "")
        => $$"""
            - name: envoy.access_loggers.file
              {{filter}}
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: "{{path}}"
                log_format: { text_format: "{{format}}\n" }
            """;

    /// <summary>One listener in front of <paramref name="upstreamPort"/>: <paramref name="hcmFields"/> and <paramref name="accessLogs"/> on the connection manager, <paramref name="routerFields"/> on the router.</summary>
    private static string Config(int upstreamPort, string hcmFields, string accessLogs, string routerFields = "", string httpFilters = "")
    {
        var yaml = ListenerYaml.Build(upstreamPort, httpFilters: httpFilters, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
            """)
            .Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + ListenerYaml.Indent(ListenerYaml.Dedent(hcmFields) + "\naccess_log:\n" + ListenerYaml.Dedent(accessLogs), 10), StringComparison.Ordinal);
        if (routerFields.Length != 0)
        {
            yaml = yaml.Replace(RouterLine, "typed_config:\n" + ListenerYaml.Indent("\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n" + ListenerYaml.Dedent(routerFields), 14), StringComparison.Ordinal);
        }
        return yaml;
    }


    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(10);
        }
    }

    /// <summary>An upstream that answers once the test releases it, with a header the entries print.</summary>
    private static Task<ScriptedUpstream> GatedUpstreamAsync(Task release)
        => ScriptedUpstream.StartAsync(async (context, _) =>
        {
            await release;
            context.Response.Headers["x-upstream"] = "yes";
            await context.Response.WriteAsync("done");
        });

    /// <summary>A fake clock for the gateway and an upstream held until the test releases it.</summary>
    private static async Task<(FakeTimeProvider Time, TaskCompletionSource Release, ScriptedUpstream Upstream)> GatedAsync()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (new FakeTimeProvider(DateTimeOffset.UtcNow), release, await GatedUpstreamAsync(release.Task));
    }

    [Theory]
    [InlineData("access_log_options: { access_log_flush_interval: 1s }")]
    [InlineData("access_log_flush_interval: 1s")]
    public async Task FlushInterval_SlowUpstream_PeriodicEntriesWhileWaitingThenTheEndEntry(string options)
    {
        var (time, release, upstream) = await GatedAsync();
        await using var _ = upstream;
        var path = LogPath("access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, options, FileLogger(path, DownstreamFormat)), services => services.AddSingleton<TimeProvider>(time));

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/slow"));
        await WaitUntilAsync(() => upstream.Requests == 1);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));

        // Written at each tick: the request is on its way upstream, so nothing an entry reads is changing.
        // Envoy's entry before the response: code 0, no flags, the duration so far, no response headers.
        Assert.Equal(["DownstreamPeriodic 0 - 1000 /slow -", "DownstreamPeriodic 0 - 2000 /slow -"], await AccessLogLines.ReadAsync(gateway, path, 2));
        release.SetResult();
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["DownstreamPeriodic 0 - 1000 /slow -", "DownstreamPeriodic 0 - 2000 /slow -", "DownstreamEnd 200 - 2000 /slow yes"], await AccessLogLines.ReadAsync(gateway, path, 3));
    }

    [Fact]
    public async Task FlushInterval_FastRequest_OnlyTheEndEntryAndNoTickAfterIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await GatedUpstreamAsync(Task.CompletedTask);
        var path = LogPath("access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "access_log_options: { access_log_flush_interval: 1s }", FileLogger(path, DownstreamFormat)),
            services => services.AddSingleton<TimeProvider>(time));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/fast"));
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["DownstreamEnd 200 - 0 /fast yes"], await AccessLogLines.ReadAsync(gateway, path));
    }

    [Fact]
    public async Task FlushInterval_StreamingResponse_PeriodicEntryHasTheResponseHeadersAndCode()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await ScriptedUpstream.StartAsync(async (context, _) =>
        {
            context.Response.Headers["x-upstream"] = "streaming";
            await context.Response.WriteAsync("first ");
            await context.Response.Body.FlushAsync();
            await release.Task;
            await context.Response.WriteAsync("last");
        });
        var path = LogPath("access.log");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "access_log_options: { access_log_flush_interval: 1s }", FileLogger(path, DownstreamFormat)),
            services => services.AddSingleton<TimeProvider>(time));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/stream"), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[6];
        await body.ReadExactlyAsync(first);
        time.Advance(TimeSpan.FromSeconds(1));
        release.SetResult();
        var rest = await new StreamReader(body).ReadToEndAsync();

        Assert.Equal("first last", System.Text.Encoding.ASCII.GetString(first) + rest);
        var lines = await AccessLogLines.ReadAsync(gateway, path, 2);
        // Mid-body, Envoy's entry has the response's code and headers; the end entry follows.
        Assert.Equal(["DownstreamPeriodic 200 - 1000 /stream streaming", "DownstreamEnd 200 - 1000 /stream streaming"], lines);
    }

    [Fact]
    public async Task FlushInterval_LogTypeFilter_SelectsThePeriodicEntries()
    {
        var (time, release, upstream) = await GatedAsync();
        await using var _ = upstream;
        var periodicPath = LogPath("periodic.log");
        var endPath = LogPath("end.log");
        var logs = FileLogger(periodicPath, "%ACCESS_LOG_TYPE% %DURATION%", "filter: { log_type_filter: { types: [DownstreamPeriodic] } }") + "\n"
            + FileLogger(endPath, "%ACCESS_LOG_TYPE% %DURATION%", "filter: { log_type_filter: { types: [DownstreamPeriodic], exclude: true } }");
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "access_log_options: { access_log_flush_interval: 0.5s }", logs),
            services => services.AddSingleton<TimeProvider>(time));

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/slow"));
        await WaitUntilAsync(() => upstream.Requests == 1);
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
        }
        release.SetResult();
        using var response = await pending;

        Assert.Equal(["DownstreamPeriodic 500", "DownstreamPeriodic 1000", "DownstreamPeriodic 1500"], await AccessLogLines.ReadAsync(gateway, periodicPath, 14));
        Assert.Equal(["DownstreamEnd 1500"], await AccessLogLines.ReadAsync(gateway, endPath));
    }

    [Fact]
    public async Task FlushInterval_TickWhileAFilterRuns_EntryHeldUntilTheRequestGoesUpstream()
    {
        var filter = new MutatingFilterFactory { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var (time, release, upstream) = await GatedAsync();
        await using var _ = upstream;
        var path = LogPath("access.log");
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream.Port, "access_log_options: { access_log_flush_interval: 1s }", FileLogger(path, "%ACCESS_LOG_TYPE% %DURATION% %REQ(x-mutated)%"), httpFilters: MutatingFilterFactory.Yaml),
            services => services.AddSingleton<TimeProvider>(time), g => g.AddHttpFilter(filter));

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/slow"));
        await WaitUntilAsync(() => filter.Entered == 1);
        time.Advance(TimeSpan.FromSeconds(1));

        // The filter may be changing the request: the tick is held, not formatted.
        Assert.Empty(await AccessLogLines.ReadAsync(gateway, path));
        time.Advance(TimeSpan.FromSeconds(1));
        filter.Gate.SetResult();
        await WaitUntilAsync(() => upstream.Requests == 1);
        // Written as the request went upstream (one entry for the held ticks; the timer is re-armed from there).
        Assert.Equal(["DownstreamPeriodic 2000 1"], await AccessLogLines.ReadAsync(gateway, path));
        release.SetResult();
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["DownstreamPeriodic 2000 1", "DownstreamEnd 2000 1"], await AccessLogLines.ReadAsync(gateway, path, 2));
    }

    [Fact]
    public async Task UpstreamLogOptions_SlowUpstream_PoolReadyThenPeriodicThenEnd()
    {
        var (time, release, upstream) = await GatedAsync();
        await using var _ = upstream;
        var downstreamPath = LogPath("downstream.log");
        var upstreamPath = LogPath("upstream.log");
        var router = $$"""
            upstream_log:
            {{ListenerYaml.Indent(FileLogger(upstreamPath, "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %DURATION% %UPSTREAM_HOST% %UPSTREAM_REQUEST_ATTEMPT_COUNT%"), 0)}}
            upstream_log_options: { flush_upstream_log_on_upstream_stream: true, upstream_log_flush_interval: 1s }
            """;
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "", FileLogger(downstreamPath, "%ACCESS_LOG_TYPE% %RESPONSE_CODE%"), router),
            services => services.AddSingleton<TimeProvider>(time));

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/slow"));
        await WaitUntilAsync(() => upstream.Requests == 1);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        var host = "127.0.0.1:" + upstream.Port;

        // Envoy's RouterUpstreamLogTest: UpstreamPoolReady (no code yet), UpstreamPeriodic per tick, UpstreamEnd with the code.
        Assert.Equal([$"UpstreamPoolReady 0 0 {host} 1", $"UpstreamPeriodic 0 1000 {host} 1", $"UpstreamPeriodic 0 2000 {host} 1"], await AccessLogLines.ReadAsync(gateway, upstreamPath, 3));
        release.SetResult();
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([$"UpstreamPoolReady 0 0 {host} 1", $"UpstreamPeriodic 0 1000 {host} 1", $"UpstreamPeriodic 0 2000 {host} 1", $"UpstreamEnd 200 2000 {host} 1"], await AccessLogLines.ReadAsync(gateway, upstreamPath, 4));
        // The connection manager has no interval: its log has only the end entry.
        Assert.Equal(["DownstreamEnd 200"], await AccessLogLines.ReadAsync(gateway, downstreamPath));
    }

    [Fact]
    public async Task UpstreamLogOptions_RetriedRequest_EachAttemptHasItsPoolReadyEntry()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            context.Response.StatusCode = n == 1 ? 503 : 200;
            return Task.CompletedTask;
        });
        var upstreamPath = LogPath("upstream.log");
        var router = $$"""
            upstream_log:
            {{ListenerYaml.Indent(FileLogger(upstreamPath, "%ACCESS_LOG_TYPE% %RESPONSE_CODE% %UPSTREAM_REQUEST_ATTEMPT_COUNT%"), 0)}}
            upstream_log_options: { flush_upstream_log_on_upstream_stream: true }
            """;
        var yaml = Config(upstream.Port, "", FileLogger(LogPath("downstream.log"), "%ACCESS_LOG_TYPE%"), router)
            .Replace("route: { cluster: echo }", "route: { cluster: echo, retry_policy: { retry_on: 5xx, num_retries: 1 } }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/retried"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Envoy's UpstreamAccessLogOptions integration test: "0 UpstreamPoolReady", "503 UpstreamEnd", then the retry's pair.
        Assert.Equal(["UpstreamPoolReady 0 1", "UpstreamEnd 503 1", "UpstreamPoolReady 0 2", "UpstreamEnd 200 2"], await AccessLogLines.ReadAsync(gateway, upstreamPath, 4));
    }

    [Fact]
    public async Task FlushInterval_ManyConcurrentSlowStreamsWithMutatingFilter_EveryLineWellFormed()
    {
        const int Streams = 40;
        var filter = new MutatingFilterFactory();
        await using var upstream = await ScriptedUpstream.StartAsync(async (context, n) =>
        {
            // Slow in both phases: before the response headers, then between body chunks.
            await Task.Delay(10 + (n % 7) * 5);
            context.Response.Headers["x-upstream"] = "u" + n;
            for (var i = 0; i < 4; i++)
            {
                await context.Response.WriteAsync("chunk" + i + ";");
                await context.Response.Body.FlushAsync();
                await Task.Delay(5);
            }
        });
        var downstreamPath = LogPath("downstream.log");
        var upstreamPath = LogPath("upstream.log");
        const string Format = "%ACCESS_LOG_TYPE%|%RESPONSE_CODE%|%DURATION%|%REQ(:PATH)%|%REQ(x-mutated)%|%RESP(x-upstream)%|%RESP(x-filter)%|%DYNAMIC_METADATA(test.mutating:count)%|%UPSTREAM_HOST%";
        var router = $$"""
            upstream_log:
            {{ListenerYaml.Indent(FileLogger(upstreamPath, Format), 0)}}
            upstream_log_options: { flush_upstream_log_on_upstream_stream: true, upstream_log_flush_interval: 0.001s }
            """;
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream.Port, "access_log_options: { access_log_flush_interval: 0.001s }", FileLogger(downstreamPath, Format), router, MutatingFilterFactory.Yaml),
            configureGateway: g => g.AddHttpFilter(filter));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var requests = new Task<HttpResponseMessage>[Streams];
        for (var i = 0; i < Streams; i++)
        {
            requests[i] = gateway.Client.GetAsync(gateway.ListenerUri("/stress/" + i), timeout.Token);
        }
        var responses = await Task.WhenAll(requests);
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("chunk0;chunk1;chunk2;chunk3;", await response.Content.ReadAsStringAsync(timeout.Token));
            response.Dispose();
        }

        var downstream = await AccessLogLines.ReadAsync(gateway, downstreamPath, lines => Ends(lines, "DownstreamEnd|") == Streams);
        var upstreamLines = await AccessLogLines.ReadAsync(gateway, upstreamPath, lines => Ends(lines, "UpstreamEnd|") == Streams);
        var line = LineRegex();
        Assert.All(downstream.Concat(upstreamLines), l => Assert.Matches(line, l));
        Assert.Equal(Streams, downstream.Count(l => l.StartsWith("DownstreamEnd|200|", StringComparison.Ordinal)));
        Assert.Equal(Streams, upstreamLines.Count(l => l.StartsWith("UpstreamEnd|200|", StringComparison.Ordinal)));
        Assert.Equal(Streams, upstreamLines.Count(l => l.StartsWith("UpstreamPoolReady|0|", StringComparison.Ordinal)));
        // Every stream lasts tens of milliseconds at a 1 ms interval: periodic entries on both sides.
        Assert.True(downstream.Count(l => l.StartsWith("DownstreamPeriodic|", StringComparison.Ordinal)) >= Streams);
        Assert.Contains(upstreamLines, l => l.StartsWith("UpstreamPeriodic|", StringComparison.Ordinal));
        // Each stream's periodic entries come before its end entry, and none after it.
        for (var i = 0; i < Streams; i++)
        {
            var own = downstream.Where(l => l.Split('|')[3] == "/stress/" + i).ToArray();
            Assert.StartsWith("DownstreamEnd|", own[^1], StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"^(DownstreamPeriodic|DownstreamEnd|UpstreamPoolReady|UpstreamPeriodic|UpstreamEnd)\|(0|200)\|\d+\|/stress/\d+\|(1|-)\|(u\d+|-)\|(yes|-)\|(1|-)\|127\.0\.0\.1:\d+$")]
    private static partial Regex LineRegex();

    [Theory]
    [InlineData("access_log_options: { access_log_flush_interval: 0.0005s }", "access_log_flush_interval", "'access_log_flush_interval' must be at least 1ms")]
    [InlineData("access_log_flush_interval: 0s", "access_log_flush_interval", "'access_log_flush_interval' must be at least 1ms")]
    [InlineData("access_log_flush_interval: 1s\naccess_log_options: { flush_access_log_on_new_request: true }", "access_log_flush_interval",
        "Only one of access_log_flush_interval or access_log_options can be specified.")]
    public void Load_BadFlushInterval_IsAnErrorAtTheField(string options, string field, string message)
    {
        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Config(1, options, FileLogger("/dev/null", "%ACCESS_LOG_TYPE%"))));

        var only = Assert.Single(error.Errors);
        Assert.EndsWith(field, only.Location.Path, StringComparison.Ordinal);
        Assert.Equal(message, only.Message);
    }

    [Fact]
    public void Load_UpstreamLogFlushIntervalUnderAMillisecond_IsAnErrorAtTheField()
    {
        var router = "upstream_log_options: { upstream_log_flush_interval: 0.0001s }";

        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Config(1, "", FileLogger("/dev/null", "%ACCESS_LOG_TYPE%"), router)));

        var only = Assert.Single(error.Errors);
        Assert.EndsWith("upstream_log_options.upstream_log_flush_interval", only.Location.Path, StringComparison.Ordinal);
        Assert.Equal("'upstream_log_flush_interval' must be at least 1ms", only.Message);
    }

    [Fact]
    public void Translate_FlushIntervals_WholeMillisecondsAndOnlyWithLogs()
    {
        var router = "upstream_log_options: { flush_upstream_log_on_upstream_stream: true, upstream_log_flush_interval: 2.0009s }";
        var plan = Gateway.Translation.EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(Config(1, "access_log_options: { access_log_flush_interval: 1.5009s }", FileLogger("/dev/null", "%ACCESS_LOG_TYPE%"), router)));
        var hcm = plan.Listeners[0].FilterChains[0].ConnectionManager;

        // Envoy keeps the intervals as milliseconds (DurationUtil::durationToMilliseconds).
        Assert.Equal(TimeSpan.FromMilliseconds(1500), hcm.AccessLogFlushInterval);
        // No upstream_log: nothing to write, so no upstream timer and no pool-ready entry.
        Assert.Null(hcm.UpstreamLogFlushInterval);
        Assert.False(hcm.FlushUpstreamLogOnUpstreamStream);
    }

    /// <summary>
    /// A filter that changes the request (a header), the response (a header) and the dynamic metadata in its hooks, and
    /// can hold the request in its request hook until the test opens <see cref="Gate"/>.
    /// </summary>
    private sealed class MutatingFilterFactory : HttpFilterFactory<MutatingFilterConfig>
    {
        public const string Yaml = """
            - name: mutating
              typed_config: { "@type": type.googleapis.com/gateway.tests.MutatingFilter }
            """;

        private int _entered;

        public TaskCompletionSource? Gate { get; init; }

        public int Entered => Volatile.Read(ref _entered);

        public override string Name => "gateway.tests.mutating";

        protected override IHttpFilter CreateFilter(MutatingFilterConfig config, HttpFilterFactoryContext context) => new MutatingFilter(this);

        private sealed class MutatingFilter(MutatingFilterFactory factory) : IHttpFilter
        {
            public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

            public async ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
            {
                Interlocked.Increment(ref factory._entered);
                var headers = context.HttpContext.Request.Headers;
                for (var i = 0; i < 20; i++)
                {
                    headers["x-churn-" + i] = "v" + i;
                }
                if (factory.Gate is { } gate)
                {
                    await gate.Task;
                }
                for (var i = 0; i < 20; i++)
                {
                    headers.Remove("x-churn-" + i);
                }
                headers["x-mutated"] = "1";
                context.StreamInfo.DynamicMetadata("test.mutating")["count"] = 1;
                return FilterStatus.Continue;
            }

            public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
            {
                var headers = context.HttpContext.Response.Headers;
                for (var i = 0; i < 20; i++)
                {
                    headers["x-churn-" + i] = "v" + i;
                    headers.Remove("x-churn-" + i);
                }
                headers["x-filter"] = "yes";
                return new(FilterStatus.Continue);
            }
        }
    }

    private static int Ends(string[] lines, string prefix)
    {
        var count = 0;
        foreach (var line in lines)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }
}

/// <summary>The mutating test filter's (empty) configuration.</summary>
[EnvoyType("gateway.tests.MutatingFilter")]
public sealed class MutatingFilterConfig : EnvoyMessage
{
}
