using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Admin;

/// <summary><c>/healthcheck/fail</c>, <c>/healthcheck/ok</c>, <c>/drain_listeners</c>, <c>/quitquitquit</c>.</summary>
public class ServerCommandsHandlerTests
{
    private static HttpClient NewClient() => new(new SocketsHttpHandler { UseProxy = false, UseCookies = false });

    [Fact]
    public async Task HealthcheckFail_Post_ReadyIsDraining503AndServerLiveIs0()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var fail = await server.PostAsync("/healthcheck/fail");
        using var ready = await server.GetAsync("/ready");

        Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        Assert.Equal("OK\n", await fail.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("DRAINING\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal("server.live: 0\nserver.state: 1\n", await server.GetStringAsync("/stats?filter=^server\\.(live|state)$"));
        // Envoy keeps serving traffic: only health checks (and /ready) fail.
        Assert.Equal(200, await server.ProxyAsync("/get"));
    }

    [Fact]
    public async Task HealthcheckOk_AfterFail_IsLiveAgain()
    {
        await using var server = await AdminTestServer.StartAsync();
        (await server.PostAsync("/healthcheck/fail")).Dispose();

        using var ok = await server.PostAsync("/healthcheck/ok");
        using var ready = await server.GetAsync("/ready");

        Assert.Equal("OK\n", await ok.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("LIVE\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal("server.live: 1\nserver.state: 0\n", await server.GetStringAsync("/stats?filter=^server\\.(live|state)$"));
    }

    [Fact]
    public async Task QuitQuitQuit_Post_AnswersOkThenStopsTheHost()
    {
        await using var server = await AdminTestServer.StartAsync();
        var lifetime = server.Gateway.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource();
        lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());

        using var response = await server.PostAsync("/quitquitquit");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task DrainListeners_Post_NewConnectionsToDataListenersAreClosed()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/drain_listeners");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        using var client = NewClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(server.Gateway.ListenerUri("/get")));
        // The admin listener is never drained.
        Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
    }

    [Fact]
    public async Task DrainListeners_OpenKeepAliveConnection_IsClosedAfterTheDrain()
    {
        await using var server = await AdminTestServer.StartAsync();
        using var client = NewClient();
        using (var first = await client.GetAsync(server.Gateway.ListenerUri("/get")))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Null(first.Headers.ConnectionClose);
        }

        (await server.PostAsync("/drain_listeners")).Dispose();

        // The idle connection is closed by the drain (asynchronously: wait until the gateway counts no
        // open downstream connection, or a request could still slip onto it); a new one is refused.
        await server.Gateway.AssertStatAsync("http.ingress_http.downstream_cx_active", 0);
        var refused = await Record.ExceptionAsync(() => client.GetAsync(server.Gateway.ListenerUri("/get")));
        // How the refusal surfaces depends on when the socket saw it: wrapped by HttpClient or raw from the socket.
        Assert.True(refused is HttpRequestException or System.Net.Sockets.SocketException or IOException, $"expected a refused connection, got {refused?.GetType().Name ?? "a response"}");
    }

    [Fact]
    public async Task DrainListenersGraceful_Post_KeepsAcceptingAndClosesEachConnectionAfterItsResponse()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/drain_listeners?graceful");
        using var client = NewClient();
        using var proxied = await client.GetAsync(server.Gateway.ListenerUri("/get"));

        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.True(proxied.Headers.ConnectionClose);
    }

    [Fact]
    public async Task DrainListenersSkipExit_Post_ListenersKeepAccepting()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/drain_listeners?skip_exit");
        using var client = NewClient();
        using var proxied = await client.GetAsync(server.Gateway.ListenerUri("/get"));

        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.True(proxied.Headers.ConnectionClose);
    }

    [Fact]
    public async Task DrainListenersInboundOnly_NoInboundListener_DrainsNothing()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/drain_listeners?inboundonly");
        using var client = NewClient();
        using var proxied = await client.GetAsync(server.Gateway.ListenerUri("/get"));

        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Null(proxied.Headers.ConnectionClose);
    }
}
