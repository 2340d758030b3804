using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Clusters.HealthChecking;

/// <summary>
/// A loopback upstream whose health endpoint (<c>/healthz</c>) answers a status the test sets (and can be
/// slow); every other path answers 200 with the upstream's name. Health requests are recorded.
/// </summary>
internal sealed class HealthUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _healthStatus = 200;
    private int _healthDelayMs;
    private int _traffic;

    private HealthUpstream(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public int Port { get; private set; }

    /// <summary>The status <c>/healthz</c> answers.</summary>
    public int HealthStatus
    {
        get => Volatile.Read(ref _healthStatus);
        set => Volatile.Write(ref _healthStatus, value);
    }

    /// <summary>How long <c>/healthz</c> waits before answering.</summary>
    public int HealthDelayMs
    {
        get => Volatile.Read(ref _healthDelayMs);
        set => Volatile.Write(ref _healthDelayMs, value);
    }

    /// <summary>Requests other than health checks.</summary>
    public int Traffic => Volatile.Read(ref _traffic);

    /// <summary>The status requests other than health checks answer.</summary>
    public int TrafficStatus { get; set; } = 200;

    /// <summary>The health check requests received.</summary>
    public ConcurrentQueue<EchoedRequest> HealthRequests { get; } = new();

    public static async Task<HealthUpstream> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var upstream = new HealthUpstream(app, name);
        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? "/";
            if (path == "/healthz")
            {
                var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var header in context.Request.Headers)
                {
                    headers[header.Key.ToLowerInvariant()] = header.Value.ToString();
                }
                upstream.HealthRequests.Enqueue(new EchoedRequest(context.Request.Method, path + context.Request.QueryString.Value, headers));
                if (upstream.HealthDelayMs > 0)
                {
                    await Task.Delay(upstream.HealthDelayMs, context.RequestAborted);
                }
                context.Response.StatusCode = upstream.HealthStatus;
                return;
            }
            Interlocked.Increment(ref upstream._traffic);
            context.Response.StatusCode = upstream.TrafficStatus;
            await context.Response.WriteAsync(upstream.Name);
        });
        await app.StartAsync();
        upstream.Port = new Uri(app.Urls.First()).Port;
        return upstream;
    }

    /// <summary>A loopback port nothing listens on.</summary>
    public static int DeadPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Configs and polling helpers for the health checking tests.</summary>
internal static class HealthCheckTestConfig
{
    /// <summary>A listener routing everything to the STATIC cluster <c>backend</c> of <paramref name="ports"/>, with a health check.</summary>
    public static string Yaml(IEnumerable<int> ports, string healthCheck, string clusterExtra = "")
        => TestConfigs.Backends("backend", ports, clusterExtra + "\n    health_checks:\n" + healthCheck);

    /// <summary>A health check block (list item under <c>health_checks</c>).</summary>
    public static string Check(
        string timeout = "1s", string interval = "0.1s", int unhealthyThreshold = 2, int healthyThreshold = 2,
        string httpExtra = "", string extra = "")
        => $$"""
            - timeout: {{timeout}}
              interval: {{interval}}
              no_traffic_interval: {{interval}}
              unhealthy_threshold: {{unhealthyThreshold}}
              healthy_threshold: {{healthyThreshold}}
        {{extra}}
              http_health_check:
                path: /healthz
        {{httpExtra}}
        """;

    /// <summary>The <c>health_flags</c> value of a host in admin <c>/clusters</c>.</summary>
    public static async Task<string?> HealthFlagsAsync(InProcessGateway gateway, int port)
    {
        var text = await gateway.Client.GetStringAsync(gateway.AdminUri("/clusters"));
        var prefix = $"backend::127.0.0.1:{port}::health_flags::";
        return text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(25);
        }
    }

    /// <summary>Polls until the host's health flags are <paramref name="expected"/>.</summary>
    public static Task WaitForFlagsAsync(InProcessGateway gateway, int port, string expected, double seconds = 10)
        => WaitUntilAsync(async () => await HealthFlagsAsync(gateway, port) == expected, $"127.0.0.1:{port} is {expected}", seconds);
}
