using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>Process lifecycle as Envoy users expect it: graceful SIGTERM, the admin address file.</summary>
public sealed class LifecycleTests(HttpbinServer httpbin, ITestOutputHelper log) : IClassFixture<HttpbinServer>
{
    [Fact]
    public async Task Sigterm_RequestInFlight_FinishesThenExitsZero()
    {
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, httpbin.Port, log);
        var inFlight = gateway.Client.GetAsync(gateway.ListenerUri("/delay/2"));
        await Task.Delay(TimeSpan.FromMilliseconds(700));

        var exitCode = await gateway.StopAsync();
        using var response = await inFlight;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, exitCode);
        Assert.Contains("[info][main] shutting down server instance", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminAddressPath_WritesTheBoundAdminAddress()
    {
        var ports = FreePort.Next(2);
        var yaml = SeedConfig.Render(SeedConfig.Simple, httpbin.Port, listenerPort: ports[0], adminPort: ports[1]);
        var file = Path.Combine(Path.GetTempPath(), $"gateway-admin-{Guid.NewGuid():N}.txt");
        try
        {
            await using var gateway = await GatewayProcess.StartAsync(yaml, ports[0], ports[1], log, extraArgs: ["--admin-address-path", file]);

            Assert.Equal($"127.0.0.1:{ports[1]}", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
