using Gateway.Configuration;
using Gateway.Stats;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Wire = Gateway.Xds.Wire;

namespace Gateway.Xds;

/// <summary>The xDS type URLs, services and stream factory the gateway's gRPC subscriptions use.</summary>
internal static class GrpcMux
{
    public const string ClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    public const string ListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
    public const string RouteType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    public const string EndpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

    /// <summary>
    /// The stream for <paramref name="api"/>: ADS (<paramref name="typeUrl"/> null) or one type's own service, state of
    /// the world (<c>GRPC</c>, <c>AGGREGATED_GRPC</c>) or incremental (<c>DELTA_GRPC</c>, <c>AGGREGATED_DELTA_GRPC</c>).
    /// </summary>
    public static IGrpcMux Create(ApiConfigSource api, string? typeUrl, GrpcMuxContext context)
    {
        var delta = api.ApiType is ApiType.DELTA_GRPC or ApiType.AGGREGATED_DELTA_GRPC;
        var (service, stream, deltaStream) = typeUrl switch
        {
            null => ("envoy.service.discovery.v3.AggregatedDiscoveryService", "StreamAggregatedResources", "DeltaAggregatedResources"),
            ClusterType => ("envoy.service.cluster.v3.ClusterDiscoveryService", "StreamClusters", "DeltaClusters"),
            ListenerType => ("envoy.service.listener.v3.ListenerDiscoveryService", "StreamListeners", "DeltaListeners"),
            RouteType => ("envoy.service.route.v3.RouteDiscoveryService", "StreamRoutes", "DeltaRoutes"),
            EndpointType => ("envoy.service.endpoint.v3.EndpointDiscoveryService", "StreamEndpoints", "DeltaEndpoints"),
            _ => throw new ArgumentOutOfRangeException(nameof(typeUrl), typeUrl, "not a type this gateway subscribes to"),
        };
        return delta
            ? new DeltaGrpcMux(api, service, deltaStream, context)
            : new SotwGrpcMux(api, service, stream, context);
    }

    /// <summary>What errors in a response of <paramref name="typeUrl"/> are reported against (their "file").</summary>
    public static string SourceName(string typeUrl) => typeUrl switch
    {
        ClusterType => "cds",
        ListenerType => "lds",
        RouteType => "rds",
        EndpointType => "eds",
        _ => typeUrl,
    };

    /// <summary>The name a named watch (EDS, RDS) asks for.</summary>
    public static string? NameOf(EnvoyMessage resource) => resource switch
    {
        ClusterLoadAssignment assignment => assignment.ClusterName,
        RouteConfiguration routes => routes.Name,
        Cluster cluster => cluster.Name,
        Listener listener => listener.Name,
        _ => null,
    };
}

/// <summary>A gRPC xDS stream the subscriptions add their watches to.</summary>
internal interface IGrpcMux : IDisposable
{
    /// <summary>Adds a watch; its type is requested (again). Opens the stream on the first one.</summary>
    void Add(GrpcSubscription watch);

    /// <summary>Removes a watch; a name no other watch has is unsubscribed.</summary>
    void Remove(GrpcSubscription watch);
}

/// <summary>Where a stream connects: a management server's addresses, one per connection attempt in turn.</summary>
internal interface IXdsServer : IDisposable
{
    /// <summary>The cluster name or the target (for logs).</summary>
    string Name { get; }

    /// <summary>The channel of the next connection attempt (null when the server has no address).</summary>
    global::Grpc.Net.Client.GrpcChannel? NextChannel();
}

/// <summary>What every stream of a configuration manager shares.</summary>
/// <param name="ApplyBatch">Runs the deliveries of one response as one update (under the manager's lock); returns why it could not be applied, or null.</param>
internal sealed record GrpcMuxContext(IXdsServer Server, Bootstrap Bootstrap, EnvoyTypeRegistry Types, StatsStore Stats, TimeProvider Time, Random Random,
    ILogger Logger, Func<Action, string?> ApplyBatch);

/// <summary>
/// Envoy's GrpcStream and the part of its muxes both protocols share: one gRPC stream to a management server carrying
/// the subscriptions of one or more resource types (all of them for ADS; one for an <c>api_config_source</c>), opened
/// again after a failure with Envoy's jittered exponential back-off (500 ms doubling to 30 s), requests sent one at a
/// time from a queue (built when sent, so a type queued twice goes once with its latest state), limited by
/// <c>rate_limit_settings</c> when set, and <c>control_plane.*</c> stats. A response is decoded with the loader's binder
/// (<see cref="ProtoResourceReader"/>) and handed to its watches as one update (the manager's <c>ApplyBatch</c>); the
/// requests the deliveries cause (EDS for new clusters, RDS for new listeners) go after the response's ACK, as Envoy's
/// pausing has it.
/// </summary>
internal abstract partial class GrpcMux<TRequest, TResponse> : IGrpcMux
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private const long BackOffBaseMs = 500;
    private const long BackOffMaxMs = 30_000;
    // Envoy's limit on error_detail.message (the rest of a long error is cut).
    private const int MaxErrorDetail = 4096;
    private const int InternalCode = 13;

    private readonly Method<TRequest, TResponse> _method;
    private readonly global::Grpc.Core.Metadata? _metadata;
    private readonly Wire.Node _node;
    private readonly bool _nodeOnFirstMessageOnly;
    private readonly RateLimit.FillRateTokenBucket? _limit;
    private readonly List<TypeState> _queue = [];
    private readonly SemaphoreSlim _queued = new(0);
    private readonly CancellationTokenSource _stop = new();
    // The response being delivered, by resource name (see PartFor).
    private readonly Dictionary<string, DiscoveryResponse> _index = new(StringComparer.Ordinal);
    private DiscoveryResponse? _indexed;
    private List<TypeState>? _heldBack;
    private Task? _run;
    private bool _connected;
    private bool _nodeSent;
    private long _nextBackOffMs = BackOffBaseMs;

    protected GrpcMux(ApiConfigSource source, string service, string method, GrpcMuxContext context, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        Context = context;
        _method = new Method<TRequest, TResponse>(MethodType.DuplexStreaming, service, method,
            Marshallers.Create(static r => r.ToByteArray(), requestParser.ParseFrom),
            Marshallers.Create(static r => r.ToByteArray(), responseParser.ParseFrom));
        _node = NodeOf(context.Bootstrap.Node);
        // The gRPC service's initial_metadata goes with the stream's request headers, as Envoy's AsyncClient sends it.
        foreach (var header in source.GrpcServices[0].InitialMetadata)
        {
            (_metadata ??= []).Add(header.Key!, header.Value ?? string.Empty);
        }
        _nodeOnFirstMessageOnly = source.SetNodeOnFirstMessageOnly;
        if (source.RateLimitSettings is { } limit)
        {
            // Envoy's defaults: a bucket of 100 filled at 10 a second.
            _limit = new RateLimit.FillRateTokenBucket(limit.MaxTokens ?? 100, limit.FillRate ?? 10, context.Time);
        }
        Stats = new ControlPlaneStats(context.Stats);
    }

    protected GrpcMuxContext Context { get; }

    protected ControlPlaneStats Stats { get; }

    /// <summary>Guards the type states and the queue.</summary>
    protected Lock Sync { get; } = new();

    protected Dictionary<string, TypeState> States { get; } = new(StringComparer.Ordinal);

    /// <summary>Types in the order first subscribed: on a new stream they are requested in it (CDS before EDS before LDS before RDS).</summary>
    protected List<TypeState> Order { get; } = [];

    /// <summary>True while a stream is up (under <see cref="Sync"/>).</summary>
    protected bool Connected => _connected;

    public void Add(GrpcSubscription watch)
    {
        lock (Sync)
        {
            if (!States.TryGetValue(watch.TypeUrl, out var state))
            {
                state = new TypeState(watch.TypeUrl);
                States.Add(watch.TypeUrl, state);
                Order.Add(state);
            }
            state.Watches.Add(watch);
            var newName = watch.ResourceName is { } name && state.AddName(name);
            if (_connected && (watch.ResourceName is null || newName))
            {
                Enqueue(state);
            }
            _run ??= Task.Run(RunAsync);
        }
    }

    public void Remove(GrpcSubscription watch)
    {
        lock (Sync)
        {
            if (!States.TryGetValue(watch.TypeUrl, out var state) || !state.Watches.Remove(watch)
                || watch.ResourceName is not { } name || !state.RemoveName(name))
            {
                return;
            }
            if (_connected && ShouldRequestAfterRemove(state))
            {
                Enqueue(state);
            }
        }
    }

    /// <summary>Whether a type whose last watch of a name went is requested again (SotW: only while it still has names).</summary>
    protected abstract bool ShouldRequestAfterRemove(TypeState state);

    /// <summary>The request for a type as its state is now (under <see cref="Sync"/>); <paramref name="node"/> is set when it goes with the node.</summary>
    protected abstract TRequest BuildRequest(TypeState state, Wire.Node? node, Wire.Status? errorDetail);

    /// <summary>Handles one response (on the stream's reading thread).</summary>
    protected abstract void OnResponse(TResponse response);

    /// <summary>A new stream: what each type's state forgets (the nonce; for delta, what was told the server).</summary>
    protected abstract void OnNewStream(TypeState state);

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var channel = Context.Server.NextChannel();
            string reason;
            if (channel is null)
            {
                reason = $"no address to reach {Context.Server.Name}";
            }
            else
            {
                try
                {
                    reason = await StreamAsync(channel).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    reason = $"{(int)e.StatusCode}, {e.Status.Detail}";
                }
                catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
                {
                    reason = e.Message;
                }
                finally
                {
                    channel.Dispose();
                }
            }
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            OnStreamClosed(reason);
            try
            {
                await Task.Delay(NextBackOff(), Context.Time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One stream, until it ends: returns why.</summary>
    private async Task<string> StreamAsync(global::Grpc.Net.Client.GrpcChannel channel)
    {
        using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(_method, null, new CallOptions(headers: _metadata, cancellationToken: streamStop.Token));
        lock (Sync)
        {
            _connected = true;
            _nodeSent = false;
            _queue.Clear();
            foreach (var state in Order)
            {
                OnNewStream(state);
                if (state.Watches.Count > 0)
                {
                    Enqueue(state);
                }
            }
        }
        Stats.ConnectedState.Set(1);
        LogEstablished(Context.Logger, _method.Name, Context.Server.Name);
        var writer = WriteAsync(call.RequestStream, streamStop.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(streamStop.Token).ConfigureAwait(false))
            {
                // Envoy's GrpcStream: a message received resets the back-off.
                Interlocked.Exchange(ref _nextBackOffMs, BackOffBaseMs);
                OnResponse(call.ResponseStream.Current);
            }
            var status = call.GetStatus();
            return $"{(int)status.StatusCode}, {status.Detail}";
        }
        finally
        {
            lock (Sync)
            {
                _connected = false;
            }
            await streamStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                // The stream is gone: what was queued is sent again on the next one.
            }
        }
    }

    private async Task WriteAsync(IClientStreamWriter<TRequest> stream, CancellationToken stop)
    {
        while (true)
        {
            await _queued.WaitAsync(stop).ConfigureAwait(false);
            if (_limit is { } limit)
            {
                while (limit.TryTake() is { } wait)
                {
                    Stats.RateLimitEnforced.Increment();
                    await Task.Delay(wait, Context.Time, stop).ConfigureAwait(false);
                }
            }
            TRequest? request = null;
            lock (Sync)
            {
                if (_queue.Count > 0)
                {
                    var state = _queue[0];
                    _queue.RemoveAt(0);
                    Wire.Node? node = null;
                    if (!_nodeOnFirstMessageOnly || !_nodeSent)
                    {
                        node = _node;
                        _nodeSent = true;
                    }
                    Wire.Status? error = null;
                    if (state.ErrorDetail is { } detail)
                    {
                        // The NACK carries it once.
                        error = new Wire.Status { Code = InternalCode, Message = detail };
                        state.ErrorDetail = null;
                    }
                    request = BuildRequest(state, node, error);
                }
                Stats.PendingRequests.Set(_queue.Count);
            }
            if (request is not null)
            {
                await stream.WriteAsync(request, stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Queues a request for the type (once: the request is built when it is sent), under <see cref="Sync"/>.</summary>
    protected void Enqueue(TypeState state)
    {
        if (_heldBack is { } held)
        {
            if (!held.Contains(state))
            {
                held.Add(state);
            }
            return;
        }
        if (_queue.Contains(state))
        {
            return;
        }
        _queue.Add(state);
        Stats.PendingRequests.Set(_queue.Count);
        _queued.Release();
    }

    /// <summary>The watches of the response's type, or null when it has none (Envoy drops such a response unanswered).</summary>
    protected GrpcSubscription[]? WatchesOf(string typeUrl, out TypeState? state)
    {
        lock (Sync)
        {
            if (!States.TryGetValue(typeUrl, out state) || state.Watches.Count == 0)
            {
                LogUnwatched(Context.Logger, typeUrl);
                return null;
            }
            return [.. state.Watches];
        }
    }

    /// <summary>
    /// Decodes a response's resources and hands them to the watches as one update (<paramref name="deliver"/> gives one
    /// watch its part and returns why it was refused, or null); a response that does not decode is refused by every
    /// watch. Returns the errors, joined, or null; <paramref name="held"/> are the requests the deliveries caused, to
    /// go after the answer.
    /// </summary>
    protected string? DecodeAndDeliver(string typeUrl, string version, string nonce, IReadOnlyList<Google.Protobuf.WellKnownTypes.Any> resources,
        GrpcSubscription[] watches, Func<GrpcSubscription, DiscoveryResponse, string?> deliver, out DiscoveryResponse? decoded, out List<TypeState> held)
    {
        held = [];
        decoded = Decode(typeUrl, version, resources, out var error);
        if (decoded is null)
        {
            foreach (var watch in watches)
            {
                watch.Rejected(error!);
            }
            return error;
        }
        decoded.Nonce = nonce;
        var response = decoded;
        var errors = new List<string>();
        lock (Sync)
        {
            _heldBack = held;
        }
        string? applyError;
        try
        {
            applyError = Context.ApplyBatch(() =>
            {
                foreach (var watch in watches)
                {
                    if (deliver(watch, response) is { } rejected)
                    {
                        errors.Add(rejected);
                    }
                }
            });
        }
        finally
        {
            lock (Sync)
            {
                _heldBack = null;
            }
            _index.Clear();
            _indexed = null;
        }
        if (applyError is not null)
        {
            errors.Add(applyError);
        }
        return errors.Count == 0 ? null : string.Join("\n", errors);
    }

    /// <summary>Answers a response: an ACK, or a NACK with <paramref name="error"/>; then the held requests (under <see cref="Sync"/>).</summary>
    protected void Answer(TypeState state, string typeUrl, string nonce, string? error, List<TypeState> held)
    {
        state.Nonce = nonce;
        if (error is not null)
        {
            state.ErrorDetail = error.Length <= MaxErrorDetail ? error : error[..MaxErrorDetail];
            LogRejected(Context.Logger, typeUrl, error);
        }
        if (_connected)
        {
            Enqueue(state);
            foreach (var other in held)
            {
                Enqueue(other);
            }
        }
    }

    /// <summary>Resources (each an Any of <paramref name="typeUrl"/>) as the model, or null with why.</summary>
    private DiscoveryResponse? Decode(string typeUrl, string version, IReadOnlyList<Google.Protobuf.WellKnownTypes.Any> resources, out string? error)
    {
        var source = GrpcMux.SourceName(typeUrl);
        var values = new List<(string TypeUrl, ReadOnlyMemory<byte> Value)>(resources.Count);
        foreach (var any in resources)
        {
            if (!string.Equals(any.TypeUrl, typeUrl, StringComparison.Ordinal))
            {
                // Envoy's message for a resource of another type in the response.
                error = $"type URL {any.TypeUrl} embedded in an individual Any does not match the message-wide type URL {typeUrl} in DiscoveryResponse";
                return null;
            }
            values.Add((any.TypeUrl, any.Value.Memory));
        }
        var errors = new ConfigErrorList([source]);
        var root = ProtoResourceReader.ReadResponse(version, typeUrl, values, Context.Types, source, errors);
        var model = new DiscoveryResponse();
        new ConfigBinder(source, Context.Types, errors).BindRoot(root, model);
        if (errors.Count > 0)
        {
            error = FilesystemSubscription.Describe(errors.ToException().Errors);
            return null;
        }
        error = null;
        return model;
    }

    /// <summary>
    /// The resources of <paramref name="response"/> a named watch asks for (a wildcard watch: all of them), or null when
    /// there are none. The response is indexed by name once (on the reading thread), so thousands of EDS watches cost
    /// one pass, not one each.
    /// </summary>
    protected DiscoveryResponse? PartFor(GrpcSubscription watch, DiscoveryResponse response)
    {
        if (watch.ResourceName is not { } name)
        {
            return response;
        }
        if (!ReferenceEquals(_indexed, response))
        {
            _index.Clear();
            foreach (var resource in response.Resources)
            {
                if (GrpcMux.NameOf(resource) is { } resourceName)
                {
                    if (!_index.TryGetValue(resourceName, out var part))
                    {
                        part = new DiscoveryResponse { VersionInfo = response.VersionInfo, TypeUrl = response.TypeUrl, Nonce = response.Nonce, Location = response.Location };
                        _index.Add(resourceName, part);
                    }
                    part.Resources.Add(resource);
                }
            }
            _indexed = response;
        }
        return _index.GetValueOrDefault(name);
    }

    protected void SetIdentifier(Wire.ControlPlane? controlPlane)
    {
        if (controlPlane is not null)
        {
            Stats.Identifier.Set(controlPlane.Identifier);
        }
    }

    private void OnStreamClosed(string reason)
    {
        Stats.ConnectedState.Set(0);
        LogClosed(Context.Logger, _method.Name, Context.Server.Name, reason);
        var watches = new List<GrpcSubscription>();
        lock (Sync)
        {
            foreach (var state in Order)
            {
                watches.AddRange(state.Watches);
            }
        }
        foreach (var watch in watches)
        {
            watch.ConnectionFailed();
        }
    }

    /// <summary>Envoy's JitteredExponentialBackOffStrategy: a random delay below an interval that doubles up to the maximum.</summary>
    private TimeSpan NextBackOff()
    {
        var interval = Interlocked.Read(ref _nextBackOffMs);
        Interlocked.Exchange(ref _nextBackOffMs, interval > BackOffMaxMs / 2 ? BackOffMaxMs : interval * 2);
        return TimeSpan.FromMilliseconds(Math.Min(Context.Random.NextInt64(interval), BackOffMaxMs));
    }

    /// <summary>The node sent on the stream: the bootstrap's, with Envoy's user agent name.</summary>
    private static Wire.Node NodeOf(Node? node)
    {
        var wire = new Wire.Node { Id = node?.Id ?? string.Empty, Cluster = node?.Cluster ?? string.Empty, UserAgentName = "envoy" };
        if (node?.Locality is { } locality)
        {
            wire.Locality = new Wire.Locality { Region = locality.Region ?? string.Empty, Zone = locality.Zone ?? string.Empty, SubZone = locality.SubZone ?? string.Empty };
        }
        if (node?.Metadata is { } metadata)
        {
            wire.Metadata = Google.Protobuf.WellKnownTypes.Struct.Parser.ParseJson(metadata.ToJsonString());
        }
        return wire;
    }

    /// <summary>Closes the stream. Never waits for it (the caller may hold the lock a delivery needs); the client goes once the stream ended.</summary>
    public void Dispose()
    {
        Task? run;
        lock (Sync)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            _stop.Cancel();
            run = _run;
            States.Clear();
            Order.Clear();
            _queue.Clear();
        }
        Stats.ConnectedState.Set(0);
        if (run is null)
        {
            Context.Server.Dispose();
            return;
        }
        _ = run.ContinueWith(static (_, state) => ((IXdsServer)state!).Dispose(), Context.Server, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    [LoggerMessage(EventId = LogEvents.XdsStreamEstablished, Level = LogLevel.Information, Message = "{Method} gRPC config stream to {Server} established")]
    private static partial void LogEstablished(ILogger logger, string method, string server);

    [LoggerMessage(EventId = LogEvents.XdsStreamClosed, Level = LogLevel.Warning, Message = "{Method} gRPC config stream to {Server} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, string method, string server, string reason);

    [LoggerMessage(EventId = LogEvents.XdsGrpcRejected, Level = LogLevel.Warning, Message = "gRPC config for {TypeUrl} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string typeUrl, string reason);

    [LoggerMessage(EventId = LogEvents.XdsUnwatchedType, Level = LogLevel.Debug, Message = "Ignoring the message for type URL {TypeUrl} as it has no current subscribers.")]
    private static partial void LogUnwatched(ILogger logger, string typeUrl);
}

/// <summary>One type's subscription state on a stream (guarded by the mux's lock).</summary>
internal sealed class TypeState(string typeUrl)
{
    public string TypeUrl { get; } = typeUrl;

    public List<GrpcSubscription> Watches { get; } = [];

    /// <summary>SotW: the last accepted version_info ("" before one).</summary>
    public string Version { get; set; } = string.Empty;

    /// <summary>The last response's nonce ("" on a new stream).</summary>
    public string Nonce { get; set; } = string.Empty;

    /// <summary>Why the last response was refused, sent with the NACK.</summary>
    public string? ErrorDetail { get; set; }

    /// <summary>Delta: the version of each resource held (the next stream's initial_resource_versions).</summary>
    public Dictionary<string, string> ResourceVersions { get; } = new(StringComparer.Ordinal);

    /// <summary>Delta: names to subscribe to or unsubscribe from in the next request.</summary>
    public HashSet<string> ToSubscribe { get; } = new(StringComparer.Ordinal);

    public HashSet<string> ToUnsubscribe { get; } = new(StringComparer.Ordinal);

    /// <summary>Delta: the type's first request on this stream is not sent yet.</summary>
    public bool FirstOnStream { get; set; } = true;

    /// <summary>The names watched, with how many watches each (thousands of EDS watches: no scan per watch).</summary>
    public Dictionary<string, int> Names { get; } = new(StringComparer.Ordinal);

    /// <summary>Counts a watch of <paramref name="name"/>; true when it is the first (the name is subscribed to).</summary>
    public bool AddName(string name)
    {
        ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Names, name, out _);
        if (count++ > 0)
        {
            return false;
        }
        ToUnsubscribe.Remove(name);
        ToSubscribe.Add(name);
        return true;
    }

    /// <summary>Uncounts a watch of <paramref name="name"/>; true when it was the last (the name is unsubscribed from).</summary>
    public bool RemoveName(string name)
    {
        if (!Names.TryGetValue(name, out var count))
        {
            return false;
        }
        if (count > 1)
        {
            Names[name] = count - 1;
            return false;
        }
        Names.Remove(name);
        ToSubscribe.Remove(name);
        ToUnsubscribe.Add(name);
        ResourceVersions.Remove(name);
        return true;
    }
}

/// <summary>Envoy's <c>control_plane.</c> stats of a gRPC xDS stream.</summary>
internal sealed class ControlPlaneStats(StatsStore stats)
{
    /// <summary>1 while the stream is up.</summary>
    public Gauge ConnectedState { get; } = stats.Gauge("control_plane.connected_state");

    /// <summary>Requests queued and not sent yet.</summary>
    public Gauge PendingRequests { get; } = stats.Gauge("control_plane.pending_requests");

    /// <summary>Times a request waited for the rate limit.</summary>
    public Counter RateLimitEnforced { get; } = stats.Counter("control_plane.rate_limit_enforced");

    /// <summary>The <c>control_plane.identifier</c> the server last sent.</summary>
    public TextReadout Identifier { get; } = stats.TextReadout("control_plane.identifier");
}
