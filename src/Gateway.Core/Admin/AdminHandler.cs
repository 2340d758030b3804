using System.Text;
using Gateway.Listeners;
using Gateway.Stats;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admin;

/// <summary>
/// Envoy's admin API on <c>admin.address</c> (admin.cc): the path before '?' (normalized as Envoy's admin connection
/// manager does, <see cref="AdminPath"/>) must equal an endpoint's path;
/// unknown paths get 404 with the help text, a mutating endpoint asked with another method than POST gets
/// 405. Every response carries Envoy's fallback headers. The endpoints themselves live in one small class
/// per family (<see cref="ServerInfoHandler"/>, <see cref="StatsHandler"/>, …). Admin traffic is counted
/// under <c>http.admin.*</c> and <c>listener.admin.*</c>, never under a data listener.
/// </summary>
internal sealed class AdminHandler
{
    /// <summary>The admin connection manager's <c>max_request_headers_kb</c>: Envoy's default (admin has no setting for it).</summary>
    public const int AdminMaxRequestHeadersBytes = (int)Translation.ConnectionManagerPlan.DefaultMaxRequestHeadersKb * 1024;

    private readonly SortedDictionary<string, AdminEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly ConnectionManagerStats _stats;
    private readonly ListenerStats _listenerStats;

    /// <summary>The admin listener's <c>http.admin.*</c> stats.</summary>
    internal ConnectionManagerStats Stats => _stats;
    private readonly TimeProvider _time;
    private readonly AccessLog.AccessLogger[] _accessLogs;

    public AdminHandler(IServiceProvider services)
    {
        var store = services.GetRequiredService<StatsStore>();
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        // The admin's loggers come from the bootstrap (Envoy's admin is not reloaded with the rest of the configuration).
        var logPlans = services.GetService<Hosting.GatewayRuntime>()?.Plan.Admin?.AccessLogs ?? [];
        _accessLogs = AccessLog.AccessLogger.Build(logPlans, services.GetService<AccessLog.AccessLogManager>(), _time, services.GetService<Random>() ?? Random.Shared);
        _stats = new ConnectionManagerStats(store, "admin", "listener.admin", publishTracing: false);
        _listenerStats = new ListenerStats(store, "listener.admin");

        var help = new HelpHandler(this);
        AddAll(help.Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<ServerInfoHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<CertsHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<ServerCommandsHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<StatsHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<ClustersHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<ListenersHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<ConfigDumpHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<LoggingHandler>(services).Endpoints());
        AddAll(ActivatorUtilities.CreateInstance<RuntimeHandler>(services).Endpoints());
        AddAll(new ProfilingHandler().Endpoints());
    }

    /// <summary>Every endpoint, sorted by path (the order <c>/help</c> lists them in).</summary>
    public IEnumerable<AdminEndpoint> Endpoints => _endpoints.Values;

    private void AddAll(IEnumerable<AdminEndpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            _endpoints.Add(endpoint.Path, endpoint);
        }
    }

    /// <summary>Answers one admin request without HTTP (what <see cref="HandleAsync"/> writes).</summary>
    public AdminResponse Dispatch(AdminRequest request)
    {
        if (!_endpoints.TryGetValue(request.Path, out var endpoint))
        {
            // The space makes "invalid path." a sentence of its own before "admin commands are:".
            return new AdminResponse(StatusCodes.Status404NotFound, "invalid path. " + HelpText());
        }
        if (endpoint.Mutates && !HttpMethods.IsPost(request.Method))
        {
            return new AdminResponse(StatusCodes.Status405MethodNotAllowed, $"Method {request.Method} not allowed, POST required.");
        }
        return endpoint.Handler(request);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var start = _time.GetTimestamp();
        // The admin's connection manager has a stream info too: its access logs read it.
        var info = _accessLogs.Length == 0 ? null : new RequestStreamInfo(context, _time, start);
        _stats.RequestStarted(HttpProtocol.IsHttp2(context.Request.Protocol));
        try
        {
            var response = context.Response;
            // The admin listener is an HTTP connection manager too: Envoy's codec makes the same checks there.
            var verdict = DownstreamRequestValidator.Validate(context, AdminMaxRequestHeadersBytes);
            if (verdict != DownstreamVerdict.Accept)
            {
                _stats.DownstreamRqResponseBeforeRqComplete.Increment();
                response.Headers.Connection = "close";
            }
            if (DownstreamRequestValidator.IsCodecError(verdict))
            {
                _stats.DownstreamCxProtocolError.Increment();
                var error = DownstreamRequestValidator.Body(verdict);
                response.StatusCode = DownstreamRequestValidator.Status(verdict);
                response.Headers.Server = "envoy";
                response.ContentType = "text/plain";
                response.ContentLength = error.Length;
                await response.Body.WriteAsync(error, context.RequestAborted).ConfigureAwait(false);
                return;
            }
            // The raw target, never Kestrel's decoded Request.Path (see AdminPath).
            if (!AdminPath.TrySplit(RequestTarget.PathAndQuery(context, out _, out _), out var path, out var query))
            {
                await RefusePathAsync(context).ConfigureAwait(false);
                return;
            }
            if (query.Length == 0 && IsForm(context.Request.ContentType))
            {
                // Envoy's AdminFilter::queryParams: without a query, the parameters may come as a form body.
                query = await ReadFormAsync(context).ConfigureAwait(false);
                if (info is not null)
                {
                    info.BytesReceived = Encoding.UTF8.GetByteCount(query);
                }
            }
            var reply = Dispatch(new AdminRequest(context.Request.Method, path, query));
            response.StatusCode = reply.StatusCode;
            response.Headers.Server = "envoy";
            response.Headers[HeaderNames.ContentType] = reply.ContentType;
            response.Headers.CacheControl = "no-cache, max-age=0";
            response.Headers.XContentTypeOptions = "nosniff";
            if (reply.AfterResponse is { } after)
            {
                response.OnCompleted(() =>
                {
                    after();
                    return Task.CompletedTask;
                });
            }
            var body = Encoding.UTF8.GetBytes(reply.Body);
            response.ContentLength = body.Length;
            if (info is not null)
            {
                info.BytesSent = body.Length;
            }
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                // The connection went under the request (admin is HTTP/1 only).
                context.Features.Get<DownstreamConnection>()?.RequestAborted();
            }
            _stats.RequestFinished(context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, _time.GetElapsedTime(start).TotalMilliseconds);
            if (info is not null)
            {
                info.Complete();
                AccessLog.AccessLogger.LogAll(_accessLogs, AccessLog.AccessLogContext.ForRequest(info, Configuration.AccessLogType.DownstreamEnd));
            }
        }
    }

    /// <summary>
    /// What Envoy's connection manager answers before the admin filter sees the request: a target that is not a
    /// relative path is 404 (<c>downstream_rq_non_relative_path</c>), one normalization refuses 400
    /// (<c>downstream_rq_failed_path_normalization</c>), both without a body.
    /// </summary>
    private Task RefusePathAsync(HttpContext context)
    {
        var pathAndQuery = RequestTarget.PathAndQuery(context, out _, out _);
        var relative = pathAndQuery.Length > 0 && pathAndQuery[0] == '/';
        (relative ? _stats.DownstreamRqFailedPathNormalization : _stats.DownstreamRqNonRelativePath).Increment();
        context.Response.StatusCode = relative ? StatusCodes.Status400BadRequest : StatusCodes.Status404NotFound;
        context.Response.Headers.Server = "envoy";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>The largest form body read for parameters; admin forms are a few fields.</summary>
    private const int MaxFormBytes = 64 * 1024;

    private static bool IsForm(string? contentType)
        => string.Equals(contentType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    private static async Task<string> ReadFormAsync(HttpContext context)
    {
        var buffer = new byte[MaxFormBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            length += read;
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>Counts an admin connection under <c>http.admin.*</c> and <c>listener.admin.*</c> for its lifetime.</summary>
    public async Task OnConnectionAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        var opened = _stats.ConnectionOpened(_listenerStats, http2: false);
        var tracked = new DownstreamConnection();
        connection.Transport = tracked.Observe(connection.Transport);
        connection.Features.Set(tracked);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _stats.ConnectionClosed(_listenerStats, http2: false, opened, tracked.RemoteClosed, tracked.ActiveRequest);
        }
    }

    /// <summary>Envoy's <c>/help</c> text: every path sorted, mutating ones marked <c>(POST)</c>, parameters indented below.</summary>
    public string HelpText()
    {
        var builder = new StringBuilder("admin commands are:\n");
        foreach (var endpoint in _endpoints.Values)
        {
            builder.Append("  ").Append(endpoint.Path).Append(endpoint.Mutates ? " (POST)" : string.Empty).Append(": ").Append(endpoint.Help).Append('\n');
            foreach (var param in endpoint.Params)
            {
                builder.Append("      ").Append(param.Name).Append(": ").Append(param.Help);
                if (param.Choices is { } choices)
                {
                    builder.Append("; One of (").Append(string.Join(", ", choices)).Append(')');
                }
                builder.Append('\n');
            }
        }
        return builder.ToString();
    }
}
