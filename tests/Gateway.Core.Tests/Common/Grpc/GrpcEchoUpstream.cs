using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Common.Grpc;

/// <summary>A real Grpc.AspNetCore server on loopback (h2c with prior knowledge) serving <c>gateway.tests.echo.Echo</c>.</summary>
internal sealed class GrpcEchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcEchoUpstream(WebApplication app, EchoState state)
    {
        _app = app;
        State = state;
    }

    public int Port { get; private set; }

    /// <summary>What the server saw.</summary>
    public EchoState State { get; }

    /// <summary>Starts the server; <paramref name="protocols"/> Http1AndHttp2 lets an HTTP/1.1 upstream request (grpc_http1_bridge tests) in too.</summary>
    public static async Task<GrpcEchoUpstream> StartAsync(HttpProtocols protocols = HttpProtocols.Http2, Action<WebApplication>? map = null)
    {
        var state = new EchoState();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(state);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = protocols));
        var app = builder.Build();
        map?.Invoke(app);
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        return new GrpcEchoUpstream(app, state) { Port = new Uri(app.Urls.First()).Port };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Calls per message, and the last grpc-timeout seen.</summary>
internal sealed class EchoState
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public int Calls(string message) => _calls.TryGetValue(message, out var calls) ? calls : 0;

    internal int Count(string message) => _calls.AddOrUpdate(message, 1, static (_, calls) => calls + 1);
}

internal sealed class EchoService(EchoState state) : Echo.EchoBase
{
    public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        var attempt = Admit(request);
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }
        return Reply(request.Message, attempt, context);
    }

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var attempt = Admit(request);
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(Reply(request.Message + " " + i, attempt, context));
        }
    }

    public override async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var messages = new List<string>();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            messages.Add(request.Message);
        }
        return Reply(string.Join(",", messages), messages.Count, context);
    }

    public override async Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var attempt = 0;
        // Each message is answered before the next is read: the client sees replies while it is still sending.
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(Reply(request.Message, ++attempt, context));
        }
    }

    private int Admit(EchoRequest request)
    {
        var attempt = state.Count(request.Message);
        if (request.FailWith != 0 && (request.FailTimes == 0 || attempt <= request.FailTimes))
        {
            throw new RpcException(new Status((StatusCode)request.FailWith, "failing attempt " + attempt));
        }
        return attempt;
    }

    private static EchoReply Reply(string message, int attempt, ServerCallContext context) => new()
    {
        Message = message,
        Attempt = attempt,
        // Grpc.AspNetCore keeps its reserved headers out of RequestHeaders: read the HTTP request.
        GrpcTimeout = context.GetHttpContext().Request.Headers["grpc-timeout"].ToString(),
    };
}
