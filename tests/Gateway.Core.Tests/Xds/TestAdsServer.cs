using System.Net;
using Gateway.Xds.Wire;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Xds;

/// <summary>
/// A control plane for the tests: a real Grpc.AspNetCore ADS server on 127.0.0.1 (h2c) serving state-of-the-world
/// and incremental (delta) responses from what the test set per type. It answers a request that opens a type (no nonce) or changes its names,
/// pushes every change to the streams subscribed to its type, and records every request, so tests can check the ACKs,
/// NACKs and node the gateway sends. It can be stopped and started again on the same port (control plane down and back).
/// </summary>
internal sealed class TestAdsServer : IAsyncDisposable
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, (string Version, List<(string Name, Any Resource)> Resources)> _resources = new(StringComparer.Ordinal);
    private readonly List<AdsStream> _streams = [];
    private readonly List<DeltaStream> _deltaStreams = [];
    private readonly List<DiscoveryRequest> _requests = [];
    private readonly List<DeltaDiscoveryRequest> _deltaRequests = [];
    private WebApplication? _app;
    private CancellationTokenSource _lifetime = new();
    private int _nonce;

    public int Port { get; private set; }

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyList<DiscoveryRequest> Requests
    {
        get
        {
            lock (_sync)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Every incremental request received, in order.</summary>
    public IReadOnlyList<DeltaDiscoveryRequest> DeltaRequests
    {
        get
        {
            lock (_sync)
            {
                return [.. _deltaRequests];
            }
        }
    }

    /// <summary>Starts the server; with <paramref name="certificate"/> it speaks TLS (ALPN h2) with it.</summary>
    public static async Task<TestAdsServer> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var server = new TestAdsServer { _certificate = certificate };
        await server.StartAsync(0);
        return server;
    }

    private System.Security.Cryptography.X509Certificates.X509Certificate2? _certificate;

    private async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = null);
        builder.Services.AddSingleton(this);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (_certificate is { } certificate)
            {
                l.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        app.MapGrpcService<AdsService>();
        _lifetime = new CancellationTokenSource();
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    /// <summary>The control plane goes down: its streams end and its port refuses connections.</summary>
    public async Task StopAsync()
    {
        await _lifetime.CancelAsync();
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The control plane comes back on the same port, with the resources it had.</summary>
    public Task RestartAsync() => StartAsync(Port);

    /// <summary>
    /// Sets a type's resources (protobuf JSON, each with its <c>@type</c>, named by <c>name</c> or <c>cluster_name</c>)
    /// and pushes them to the streams watching it: the whole set (SotW), or what changed and what went (delta).
    /// </summary>
    public void Set(string typeUrl, string version, params string[] resources)
    {
        var packed = new List<(string Name, Any Resource)>(resources.Length);
        foreach (var resource in resources)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(resource)!;
            packed.Add(((string?)json["name"] ?? (string?)json["cluster_name"] ?? string.Empty, ProtoResourceWriter.Pack(resource)));
        }
        AdsStream[] streams;
        DeltaStream[] deltaStreams;
        lock (_sync)
        {
            _resources[typeUrl] = (version, packed);
            streams = [.. _streams];
            deltaStreams = [.. _deltaStreams];
        }
        foreach (var stream in streams)
        {
            if (stream.Watches(typeUrl))
            {
                _ = SendAsync(stream, typeUrl);
            }
        }
        foreach (var stream in deltaStreams)
        {
            _ = SendDeltaAsync(stream, typeUrl, always: false);
        }
    }

    /// <summary>Waits (up to 10 s) for a request that <paramref name="match"/> accepts, at or after index <paramref name="from"/>.</summary>
    public Task<DiscoveryRequest> WaitForRequestAsync(Func<DiscoveryRequest, bool> match, string what, int from = 0) => WaitForAsync(() => Requests, match, what, from);

    /// <summary>Waits (up to 10 s) for an incremental request that <paramref name="match"/> accepts, at or after index <paramref name="from"/>.</summary>
    public Task<DeltaDiscoveryRequest> WaitForDeltaRequestAsync(Func<DeltaDiscoveryRequest, bool> match, string what, int from = 0) => WaitForAsync(() => DeltaRequests, match, what, from);

    private static async Task<T> WaitForAsync<T>(Func<IReadOnlyList<T>> received, Func<T, bool> match, string what, int from)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var requests = received();
            for (var i = from; i < requests.Count; i++)
            {
                if (match(requests[i]))
                {
                    return requests[i];
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"no request {what} in 10 s; received: {string.Join(" | ", requests)}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>The request headers of the last stream opened (the client's initial metadata among them).</summary>
    public Metadata? LastStreamHeaders { get; private set; }

    private Task HandleAsync(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
    {
        LastStreamHeaders = context.RequestHeaders;
        var stream = new AdsStream(responses);
        return ServeAsync(requests, context, stream, _streams, request =>
        {
            _requests.Add(request);
            return stream.Update(request);
        }, request => SendAsync(stream, request.TypeUrl));
    }

    private Task HandleDeltaAsync(IAsyncStreamReader<DeltaDiscoveryRequest> requests, IServerStreamWriter<DeltaDiscoveryResponse> responses, ServerCallContext context)
    {
        var stream = new DeltaStream(responses);
        return ServeAsync(requests, context, stream, _deltaStreams, request =>
        {
            _deltaRequests.Add(request);
            return stream.Update(request);
        }, request => SendDeltaAsync(stream, request.TypeUrl, always: true));
    }

    /// <summary>Reads a stream's requests until it ends: each is recorded (under the lock) and, when that says so, answered.</summary>
    private async Task ServeAsync<TRequest, TStream>(IAsyncStreamReader<TRequest> requests, ServerCallContext context, TStream stream, List<TStream> streams,
        Func<TRequest, bool> received, Func<TRequest, Task> answer)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _lifetime.Token);
        lock (_sync)
        {
            streams.Add(stream);
        }
        try
        {
            while (await requests.MoveNext(stop.Token))
            {
                var request = requests.Current;
                bool respond;
                lock (_sync)
                {
                    respond = received(request);
                }
                if (respond)
                {
                    await answer(request);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The test stopped the server, or the gateway went away.
        }
        finally
        {
            lock (_sync)
            {
                streams.Remove(stream);
            }
        }
    }

    private Task SendAsync(AdsStream stream, string typeUrl)
    {
        DiscoveryResponse response;
        lock (_sync)
        {
            var (version, resources) = _resources.TryGetValue(typeUrl, out var set) ? set : (string.Empty, []);
            var nonce = (++_nonce).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response = new DiscoveryResponse { VersionInfo = version, TypeUrl = typeUrl, Nonce = nonce };
            foreach (var (_, resource) in resources)
            {
                response.Resources.Add(resource);
            }
            stream.Sent(typeUrl, nonce);
        }
        return stream.Writer.WriteAsync(response);
    }

    /// <summary>Sends what changed for the stream since it last heard (nothing when nothing did, unless <paramref name="always"/>).</summary>
    private Task SendDeltaAsync(DeltaStream stream, string typeUrl, bool always)
    {
        DeltaDiscoveryResponse? response;
        lock (_sync)
        {
            var (version, resources) = _resources.TryGetValue(typeUrl, out var set) ? set : (string.Empty, []);
            response = stream.Changes(typeUrl, version, resources, always, () => (++_nonce).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return response is null ? Task.CompletedTask : stream.Writer.WriteAsync(response);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _lifetime.Dispose();
    }

    /// <summary>Writes one stream's responses one at a time; a stream that is gone takes no more.</summary>
    private sealed class Outbound<T>(IServerStreamWriter<T> writer)
    {
        private readonly SemaphoreSlim _write = new(1, 1);

        public async Task WriteAsync(T response)
        {
            await _write.WaitAsync();
            try
            {
                await writer.WriteAsync(response);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
            {
                // The stream is gone.
            }
            finally
            {
                _write.Release();
            }
        }
    }

    /// <summary>One gateway's stream: the names it watches per type and the last nonce sent.</summary>
    private sealed class AdsStream(IServerStreamWriter<DiscoveryResponse> writer)
    {
        private readonly Dictionary<string, (HashSet<string> Names, string Nonce)> _types = new(StringComparer.Ordinal);

        public Outbound<DiscoveryResponse> Writer { get; } = new(writer);

        public bool Watches(string typeUrl) => _types.ContainsKey(typeUrl);

        /// <summary>Records the request; true when it asks for a response (a new type, or other names).</summary>
        public bool Update(DiscoveryRequest request)
        {
            var names = new HashSet<string>(request.ResourceNames, StringComparer.Ordinal);
            if (!_types.TryGetValue(request.TypeUrl, out var known) || request.ResponseNonce.Length == 0)
            {
                _types[request.TypeUrl] = (names, string.Empty);
                return true;
            }
            _types[request.TypeUrl] = (names, known.Nonce);
            return !names.SetEquals(known.Names);
        }

        public void Sent(string typeUrl, string nonce)
        {
            if (_types.TryGetValue(typeUrl, out var known))
            {
                _types[typeUrl] = (known.Names, nonce);
            }
        }
    }

    /// <summary>One gateway's incremental stream: per type, the wildcard or the names subscribed and the version of each resource it holds.</summary>
    private sealed class DeltaStream(IServerStreamWriter<DeltaDiscoveryResponse> writer)
    {
        private readonly Dictionary<string, (bool Wildcard, HashSet<string> Names, Dictionary<string, string> Held)> _types = new(StringComparer.Ordinal);

        public Outbound<DeltaDiscoveryResponse> Writer { get; } = new(writer);

        /// <summary>Records the request; true when it asks for a response (a type's first request, or new names).</summary>
        public bool Update(DeltaDiscoveryRequest request)
        {
            if (!_types.TryGetValue(request.TypeUrl, out var known))
            {
                var wildcard = request.ResourceNamesSubscribe.Count == 0 || request.ResourceNamesSubscribe.Contains("*");
                _types[request.TypeUrl] = (wildcard, new HashSet<string>(request.ResourceNamesSubscribe, StringComparer.Ordinal),
                    new Dictionary<string, string>(request.InitialResourceVersions, StringComparer.Ordinal));
                return true;
            }
            foreach (var name in request.ResourceNamesUnsubscribe)
            {
                known.Names.Remove(name);
                known.Held.Remove(name);
            }
            known.Names.UnionWith(request.ResourceNamesSubscribe);
            return request.ResourceNamesSubscribe.Count > 0;
        }

        /// <summary>The response bringing the stream's view of the type up to date, or null when it is (and not <paramref name="always"/>).</summary>
        public DeltaDiscoveryResponse? Changes(string typeUrl, string version, List<(string Name, Any Resource)> resources, bool always, Func<string> nonce)
        {
            if (!_types.TryGetValue(typeUrl, out var known))
            {
                return null;
            }
            var response = new DeltaDiscoveryResponse { TypeUrl = typeUrl, SystemVersionInfo = version };
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, resource) in resources)
            {
                present.Add(name);
                if (!known.Wildcard && !known.Names.Contains(name))
                {
                    continue;
                }
                var resourceVersion = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(resource.Value.Span))[..12];
                if (known.Held.TryGetValue(name, out var held) && held == resourceVersion)
                {
                    continue;
                }
                known.Held[name] = resourceVersion;
                response.Resources.Add(new Resource { Name = name, Version = resourceVersion, Resource_ = resource });
            }
            foreach (var name in known.Held.Keys.ToList())
            {
                if (!present.Contains(name))
                {
                    known.Held.Remove(name);
                    response.RemovedResources.Add(name);
                }
            }
            if (!always && response.Resources.Count == 0 && response.RemovedResources.Count == 0)
            {
                return null;
            }
            response.Nonce = nonce();
            return response;
        }
    }

    /// <summary>
    /// The ADS service and the four per-type discovery services (for <c>api_config_source</c>), bound by hand (the gateway's
    /// protos are compiled without service code). Grpc.AspNetCore looks each handler up as a virtual method declared by
    /// the type that binds it, as generated service bases have it.
    /// </summary>
    [BindServiceMethod(typeof(AdsService), nameof(BindService))]
    internal class AdsService(TestAdsServer owner)
    {
        public static void BindService(ServiceBinderBase binder, AdsService? service)
        {
            binder.AddMethod(Method("envoy.service.discovery.v3.AggregatedDiscoveryService", "StreamAggregatedResources"), service is null ? null : service.StreamAggregatedResources);
            binder.AddMethod(Method("envoy.service.cluster.v3.ClusterDiscoveryService", "StreamClusters"), service is null ? null : service.StreamClusters);
            binder.AddMethod(Method("envoy.service.endpoint.v3.EndpointDiscoveryService", "StreamEndpoints"), service is null ? null : service.StreamEndpoints);
            binder.AddMethod(Method("envoy.service.listener.v3.ListenerDiscoveryService", "StreamListeners"), service is null ? null : service.StreamListeners);
            binder.AddMethod(Method("envoy.service.route.v3.RouteDiscoveryService", "StreamRoutes"), service is null ? null : service.StreamRoutes);
            binder.AddMethod(DeltaMethod("envoy.service.discovery.v3.AggregatedDiscoveryService", "DeltaAggregatedResources"), service is null ? null : service.DeltaAggregatedResources);
            binder.AddMethod(DeltaMethod("envoy.service.cluster.v3.ClusterDiscoveryService", "DeltaClusters"), service is null ? null : service.DeltaClusters);
        }

        private static Method<DeltaDiscoveryRequest, DeltaDiscoveryResponse> DeltaMethod(string service, string name) => new(MethodType.DuplexStreaming, service, name,
            Marshallers.Create(static r => Google.Protobuf.MessageExtensions.ToByteArray(r), DeltaDiscoveryRequest.Parser.ParseFrom),
            Marshallers.Create(static r => Google.Protobuf.MessageExtensions.ToByteArray(r), DeltaDiscoveryResponse.Parser.ParseFrom));

        public virtual Task DeltaAggregatedResources(IAsyncStreamReader<DeltaDiscoveryRequest> requests, IServerStreamWriter<DeltaDiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleDeltaAsync(requests, responses, context);

        public virtual Task DeltaClusters(IAsyncStreamReader<DeltaDiscoveryRequest> requests, IServerStreamWriter<DeltaDiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleDeltaAsync(requests, responses, context);

        private static Method<DiscoveryRequest, DiscoveryResponse> Method(string service, string name) => new(MethodType.DuplexStreaming, service, name,
            Marshallers.Create(static r => Google.Protobuf.MessageExtensions.ToByteArray(r), DiscoveryRequest.Parser.ParseFrom),
            Marshallers.Create(static r => Google.Protobuf.MessageExtensions.ToByteArray(r), DiscoveryResponse.Parser.ParseFrom));

        public virtual Task StreamAggregatedResources(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleAsync(requests, responses, context);

        public virtual Task StreamClusters(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleAsync(requests, responses, context);

        public virtual Task StreamEndpoints(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleAsync(requests, responses, context);

        public virtual Task StreamListeners(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleAsync(requests, responses, context);

        public virtual Task StreamRoutes(IAsyncStreamReader<DiscoveryRequest> requests, IServerStreamWriter<DiscoveryResponse> responses, ServerCallContext context)
            => owner.HandleAsync(requests, responses, context);
    }
}
