using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1 that echoes what it received as JSON
/// (<c>{"method","path","headers":{...}}</c>), answers <c>/status/{code}</c>, sleeps on <c>/delay/{ms}</c>,
/// and sends its own <c>server</c> header so tests can see the gateway overwrite it.
/// </summary>
internal sealed class EchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _perPath = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _bodies = new();
    private int _requests;

    private EchoUpstream(WebApplication app) => _app = app;

    /// <summary>The request bodies received, in order.</summary>
    public IReadOnlyList<string> Bodies => [.. _bodies];

    public int Port { get; private set; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<EchoUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var upstream = new EchoUpstream(app);
        app.Run(async context =>
        {
            Interlocked.Increment(ref upstream._requests);
            var path = context.Request.Path.Value ?? "/";
            context.Response.Headers.Server = "upstream-server";
            var seen = upstream._perPath.AddOrUpdate(path, 1, static (_, n) => n + 1);
            string body;
            using (var reader = new StreamReader(context.Request.Body))
            {
                body = await reader.ReadToEndAsync();
            }
            upstream._bodies.Enqueue(body);
            if (path.StartsWith("/flaky/", StringComparison.Ordinal))
            {
                // /flaky/{n}/{code}: the first n requests to this path get {code}, later ones are echoed.
                var parts = path.Split('/');
                if (seen <= int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture))
                {
                    context.Response.StatusCode = int.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture);
                    return;
                }
            }
            if (path.StartsWith("/slow-once/", StringComparison.Ordinal) && seen == 1)
            {
                // /slow-once/{ms}: only the first request to this path is slow.
                await Task.Delay(int.Parse(path["/slow-once/".Length..], System.Globalization.CultureInfo.InvariantCulture), context.RequestAborted);
            }
            if (path.StartsWith("/status/", StringComparison.Ordinal))
            {
                context.Response.StatusCode = int.Parse(path["/status/".Length..], System.Globalization.CultureInfo.InvariantCulture);
                return;
            }
            if (path.StartsWith("/bytes/", StringComparison.Ordinal))
            {
                // /bytes/{n}: n bytes of 'x', with a content-length.
                var size = int.Parse(path["/bytes/".Length..], System.Globalization.CultureInfo.InvariantCulture);
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = size;
                var chunk = new byte[Math.Min(size, 64 * 1024)];
                Array.Fill(chunk, (byte)'x');
                for (var sent = 0; sent < size; sent += chunk.Length)
                {
                    await context.Response.Body.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, size - sent)));
                }
                return;
            }
            if (path.StartsWith("/delay/", StringComparison.Ordinal))
            {
                await Task.Delay(int.Parse(path["/delay/".Length..], System.Globalization.CultureInfo.InvariantCulture), context.RequestAborted);
            }
            var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var header in context.Request.Headers)
            {
                headers[header.Key.ToLowerInvariant()] = header.Value.ToString();
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new EchoedRequest(context.Request.Method, path + context.Request.QueryString.Value, headers)));
        });
        await app.StartAsync();
        upstream.Port = new Uri(app.Urls.First()).Port;
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record EchoedRequest(string Method, string Path, SortedDictionary<string, string> Headers);

/// <summary>The gateway running in-process on ephemeral loopback ports, from Envoy YAML.</summary>
internal sealed class InProcessGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessGateway(WebApplication app, IEnvoyGateway gateway)
    {
        _app = app;
        Gateway = gateway;
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, UseProxy = false });
    }

    public IEnvoyGateway Gateway { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<InProcessGateway> StartAsync(string yaml, Action<IServiceCollection>? configureServices = null, Action<IEnvoyGatewayBuilder>? configureGateway = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (configureGateway is null)
        {
            // Loaded here, so that a bad configuration fails the test at once with the loader's exception.
            builder.Services.AddEnvoyGateway(EnvoyConfigLoader.LoadYaml(yaml));
        }
        else
        {
            configureGateway(builder.Services.AddEnvoyGateway([new ConfigSource(ConfigSource.InlineName, yaml)]));
        }
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseEnvoyGateway();
        await app.StartAsync();
        return new InProcessGateway(app, app.Services.GetRequiredService<IEnvoyGateway>());
    }

    public Uri ListenerUri(string path, string listener = "httpbin-demo")
    {
        var endPoint = Gateway.ListenerBoundEndPoint(listener)!;
        return new Uri($"http://127.0.0.1:{endPoint.Port}{path}");
    }

    public Uri AdminUri(string path) => new($"http://127.0.0.1:{Gateway.AdminBoundEndPoint!.Port}{path}");

    /// <summary>The value of one stat from the admin <c>/stats</c> text, or null when it is not listed.</summary>
    public async Task<long?> StatAsync(string name)
    {
        var text = await Client.GetStringAsync(AdminUri("/stats"));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + ": ", StringComparison.Ordinal))
            {
                return long.Parse(line[(name.Length + 2)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    /// <summary>
    /// Asserts a stat's value, re-reading for up to 5 s: downstream stats are charged when the server
    /// finishes the exchange, which can be just after the client has the response.
    /// </summary>
    public async Task AssertStatAsync(string name, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        long? actual;
        while ((actual = await StatAsync(name)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(actual == expected, $"{name}: expected {expected}, got {(actual is null ? "no such stat" : actual)}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
