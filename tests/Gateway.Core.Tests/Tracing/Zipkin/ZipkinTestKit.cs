using System.Buffers.Binary;
using System.Net;
using System.Threading.Channels;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Tracing;
using Gateway.Tracing.Zipkin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tracing.Zipkin;

/// <summary>A <see cref="Random"/> whose 64-bit draws (<c>NextBytes</c> of 8) are scripted, so span and trace ids are known.</summary>
internal sealed class ScriptedIds(params ulong[] ids) : Random
{
    private int _next;

    public override void NextBytes(Span<byte> buffer)
    {
        var index = Interlocked.Increment(ref _next) - 1;
        Assert.True(index < ids.Length, "more ids drawn than scripted");
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, ids[index]);
    }
}

/// <summary>One POST a <see cref="ZipkinCollector"/> received.</summary>
internal sealed record CollectedReport(string Path, string Host, string? ContentType, byte[] Body);

/// <summary>
/// A Zipkin collector on 127.0.0.1 (real Kestrel): records each POST and answers <see cref="Status"/> (202, as
/// Zipkin does, unless a test says otherwise).
/// </summary>
internal sealed class ZipkinCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<CollectedReport> _reports = Channel.CreateUnbounded<CollectedReport>();

    private ZipkinCollector(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public int Status { get; set; } = StatusCodes.Status202Accepted;

    public static async Task<ZipkinCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new ZipkinCollector(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            await collector._reports.Writer.WriteAsync(new CollectedReport(
                context.Request.Path.Value ?? string.Empty, context.Request.Host.Value ?? string.Empty, context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = collector.Status;
        });
        await app.StartAsync();
        collector.Port = new Uri(app.Urls.First()).Port;
        return collector;
    }

    /// <summary>The next report, waiting at most 10 s.</summary>
    public async Task<CollectedReport> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _reports.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>True when a report is already there.</summary>
    public bool TryNext(out CollectedReport? report) => _reports.Reader.TryRead(out report);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Stands in for the gateway's cluster client: sends to 127.0.0.1:<c>port</c> whatever the request's authority is
/// (the cluster client replaces it with the chosen host), keeping the request's Host header.
/// </summary>
internal sealed class LoopbackClusterHandler(int port) : DelegatingHandler(new SocketsHttpHandler { UseProxy = false })
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.RequestUri = new UriBuilder(request.RequestUri!) { Host = "127.0.0.1", Port = port }.Uri;
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Builds Zipkin tracers the way a configuration would, with a fake clock and known ids.</summary>
internal sealed class ZipkinHarness : IAsyncDisposable
{
    private readonly Dictionary<string, HttpMessageInvoker> _clients = new(StringComparer.Ordinal);

    public ZipkinHarness(Random? random = null, IPAddress? localAddress = null)
    {
        Random = random ?? new Random(7);
        Context = new TracerContext(Stats, Time, Random, NullLoggerFactory.Instance, ClientFor, "front-proxy", "node-1")
        {
            LocalAddress = localAddress,
        };
    }

    public StatsStore Stats { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    public Random Random { get; }

    public TracerContext Context { get; }

    /// <summary>Routes the cluster <paramref name="cluster"/> to a collector on loopback.</summary>
    public void AddCluster(string cluster, int port) => _clients[cluster] = new HttpMessageInvoker(new LoopbackClusterHandler(port));

    public long Counter(string name) => Stats.Counter("tracing.zipkin." + name).Value;

    public ZipkinTracer Create(ZipkinConfig config)
    {
        config.CollectorCluster ??= "zipkin";
        config.CollectorEndpoint ??= "/api/v2/spans";
        if (config.CollectorEndpointVersion == ZipkinCollectorEndpointVersion.DeprecatedAndUnavailableDoNotUse)
        {
            config.CollectorEndpointVersion = ZipkinCollectorEndpointVersion.HttpJson;
        }
        var tracer = (ZipkinTracer)ZipkinTracerFactory.Instance.Create(config, Context);
        _tracers.Add(tracer);
        return tracer;
    }

    private readonly List<ZipkinTracer> _tracers = [];

    private HttpMessageInvoker ClientFor(string cluster)
        => _clients.TryGetValue(cluster, out var client) ? client : throw new KeyNotFoundException("no cluster " + cluster);

    public async ValueTask DisposeAsync()
    {
        foreach (var tracer in _tracers)
        {
            await tracer.DisposeAsync();
        }
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}

/// <summary>Builders of <see cref="SpanStart"/>s.</summary>
internal static class Spans
{
    public static readonly DateTimeOffset Start = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);

    public static SpanStart Ingress(HeaderDictionary? headers = null, bool traced = true, string name = "example.com")
        => new(headers ?? new HeaderDictionary(), name, Start, new TracingDecision(traced ? TraceReason.Sampling : TraceReason.NotTraceable, traced), SpanDirection.Ingress);

    public static SpanStart Egress(HeaderDictionary? headers = null, bool traced = true, string name = "example.com")
        => Ingress(headers, traced, name) with { Direction = SpanDirection.Egress };

    public static HeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }
        return dictionary;
    }
}
