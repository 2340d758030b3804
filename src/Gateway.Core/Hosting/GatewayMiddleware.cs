using Gateway.Admin;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;

namespace Gateway.Hosting;

/// <summary>
/// The first step of the pipeline: a request that arrived on an Envoy listener is handled here to the
/// end (admin API, or connection manager + router + YARP); anything else (an embedding app's own
/// endpoints) continues down the pipeline.
/// </summary>
internal sealed class GatewayMiddleware(RequestDelegate next, ConnectionManager connectionManager, AdminHandler admin, ServerState server)
{
    public Task InvokeAsync(HttpContext context)
    {
        // A listener's connection carries the filter chain it was given at accept.
        var connection = context.Features.Get<DownstreamConnection>();
        if (connection?.Chain is not { } listener)
        {
            var slot = context.Features.Get<ListenerSlot>();
            if (slot is null)
            {
                return next(context);
            }
            if (slot.IsAdmin)
            {
                return admin.HandleAsync(context);
            }
            // A listener that had no configuration when the connection came.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }
        if (server.ListenersDraining)
        {
            // Admin /drain_listeners: Envoy's drain close, the connection ends after this response.
            context.Response.Headers.Connection = "close";
        }
        return connectionManager.HandleAsync(context, connection, listener);
    }
}
