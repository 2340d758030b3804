using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Admin;

/// <summary>
/// The POST commands that change the server (server_cmd_handler.cc, listeners_handler.cc):
/// <c>/healthcheck/fail</c>, <c>/healthcheck/ok</c>, <c>/drain_listeners</c> and <c>/quitquitquit</c>.
/// </summary>
internal sealed class ServerCommandsHandler(ServerState server, IServiceProvider services)
{

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/healthcheck/fail", "cause the server to fail health checks", true, _ =>
        {
            server.FailHealthCheck(true);
            return AdminResponse.Ok("OK\n");
        }),
        new("/healthcheck/ok", "cause the server to pass health checks", true, _ =>
        {
            server.FailHealthCheck(false);
            return AdminResponse.Ok("OK\n");
        }),
        new("/drain_listeners", "drain listeners", true,
        [
            new AdminParam("graceful", "When draining listeners, enter a graceful drain period prior to closing listeners. This behaviour and duration is configurable via server options or CLI"),
            new AdminParam("skip_exit", "When draining listeners, do not exit after the drain period. This must be used with graceful"),
            new AdminParam("inboundonly", "Drains all inbound listeners. traffic_direction field in envoy_v3_api_msg_config.listener.v3.Listener is used to determine whether a listener is inbound or outbound."),
        ], DrainListeners),
        new("/quitquitquit", "exit the server", true, _ => AdminResponse.Ok("OK\n") with
        {
            // Envoy answers, then shuts down cleanly.
            AfterResponse = () => services.GetService<IHostApplicationLifetime>()?.StopApplication(),
        }),
    ];

    /// <summary>
    /// Open data connections are told to close after their current request (HTTP/1.1: <c>connection: close</c>;
    /// HTTP/2: GOAWAY). Without <c>graceful</c> the data listeners stop taking connections at once; with it they
    /// keep accepting for the drain time (600 s) first; <c>skip_exit</c> leaves them accepting. The admin
    /// listener is never drained. No listener of this gateway is INBOUND (<c>traffic_direction</c> is not
    /// supported), so <c>inboundonly</c> drains nothing, as Envoy does for such listeners.
    /// </summary>
    private AdminResponse DrainListeners(AdminRequest request)
    {
        if (request.Has("inboundonly"))
        {
            return AdminResponse.Ok("OK\n");
        }
        var graceful = request.Has("graceful");
        var skipExit = request.Has("skip_exit");
        server.DrainListeners(skipExit ? null : graceful ? (services.GetService<Hosting.DrainOptions>()?.DrainTime ?? Hosting.DrainOptions.DefaultDrainTime) : TimeSpan.Zero);
        return AdminResponse.Ok("OK\n");
    }
}
