using System.Globalization;
using System.Text;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admin;

/// <summary>
/// Envoy's admin API on <c>admin.address</c>. Paths must match exactly (the query is separate);
/// unknown paths get 404 with the help text, as Envoy answers.
/// </summary>
internal sealed class AdminHandler
{
    private readonly SortedDictionary<string, AdminEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly StatsStore _stats;

    public AdminHandler(StatsStore stats, ServerState server)
    {
        _stats = stats;
        Add(new AdminEndpoint("/help", "print out list of admin commands", false, HelpAsync));
        Add(new AdminEndpoint("/ready", "print server state, return 200 if LIVE, otherwise return 503", false, context => ReadyAsync(context, server)));
        Add(new AdminEndpoint("/stats", "print server stats", false, StatsAsync));
    }

    private void Add(AdminEndpoint endpoint) => _endpoints[endpoint.Path] = endpoint;

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.Server = "envoy";
        response.Headers.CacheControl = "no-cache, max-age=0";
        response.Headers.XContentTypeOptions = "nosniff";
        if (!_endpoints.TryGetValue(context.Request.Path.Value ?? "/", out var endpoint))
        {
            return WriteTextAsync(context, StatusCodes.Status404NotFound, "invalid path. " + HelpText());
        }
        if (endpoint.Mutates && !HttpMethods.IsPost(context.Request.Method))
        {
            return WriteTextAsync(context, StatusCodes.Status405MethodNotAllowed, $"Method {context.Request.Method} not allowed, POST required.");
        }
        return endpoint.Handler(context);
    }

    private string HelpText()
    {
        var builder = new StringBuilder("admin commands are:\n");
        foreach (var endpoint in _endpoints.Values)
        {
            builder.Append("  ").Append(endpoint.Path).Append(endpoint.Mutates ? " (POST)" : string.Empty).Append(": ").Append(endpoint.Help).Append('\n');
        }
        return builder.ToString();
    }

    private Task HelpAsync(HttpContext context) => WriteTextAsync(context, StatusCodes.Status200OK, HelpText());

    private static Task ReadyAsync(HttpContext context, ServerState server)
    {
        var state = server.State;
        return WriteTextAsync(context, state == ServerState.Live ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, ServerState.Name(state) + "\n");
    }

    private Task StatsAsync(HttpContext context)
    {
        // Counters and gauges merged in one alphabetical list, "name: value", as Envoy prints them.
        var lines = new List<KeyValuePair<string, long>>();
        foreach (var counter in _stats.Counters)
        {
            lines.Add(new(counter.Name, counter.Value));
        }
        foreach (var gauge in _stats.Gauges)
        {
            lines.Add(new(gauge.Name, gauge.Value));
        }
        lines.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var builder = new StringBuilder(lines.Count * 48);
        foreach (var (name, value) in lines)
        {
            builder.Append(name).Append(": ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return WriteTextAsync(context, StatusCodes.Status200OK, builder.ToString());
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.Headers[HeaderNames.ContentType] = "text/plain; charset=UTF-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private sealed record AdminEndpoint(string Path, string Help, bool Mutates, Func<HttpContext, Task> Handler);
}
