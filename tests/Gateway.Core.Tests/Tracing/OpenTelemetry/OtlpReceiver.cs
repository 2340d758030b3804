using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Gateway.Tests.Tracing.OpenTelemetry.Otlp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>One export a receiver got: the request line and headers, and the body decoded with the test's own protos.</summary>
internal sealed record ReceivedExport(string Method, string Path, string Protocol, string? ContentType, string Host, IReadOnlyDictionary<string, string> Headers, ExportTraceServiceRequest Request)
{
    /// <summary>Every span of the export.</summary>
    public IReadOnlyList<Span> Spans => [.. Request.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans)];
}

/// <summary>
/// A real OTLP collector on 127.0.0.1 (Kestrel): OTLP/HTTP protobuf (<c>POST /v1/traces</c>, HTTP/1.1) or OTLP/gRPC
/// (h2c with prior knowledge, <c>TraceService/Export</c> in gRPC framing, answered with an empty response and
/// <c>grpc-status: 0</c>). Exports are decoded with the test-compiled protos, not the SDK.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedExport> _exports = Channel.CreateUnbounded<ReceivedExport>();
    private readonly ConcurrentQueue<ReceivedExport> _all = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary>Every export received so far.</summary>
    public IReadOnlyList<ReceivedExport> All => [.. _all];

    public static Task<OtlpReceiver> StartHttpAsync() => StartAsync(grpc: false);

    public static Task<OtlpReceiver> StartGrpcAsync() => StartAsync(grpc: true);

    /// <summary>The next export, or a failure after <paramref name="timeout"/>.</summary>
    public async Task<ReceivedExport> NextAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        return await _exports.Reader.ReadAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task<OtlpReceiver> StartAsync(bool grpc)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            ExportTraceServiceRequest request;
            if (grpc)
            {
                // gRPC framing: a compressed flag byte, a 4-byte big-endian length, the message.
                if (bytes.Length < 5 || bytes[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1, 4)) != bytes.Length - 5)
                {
                    context.Response.StatusCode = 400;
                    return;
                }
                request = ExportTraceServiceRequest.Parser.ParseFrom(bytes, 5, bytes.Length - 5);
            }
            else
            {
                request = ExportTraceServiceRequest.Parser.ParseFrom(bytes);
            }
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in context.Request.Headers)
            {
                headers[name] = value.ToString();
            }
            var export = new ReceivedExport(context.Request.Method, context.Request.Path.Value ?? "", context.Request.Protocol, context.Request.ContentType, context.Request.Host.Value ?? "", headers, request);
            receiver._all.Enqueue(export);
            receiver._exports.Writer.TryWrite(export);
            if (grpc)
            {
                context.Response.ContentType = "application/grpc";
                await context.Response.Body.WriteAsync(new byte[5]);
                context.Response.AppendTrailer("grpc-status", "0");
            }
            else
            {
                context.Response.ContentType = "application/x-protobuf";
                await context.Response.Body.WriteAsync(new ExportTraceServiceResponse().ToByteArrayOrEmpty());
            }
        });
        await app.StartAsync();
        receiver.Port = new Uri(app.Urls.First()).Port;
        return receiver;
    }
}

/// <summary>
/// A stand-in for the gateway's cluster client (Envoy's async client) until the real one lands: like it, it replaces
/// the request URI's authority with the chosen host (here 127.0.0.1:port), and counts what it sent.
/// </summary>
internal sealed class LoopbackCluster : DelegatingHandler
{
    private readonly int _port;
    private int _requests;

    public LoopbackCluster(int port)
        : base(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        _port = port;
    }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The client for a cluster, recording which cluster was asked for.</summary>
    public static Func<string, HttpMessageInvoker> For(int port, List<string>? asked = null, Action<LoopbackCluster>? created = null) => name =>
    {
        lock (asked ?? [])
        {
            asked?.Add(name);
        }
        var handler = new LoopbackCluster(port);
        created?.Invoke(handler);
        return new HttpMessageInvoker(handler, disposeHandler: true);
    };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        request.RequestUri = new UriBuilder(request.RequestUri!) { Host = "127.0.0.1", Port = _port }.Uri;
        return base.SendAsync(request, cancellationToken);
    }
}

internal static class ProtoExtensions
{
    public static byte[] ToByteArrayOrEmpty(this Google.Protobuf.IMessage message) => Google.Protobuf.MessageExtensions.ToByteArray(message);
}

/// <summary>A collector that accepts connections and requests but never answers (until disposed).</summary>
internal sealed class HungCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HungCollector(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary>Completes when the first request arrived.</summary>
    public Task FirstRequest => _first.Task;

    public static async Task<HungCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new HungCollector(app);
        app.Run(async context =>
        {
            collector._first.TrySetResult();
            await Task.WhenAny(collector._release.Task, Task.Delay(Timeout.Infinite, context.RequestAborted));
        });
        await app.StartAsync();
        collector.Port = new Uri(app.Urls.First()).Port;
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
