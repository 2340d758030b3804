using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary>A clock whose wall time the test sets; timestamps and timers stay real.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The seed configuration in-process (STATIC cluster at an echo upstream, ephemeral ports) for admin tests.</summary>
internal sealed class AdminTestServer : IAsyncDisposable
{
    /// <summary>The wall time the fixed clock starts at.</summary>
    public static readonly DateTimeOffset Start = new(2024, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    private AdminTestServer(EchoUpstream upstream, InProcessGateway gateway, FixedClock clock)
    {
        Upstream = upstream;
        Gateway = gateway;
        Clock = clock;
    }

    public EchoUpstream Upstream { get; }

    public InProcessGateway Gateway { get; }

    public FixedClock Clock { get; }

    public HttpClient Client => Gateway.Client;

    public int UpstreamPort => Upstream.Port;

    public int ListenerPort => Gateway.Gateway.ListenerBoundEndPoint("httpbin-demo")!.Port;

    public static async Task<AdminTestServer> StartAsync(Action<IServiceCollection>? configure = null, string? yaml = null)
    {
        var upstream = await EchoUpstream.StartAsync();
        var clock = new FixedClock(Start);
        yaml ??= TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1");
        var gateway = await InProcessGateway.StartAsync(yaml, services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            configure?.Invoke(services);
        });
        return new AdminTestServer(upstream, gateway, clock);
    }

    public Task<HttpResponseMessage> GetAsync(string path) => Client.GetAsync(Gateway.AdminUri(path));

    public Task<HttpResponseMessage> PostAsync(string path) => Client.PostAsync(Gateway.AdminUri(path), null);

    public async Task<string> GetStringAsync(string path)
    {
        using var response = await GetAsync(path);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>One request through the data listener; returns its status.</summary>
    public async Task<int> ProxyAsync(string path)
    {
        using var response = await Client.GetAsync(Gateway.ListenerUri(path));
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
