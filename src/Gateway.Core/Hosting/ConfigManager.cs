using Gateway.Admin;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;
using Gateway.Validation;
using Gateway.Xds;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// The one place the running configuration changes: the bootstrap's static resources plus what the xDS subscriptions
/// (CDS, EDS, LDS, RDS) gave. An update is validated with the loader's validators against everything else (every error
/// at once, reported where the update's file has it), translated into a new plan and applied as one unit by
/// <see cref="GatewayRuntime.ApplyAsync"/>; a refused update changes nothing and the last good configuration stays.
/// Updates are processed one at a time, as on Envoy's main thread: every subscription reads under one lock.
/// </summary>
/// <remarks>
/// Envoy's rules: a CDS or LDS response is state of the world (resources it no longer lists are removed, static ones are
/// never touched), its valid resources are applied even when others fail (unless one breaks a proto constraint, which
/// rejects the whole response at decoding), and a resource that did not change is not applied again. An RDS or EDS
/// response holds exactly the one resource its subscription names. EDS clusters are used once their first assignment
/// arrived (a file is read when the cluster is added, so it is warm at once).
/// </remarks>
internal sealed partial class ConfigManager : IDisposable
{
    private const string ClusterType = "envoy.config.cluster.v3.Cluster";
    private const string ListenerType = "envoy.config.listener.v3.Listener";
    private const string RouteConfigurationType = "envoy.config.route.v3.RouteConfiguration";
    private const string AssignmentType = "envoy.config.endpoint.v3.ClusterLoadAssignment";

    private readonly Bootstrap _bootstrap;
    private readonly EnvoyTypeRegistry _types;
    private readonly StatsStore _stats;
    private readonly ServerStats _server;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly DirectoryWatchers _watchers = new();
    private readonly HashSet<string> _staticClusters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _staticListeners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EdsSubscription> _eds = new(StringComparer.Ordinal);
    private readonly Dictionary<RdsKey, RdsSubscription> _rds = [];
    private readonly Random _random;
    private IXdsSubscription? _cds;
    private IXdsSubscription? _lds;
    private IGrpcMux? _ads;
    private Func<GatewayPlan, Task>? _apply;
    private DynamicState _state = DynamicState.Empty;
    // While an update is being put together (and while the manager starts): EDS and RDS reads started by it add to this
    // state instead of applying, so the update is applied once, with its clusters warm.
    private DynamicState? _pending;
    private bool _disposed;
    private bool _started;

    public ConfigManager(Bootstrap bootstrap, EnvoyTypeRegistry types, StatsStore stats, ServerStats server, TimeProvider time, ILoggerFactory loggers, Random? random = null)
    {
        _random = random ?? Random.Shared;
        _bootstrap = bootstrap;
        _types = types;
        _stats = stats;
        _server = server;
        _time = time;
        _logger = loggers.CreateLogger(GatewayRuntime.ConfigLoggerName);
        foreach (var cluster in bootstrap.StaticResources?.Clusters ?? [])
        {
            _staticClusters.Add(cluster.Name ?? string.Empty);
        }
        foreach (var listener in bootstrap.StaticResources?.Listeners ?? [])
        {
            _staticListeners.Add(ListenerName(listener));
        }
        // Envoy's initialization order: clusters (and their EDS) first, then listeners (and their RDS); a gRPC phase waits
        // for its first responses (or initial_fetch_timeout) before the next starts. Files are read at once.
        StartPhase(() =>
        {
            if (bootstrap.DynamicResources?.CdsConfig is { } cds)
            {
                _cds = Subscribe(cds, GrpcMux.ClusterType, null, new SubscriptionStats(stats, "cluster_manager.cds."), (response, source) => OnCds(response, source),
                    (changes, removed, source) => OnCds(StateOfTheWorld(Working.Clusters, changes, removed, static (Cluster c) => c.Name ?? string.Empty), source, changes.Resources));
                _cds.Start();
            }
            ReconcileEds();
        });
        WaitFor(_cds);
        WaitFor(EdsSubscriptions());
        StartPhase(() =>
        {
            if (bootstrap.DynamicResources?.LdsConfig is { } lds)
            {
                _lds = Subscribe(lds, GrpcMux.ListenerType, null, new SubscriptionStats(stats, "listener_manager.lds."), (response, source) => OnLds(response, source),
                    (changes, removed, source) => OnLds(StateOfTheWorld<Listener>(Working.Listeners, changes, removed, ListenerName), source, changes.Resources));
                _lds.Start();
            }
            ReconcileRds();
        });
        lock (_gate)
        {
            // One translation of what the phases gave; a gRPC response that comes later commits (and translates) itself.
            Plan = Translate(_state);
            _translations = _lastTranslation ?? _translations;
        }
        WaitFor(_lds);
        WaitFor(RdsSubscriptions());
    }

    /// <summary>One initialization phase: what <paramref name="start"/> reads (files at once) is one pending state, taken as the state.</summary>
    private void StartPhase(Action start)
    {
        lock (_gate)
        {
            _pending = _state;
            start();
            _state = _pending;
            _pending = null;
            _ownedEndpoints = null;
            _ownedWarming = null;
        }
    }

    /// <summary>
    /// A subscription to <paramref name="source"/>: its file, the ADS stream, or a stream of its own. <paramref name="onUpdate"/>
    /// gets each response and the name its errors are reported against (the file, or <c>cds</c>, <c>eds</c>, ...);
    /// <paramref name="onDelta"/>, for a wildcard subscription, an incremental stream's changes.
    /// </summary>
    private IXdsSubscription Subscribe(EnvoyConfigSource source, string typeUrl, string? resourceName, SubscriptionStats stats,
        Func<DiscoveryResponse, string, string?> onUpdate, Func<DiscoveryResponse, IReadOnlyList<string>, string, string?>? onDelta = null,
        Action<FilesystemSubscription>? defer = null)
    {
        var errorSource = ErrorSourceOf(source, typeUrl);
        Func<DiscoveryResponse, IReadOnlyList<string>, string?>? delta = onDelta is null ? null : (added, removed) => onDelta(added, removed, errorSource);
        if (source.Ads is not null)
        {
            _ads ??= NewMux(_bootstrap.DynamicResources!.AdsConfig!, null);
            return new GrpcSubscription(_ads, typeUrl, resourceName, source, stats, _time, _logger, response => onUpdate(response, errorSource), delta);
        }
        if (source.ApiConfigSource is { } api)
        {
            // Envoy opens a stream per subscription of a non-aggregated source.
            return new GrpcSubscription(NewMux(api, typeUrl), typeUrl, resourceName, source, stats, _time, _logger, response => onUpdate(response, errorSource), delta, ownsMux: true);
        }
        return new FilesystemSubscription(source, stats, _types, _time, _logger, _gate, _watchers, response => onUpdate(response, errorSource), defer);
    }

    private IGrpcMux NewMux(ApiConfigSource api, string? typeUrl)
        => GrpcMux.Create(api, typeUrl, new GrpcMuxContext(XdsServer.For(api, _bootstrap, _types, _stats), _bootstrap, _types, _stats, _time, _random, _logger, ApplyBatch));

    /// <summary>
    /// An incremental response's changes as the state of the world they make: what is held (accepted), without the
    /// names removed or changed, then the resources added or changed.
    /// </summary>
    private static DiscoveryResponse StateOfTheWorld<T>(IReadOnlyList<XdsResource<T>> held, DiscoveryResponse changes, IReadOnlyList<string> removed, Func<T, string> nameOf)
        where T : EnvoyMessage
    {
        var replaced = new HashSet<string>(removed, StringComparer.Ordinal);
        foreach (var resource in changes.Resources)
        {
            if (resource is T typed)
            {
                replaced.Add(nameOf(typed));
            }
        }
        var all = new DiscoveryResponse { VersionInfo = changes.VersionInfo, TypeUrl = changes.TypeUrl, Nonce = changes.Nonce };
        foreach (var entry in held)
        {
            if (!replaced.Contains(entry.Name))
            {
                all.Resources.Add(entry.Resource);
            }
        }
        all.Resources.AddRange(changes.Resources);
        return all;
    }

    /// <summary>What errors of a response from <paramref name="source"/> are reported against: the file, or the stream's type (<c>cds</c>, <c>eds</c>, ...).</summary>
    private static string ErrorSourceOf(EnvoyConfigSource source, string typeUrl)
        => DiscoveryFile.PathOf(source) is { Length: > 0 } path && source.Ads is null && source.ApiConfigSource is null ? Path.GetFullPath(path) : GrpcMux.SourceName(typeUrl);

    /// <summary>Tells sources apart: a file (and the directory watched), the ADS stream, or one management server's stream.</summary>
    private static string SourceKey(EnvoyConfigSource source)
        => source.Ads is not null ? "ads"
            : source.ApiConfigSource is { } api ? "grpc:" + ConfigJson.Message(api).ToPrettyString()
            : Path.GetFullPath(DiscoveryFile.PathOf(source)!) + "\n" + DiscoveryFile.DirectoryOf(source);

    /// <summary>Waits (outside the lock) until the subscriptions may let initialization go on.</summary>
    private static void WaitFor(params IXdsSubscription?[] subscriptions)
    {
        var waits = new List<Task>(subscriptions.Length);
        foreach (var subscription in subscriptions)
        {
            if (subscription is { Initialized.IsCompleted: false } pending)
            {
                waits.Add(pending.Initialized);
            }
        }
        if (waits.Count > 0)
        {
            Task.WhenAll(waits).GetAwaiter().GetResult();
        }
    }

    private IXdsSubscription[] EdsSubscriptions() => SubscriptionsOf(_eds.Values, static s => s.Subscription);

    private IXdsSubscription[] RdsSubscriptions() => SubscriptionsOf(_rds.Values, static s => s.Subscription);

    private IXdsSubscription[] SubscriptionsOf<T>(IEnumerable<T> owners, Func<T, IXdsSubscription> subscription)
    {
        lock (_gate)
        {
            var list = new List<IXdsSubscription>();
            foreach (var owner in owners)
            {
                list.Add(subscription(owner));
            }
            return [.. list];
        }
    }

    /// <summary>
    /// Runs the deliveries of one gRPC response (or of the EDS files moved meanwhile) as one update: under the lock, each
    /// adding to the same pending state, applied once at the end. Returns why it could not be applied, or null.
    /// </summary>
    private string? ApplyBatch(Action deliver)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }
            var outer = _pending;
            var start = Working;
            _pending = start;
            DynamicState candidate;
            try
            {
                deliver();
            }
            finally
            {
                candidate = _pending;
                _pending = outer;
                if (outer is null)
                {
                    // What the update made becomes the state's: the next update copies it again.
                    _ownedEndpoints = null;
                    _ownedWarming = null;
                }
            }
            return ReferenceEquals(candidate, start) ? null : Commit(candidate);
        }
    }

    /// <summary>The plan of the current configuration.</summary>
    public GatewayPlan Plan { get; private set; }

    /// <summary>The static configuration.</summary>
    public Bootstrap Bootstrap => _bootstrap;

    /// <summary>What xDS gave and was accepted.</summary>
    public DynamicState State => Volatile.Read(ref _state);

    /// <summary>The CDS subscription, when <c>cds_config</c> is set.</summary>
    public IXdsSubscription? Cds => _cds;

    /// <summary>The LDS subscription, when <c>lds_config</c> is set.</summary>
    public IXdsSubscription? Lds => _lds;

    /// <summary>
    /// From now on updates are applied with <paramref name="apply"/> (the running gateway); one that arrived since the
    /// plan <paramref name="running"/> was made is applied now.
    /// </summary>
    public void Attach(Func<GatewayPlan, Task> apply, GatewayPlan running)
    {
        lock (_gate)
        {
            _apply = apply;
            if (!ReferenceEquals(Plan, running))
            {
                apply(Plan).GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>The server is serving: the clusters and listeners it starts with are counted as added (Envoy counts the static ones too).</summary>
    public void Started()
    {
        lock (_gate)
        {
            // Changes from now on are counted as they are applied.
            _started = true;
            _server.ClusterManagerClusterAdded.Add(Plan.ClusterPlans.Count);
            _server.ActiveClusters.Set(Plan.ClusterPlans.Count);
            _server.ListenerAdded.Add(Plan.Listeners.Count);
            _server.ListenerCreateSuccess.Add(Plan.Listeners.Count);
            _server.TotalListenersActive.Set(Plan.Listeners.Count);
        }
    }

    private DynamicState Working => _pending ?? _state;

    // ---- CDS ----------------------------------------------------------------------------------------------------

    /// <param name="attributable">The resources an error may be put on (an incremental update's changes); null: all of the response's.</param>
    private string? OnCds(DiscoveryResponse response, string file, List<EnvoyMessage>? attributable = null)
    {
        if (FirstNotOf<Cluster>(response) is { } wrong)
        {
            return WrongType(wrong, ClusterType);
        }
        var version = response.VersionInfo ?? string.Empty;
        var now = _time.GetUtcNow();
        var working = Working;
        var previous = ByName(working.Clusters);
        var errors = new List<string>();
        // Envoy's addOrUpdateCluster: a static cluster cannot be changed by CDS, and that is no error.
        var entries = Entries(response, "cluster", _staticClusters, static (Cluster c) => c.Name ?? string.Empty, previous, version, now, errors);
        var failures = new Dictionary<string, XdsUpdateFailure>(StringComparer.Ordinal);
        if (ValidateEach(entries, previous, attributable ?? response.Resources, file, working, (state, list) => state with { Clusters = list }, errors, failures, version, now) is { } rejected)
        {
            return rejected;
        }
        var (added, modified, removed) = Changes(previous, entries);
        var candidate = working with { Clusters = entries, CdsVersion = version, ClusterErrors = failures, WarmingClusters = Warming(entries, previous, working) };
        if (CommitReconciled(candidate, ReconcileEds) is { } applyError)
        {
            return applyError;
        }
        if (_started)
        {
            _server.ClusterManagerClusterAdded.Add(added);
            _server.ClusterModified.Add(modified);
            _server.ClusterRemoved.Add(removed);
        }
        return errors.Count == 0 ? null : "Error adding/updating cluster(s) " + string.Join(", ", errors);
    }

    /// <summary>
    /// The clusters that warm (Envoy's warming clusters): a new EDS cluster fed by gRPC is used once its first assignment
    /// arrives or its subscription's initial fetch timed out (a file is read when the cluster is added: never warming);
    /// one still waiting stays so. A changed cluster keeps the assignment it has and stays in use.
    /// </summary>
    private static HashSet<string> Warming(List<XdsResource<Cluster>> entries, Dictionary<string, XdsResource<Cluster>> previous, DynamicState working)
    {
        var warming = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Resource is { Type: DiscoveryType.Eds, EdsClusterConfig.EdsConfig: { } source } && (source.Ads is not null || source.ApiConfigSource is not null)
                && !working.Endpoints.ContainsKey(entry.Name) && (!previous.ContainsKey(entry.Name) || working.WarmingClusters.Contains(entry.Name)))
            {
                warming.Add(entry.Name);
            }
        }
        return warming;
    }

    /// <summary>A warming cluster's subscription got its first response (or timed out, or went): the cluster is used from now on.</summary>
    private void EndWarming(string cluster, EdsSubscription subscription)
    {
        if (ApplyBatch(() =>
            {
                var working = Working;
                if (working.WarmingClusters.Contains(cluster) && _eds.TryGetValue(cluster, out var current) && ReferenceEquals(current, subscription))
                {
                    _pending = working with { WarmingClusters = Without(working.WarmingClusters, cluster) };
                }
            }) is { } error)
        {
            LogResourceRejected(_logger, cluster, error);
        }
    }

    private static HashSet<string> Without(IReadOnlySet<string> names, string name)
    {
        var rest = new HashSet<string>(names, StringComparer.Ordinal);
        rest.Remove(name);
        return rest;
    }

    // ---- LDS ----------------------------------------------------------------------------------------------------

    /// <param name="attributable">The resources an error may be put on (an incremental update's changes); null: all of the response's.</param>
    private string? OnLds(DiscoveryResponse response, string file, List<EnvoyMessage>? attributable = null)
    {
        if (FirstNotOf<Listener>(response) is { } wrong)
        {
            return WrongType(wrong, ListenerType);
        }
        var version = response.VersionInfo ?? string.Empty;
        var now = _time.GetUtcNow();
        var working = Working;
        var previous = ByName(working.Listeners);
        var errors = new List<string>();
        // Envoy's addOrUpdateListener: a static listener cannot be changed by LDS.
        var entries = Entries<Listener>(response, "listener", _staticListeners, ListenerName, previous, version, now, errors);
        var failures = new Dictionary<string, XdsUpdateFailure>(StringComparer.Ordinal);
        if (ValidateEach(entries, previous, attributable ?? response.Resources, file, working, (state, list) => state with { Listeners = list }, errors, failures, version, now) is { } rejected)
        {
            return rejected;
        }
        var (added, modified, removed) = Changes(previous, entries);
        if (CommitReconciled(working with { Listeners = entries, LdsVersion = version, ListenerErrors = failures }, ReconcileRds) is { } applyError)
        {
            return applyError;
        }
        if (_started)
        {
            _server.ListenerAdded.Add(added);
            _server.ListenerModified.Add(modified);
            _server.ListenerRemoved.Add(removed);
        }
        // Envoy's LdsApiImpl: one line per listener that failed.
        return errors.Count == 0 ? null : "Error adding/updating listener(s) " + string.Concat(errors.Select(e => e + "\n"));
    }

    /// <summary>The first resource of the response that is not a <typeparamref name="T"/>, or null.</summary>
    private static EnvoyMessage? FirstNotOf<T>(DiscoveryResponse response)
        where T : EnvoyMessage
        => response.Resources.Find(static r => r is not T);

    /// <summary>
    /// A state-of-the-world response's entries (every resource a <typeparamref name="T"/>), in its order: a duplicate
    /// name is an error (the first one kept, as in Envoy), a static resource's name is skipped, and an unchanged resource
    /// keeps its entry (version and time).
    /// </summary>
    private static List<XdsResource<T>> Entries<T>(DiscoveryResponse response, string kind, HashSet<string> statics, Func<T, string> nameOf,
        Dictionary<string, XdsResource<T>> previous, string version, DateTimeOffset now, List<string> errors)
        where T : EnvoyMessage
    {
        var entries = new List<XdsResource<T>>(response.Resources.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (T typed in response.Resources)
        {
            var name = nameOf(typed);
            if (!seen.Add(name))
            {
                errors.Add($"{name}: duplicate {kind} {name} found");
                continue;
            }
            if (statics.Contains(name))
            {
                continue;
            }
            if (previous.TryGetValue(name, out var old) && ReferenceEquals(old.Resource, typed))
            {
                // What an incremental update did not touch: the held resource itself, not digested again.
                entries.Add(old);
                continue;
            }
            var digest = Digest(typed);
            entries.Add(old is not null && old.Digest == digest ? old : new XdsResource<T>(name, typed, version, now, digest));
        }
        return entries;
    }

    /// <summary>
    /// Commits <paramref name="candidate"/> after <paramref name="reconcile"/> started the subscriptions it needs (their
    /// first reads go into the same update, so it is applied once, its clusters warm).
    /// </summary>
    private string? CommitReconciled(DynamicState candidate, Action reconcile)
    {
        var outer = _pending;
        _pending = candidate;
        reconcile();
        candidate = _pending;
        _pending = outer;
        return Commit(candidate);
    }

    // ---- EDS ----------------------------------------------------------------------------------------------------

    private void ReconcileEds()
    {
        var working = Working;
        var wanted = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        foreach (var cluster in AllClusters(working))
        {
            if (cluster.Type == DiscoveryType.Eds && cluster.EdsClusterConfig?.EdsConfig is not null)
            {
                wanted[cluster.Name ?? string.Empty] = cluster;
            }
        }
        var endpoints = new Dictionary<string, XdsResource<ClusterLoadAssignment>>(working.Endpoints, StringComparer.Ordinal);
        foreach (var (name, subscription) in _eds.ToArray())
        {
            if (!wanted.TryGetValue(name, out var cluster) || !subscription.Serves(cluster))
            {
                subscription.Dispose();
                _eds.Remove(name);
                endpoints.Remove(name);
            }
        }
        _pending = working with { Endpoints = endpoints };
        foreach (var (name, cluster) in wanted)
        {
            if (_eds.ContainsKey(name))
            {
                continue;
            }
            var subscription = new EdsSubscription(this, name, cluster);
            _eds.Add(name, subscription);
            subscription.Start();
            if (!subscription.Subscription.Initialized.IsCompleted)
            {
                _ = subscription.Subscription.Initialized.ContinueWith(_ => EndWarming(name, subscription), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    /// <summary>One EDS cluster's subscription (Envoy's EdsClusterImpl): its stats are the cluster's (<c>cluster.&lt;name&gt;.update_*</c>).</summary>
    private sealed class EdsSubscription : IDisposable
    {
        private readonly ConfigManager _owner;
        private readonly string _cluster;
        private readonly string _serviceName;
        private readonly EnvoyConfigSource _source;
        private readonly string _sourceKey;
        private readonly Counter _updateEmpty;

        public EdsSubscription(ConfigManager owner, string cluster, Cluster config)
        {
            _owner = owner;
            _cluster = cluster;
            var source = config.EdsClusterConfig!.EdsConfig!;
            _serviceName = ServiceNameOf(config);
            _source = source;
            _sourceKey = SourceKey(source);
            var scope = "cluster." + cluster + ".";
            _updateEmpty = owner._stats.Counter(scope + "update_empty");
            Subscription = owner.Subscribe(source, GrpcMux.EndpointType, _serviceName, new SubscriptionStats(owner._stats, scope), OnUpdate, defer: owner.DeferEds);
        }

        public IXdsSubscription Subscription { get; }

        private static string ServiceNameOf(Cluster cluster)
            => cluster.EdsClusterConfig?.ServiceName is { Length: > 0 } service ? service : cluster.Name ?? string.Empty;

        /// <summary>Whether this subscription still reads what <paramref name="cluster"/> asks for (a changed cluster may name another source or service).</summary>
        public bool Serves(Cluster cluster)
            => (ReferenceEquals(cluster.EdsClusterConfig!.EdsConfig, _source) || string.Equals(SourceKey(cluster.EdsClusterConfig.EdsConfig!), _sourceKey, StringComparison.Ordinal))
                && ServiceNameOf(cluster) == _serviceName;

        public void Start() => Subscription.Start();

        public void Dispose() => Subscription.Dispose();

        private string? OnUpdate(DiscoveryResponse response, string errorSource)
        {
            if (response.Resources.Count == 0)
            {
                // Envoy's EdsClusterImpl: an empty response leaves the hosts as they are.
                _updateEmpty.Increment();
                return null;
            }
            if (response.Resources.Count != 1)
            {
                return $"Unexpected EDS resource length: {response.Resources.Count}";
            }
            if (response.Resources[0] is not ClusterLoadAssignment assignment)
            {
                return WrongType(response.Resources[0], AssignmentType);
            }
            if (!string.Equals(assignment.ClusterName, _serviceName, StringComparison.Ordinal))
            {
                return $"Unexpected EDS cluster (expecting {_serviceName}): {assignment.ClusterName}";
            }
            return _owner.OnEds(_cluster, assignment, response.VersionInfo ?? string.Empty, errorSource);
        }
    }

    private string? OnEds(string cluster, ClusterLoadAssignment assignment, string version, string file)
    {
        var working = Working;
        var digest = Digest(assignment);
        if (working.Endpoints.TryGetValue(cluster, out var current) && current.Digest == digest)
        {
            return null;
        }
        var entry = new XdsResource<ClusterLoadAssignment>(cluster, assignment, version, _time.GetUtcNow(), digest);
        List<ConfigError> errors;
        if (string.Equals(_bootstrap.ClusterManager?.LocalClusterName, cluster, StringComparison.Ordinal))
        {
            // The local cluster's zones are read by zone-aware routing: checked with everything.
            var endpoints = new Dictionary<string, XdsResource<ClusterLoadAssignment>>(working.Endpoints, StringComparer.Ordinal) { [cluster] = entry };
            errors = ErrorsIn(working with { Endpoints = endpoints }, file);
        }
        else
        {
            errors = EdsErrors(working, cluster, assignment, file);
        }
        if (errors.Count > 0)
        {
            return FilesystemSubscription.Describe(errors);
        }
        var changed = Owned(working.Endpoints, ref _ownedEndpoints, static e => new Dictionary<string, XdsResource<ClusterLoadAssignment>>(e, StringComparer.Ordinal));
        changed[cluster] = entry;
        IReadOnlySet<string> warming = working.WarmingClusters;
        if (warming.Contains(cluster))
        {
            var rest = Owned(working.WarmingClusters, ref _ownedWarming, static w => new HashSet<string>(w, StringComparer.Ordinal));
            rest.Remove(cluster);
            warming = rest;
        }
        return Commit(working with { Endpoints = changed, WarmingClusters = warming });
    }

    // The endpoint table and warming set this update made (while one is put together, the EDS responses it holds write
    // into them instead of copying per cluster: 10,000 assignments in one response are one copy, not 10,000).
    private Dictionary<string, XdsResource<ClusterLoadAssignment>>? _ownedEndpoints;
    private HashSet<string>? _ownedWarming;

    /// <summary>
    /// <paramref name="current"/> itself when the update being put together made it (never one a committed state
    /// holds), else a copy, which the update then owns.
    /// </summary>
    private TOwned Owned<TCurrent, TOwned>(TCurrent current, ref TOwned? owned, Func<TCurrent, TOwned> copy)
        where TCurrent : class
        where TOwned : class, TCurrent
    {
        if (_pending is not null && ReferenceEquals(current, owned))
        {
            return owned!;
        }
        var made = copy(current);
        owned = _pending is null ? null : made;
        return made;
    }

    /// <summary>An assignment's errors, checked on its cluster alone (nothing else refers to a cluster's endpoints).</summary>
    private List<ConfigError> EdsErrors(DynamicState working, string clusterName, ClusterLoadAssignment assignment, string file)
    {
        if (ClusterNamed(working, clusterName) is not { } cluster)
        {
            return [];
        }
        var copy = WithAssignment(cluster, assignment);
        var context = new ValidationContext(_types)
        {
            Secrets = Tls.TlsSecrets.From(new StaticResources { Secrets = _bootstrap.StaticResources?.Secrets ?? [], Clusters = [copy] }, _types),
            AdsConfig = _bootstrap.DynamicResources?.AdsConfig,
            BootstrapClusters = _bootstrap.StaticResources?.Clusters ?? [],
        };
        context.EdsAssignments.Add(assignment);
        new ClusterValidator(context).Validate(copy);
        context.Errors.RemoveAll(e => !string.Equals(e.Location.Source, file, StringComparison.Ordinal));
        return context.Errors;
    }

    /// <summary>The static or CDS cluster named so, from an index made once per CDS state (not a scan per assignment).</summary>
    private Cluster? ClusterNamed(DynamicState state, string name)
    {
        if (!ReferenceEquals(_clusterIndexOf, state.Clusters))
        {
            _clusterIndex.Clear();
            foreach (var cluster in AllClusters(state))
            {
                _clusterIndex.TryAdd(cluster.Name ?? string.Empty, cluster);
            }
            _clusterIndexOf = state.Clusters;
        }
        return _clusterIndex.GetValueOrDefault(name);
    }

    private readonly Dictionary<string, Cluster> _clusterIndex = new(StringComparer.Ordinal);
    private IReadOnlyList<XdsResource<Cluster>>? _clusterIndexOf;

    private readonly HashSet<FilesystemSubscription> _edsMoved = [];
    private bool _edsScheduled;

    /// <summary>
    /// An EDS file was moved into place: read with the others moved meanwhile and applied as one update (Envoy applies
    /// each cluster's update on its own, at a cost that does not grow with the number of clusters; here one application
    /// costs a pass over the configuration, so a burst of files, as a control plane's rollout writes them, is one).
    /// </summary>
    private void DeferEds(FilesystemSubscription subscription)
    {
        lock (_edsMoved)
        {
            _edsMoved.Add(subscription);
            if (_edsScheduled)
            {
                return;
            }
            _edsScheduled = true;
        }
        _ = Task.Run(ApplyMovedEds);
    }

    private void ApplyMovedEds()
    {
        FilesystemSubscription[] moved;
        lock (_edsMoved)
        {
            moved = [.. _edsMoved];
            _edsMoved.Clear();
            _edsScheduled = false;
        }
        if (ApplyBatch(() =>
            {
                foreach (var subscription in moved)
                {
                    subscription.Refresh();
                }
            }) is { } error)
        {
            LogResourceRejected(_logger, "EDS update", error);
        }
    }

    // ---- RDS ----------------------------------------------------------------------------------------------------

    private void ReconcileRds()
    {
        var working = Working;
        var wanted = new Dictionary<RdsKey, (Rds Rds, string StatPrefix)>();
        foreach (var listener in AllListeners(working))
        {
            foreach (var hcm in ConnectionManagers(listener))
            {
                if (hcm.Rds is { ConfigSource: not null } rds)
                {
                    wanted.TryAdd(KeyOf(rds), (rds, hcm.StatPrefix ?? string.Empty));
                }
            }
        }
        var routes = new Dictionary<RdsKey, XdsResource<RouteConfiguration>>(working.Routes);
        foreach (var (key, subscription) in _rds.ToArray())
        {
            if (!wanted.ContainsKey(key))
            {
                subscription.Dispose();
                _rds.Remove(key);
                routes.Remove(key);
            }
        }
        _pending = working with { Routes = routes };
        foreach (var (key, (rds, statPrefix)) in wanted)
        {
            if (_rds.ContainsKey(key))
            {
                continue;
            }
            var subscription = new RdsSubscription(this, key, rds.ConfigSource!, statPrefix);
            _rds.Add(key, subscription);
            subscription.Start();
        }
    }

    /// <summary>
    /// One RDS subscription (Envoy's RdsRouteConfigSubscription), shared by the connection managers naming the same file
    /// and route configuration; its stats are under the first one's prefix: <c>http.&lt;prefix&gt;.rds.&lt;name&gt;.</c>.
    /// </summary>
    private sealed class RdsSubscription : IDisposable
    {
        private readonly ConfigManager _owner;
        private readonly RdsKey _key;
        private readonly Counter _updateEmpty;
        private readonly Counter _configReload;
        private readonly Gauge _configReloadTime;

        public RdsSubscription(ConfigManager owner, RdsKey key, EnvoyConfigSource source, string statPrefix)
        {
            _owner = owner;
            _key = key;
            Scope = "http." + statPrefix + ".rds." + key.RouteConfigName + ".";
            _updateEmpty = owner._stats.Counter(Scope + "update_empty");
            _configReload = owner._stats.Counter(Scope + "config_reload");
            _configReloadTime = owner._stats.Gauge(Scope + "config_reload_time_ms");
            Subscription = owner.Subscribe(source, GrpcMux.RouteType, key.RouteConfigName, new SubscriptionStats(owner._stats, Scope), OnUpdate);
        }

        public string Scope { get; }

        public IXdsSubscription Subscription { get; }

        public void Start() => Subscription.Start();

        public void Dispose()
        {
            Subscription.Dispose();
            _owner._stats.RemoveScope(Scope);
        }

        private string? OnUpdate(DiscoveryResponse response, string errorSource)
        {
            if (response.Resources.Count == 0)
            {
                _updateEmpty.Increment();
                return null;
            }
            if (response.Resources.Count != 1)
            {
                return $"Unexpected RDS resource length: {response.Resources.Count}";
            }
            if (response.Resources[0] is not RouteConfiguration routeConfig)
            {
                return $"Unexpected RDS configuration type (expecting {RouteConfigurationType}): {BootstrapValidator.MessageSchemaName(response.Resources[0])}";
            }
            if (!string.Equals(routeConfig.Name, _key.RouteConfigName, StringComparison.Ordinal))
            {
                return $"Unexpected RDS configuration (expecting {_key.RouteConfigName}): {routeConfig.Name}";
            }
            var result = _owner.OnRds(_key, routeConfig, response.VersionInfo ?? string.Empty, errorSource);
            if (result is { Error: null, Changed: true })
            {
                _configReload.Increment();
                _configReloadTime.Set(_owner._time.GetUtcNow().ToUnixTimeMilliseconds());
            }
            return result.Error;
        }
    }

    private (string? Error, bool Changed) OnRds(RdsKey key, RouteConfiguration routeConfig, string version, string errorSource)
    {
        var working = Working;
        var digest = Digest(routeConfig);
        if (working.Routes.TryGetValue(key, out var current) && current.Digest == digest)
        {
            return (null, false);
        }
        var routes = new Dictionary<RdsKey, XdsResource<RouteConfiguration>>(working.Routes) { [key] = new(key.RouteConfigName, routeConfig, version, _time.GetUtcNow(), digest) };
        var candidate = working with { Routes = routes };
        var errors = ErrorsIn(candidate, errorSource);
        if (errors.Count > 0)
        {
            return (FilesystemSubscription.Describe(errors), false);
        }
        return (Commit(candidate), true);
    }

    private static RdsKey KeyOf(Rds rds) => new(SourceKey(rds.ConfigSource!), rds.RouteConfigName ?? string.Empty);

    // ---- composing, validating, applying ------------------------------------------------------------------------

    /// <summary>
    /// Checks the SotW entries of a CDS or LDS response in the configuration they would make. A resource with errors is
    /// left out (its last good version, when there is one, stays) and the rest checked again; an error breaking a proto
    /// constraint, or one that cannot be put on a resource, rejects the whole response (returned).
    /// </summary>
    private string? ValidateEach<T>(List<XdsResource<T>> entries, Dictionary<string, XdsResource<T>> previous, List<EnvoyMessage> attributable, string file, DynamicState working,
        Func<DynamicState, IReadOnlyList<XdsResource<T>>, DynamicState> with, List<string> errors, Dictionary<string, XdsUpdateFailure> failures, string version, DateTimeOffset now)
        where T : EnvoyMessage
    {
        for (var round = 0; ; round++)
        {
            var fileErrors = ErrorsIn(with(working, entries), file);
            if (fileErrors.Count == 0)
            {
                return null;
            }
            var byResource = Attribute(fileErrors, attributable);
            if (round == MaxValidationRounds || byResource is null || fileErrors.Exists(e => e.Message.StartsWith(ProtoConstraint, StringComparison.Ordinal)))
            {
                return FilesystemSubscription.Describe(fileErrors);
            }
            foreach (var (resource, resourceErrors) in byResource)
            {
                var index = entries.FindIndex(e => ReferenceEquals(e.Resource, resource));
                if (index < 0)
                {
                    return FilesystemSubscription.Describe(fileErrors);
                }
                var name = entries[index].Name;
                var details = string.Join("; ", resourceErrors);
                errors.Add($"{name}: {details}");
                failures[name] = new XdsUpdateFailure(resource, details, now, version);
                LogResourceRejected(_logger, name, details);
                if (previous.TryGetValue(name, out var old))
                {
                    entries[index] = old;
                }
                else
                {
                    entries.RemoveAt(index);
                }
            }
        }
    }

    private const int MaxValidationRounds = 3;
    private const string ProtoConstraint = "Proto constraint validation failed";

    /// <summary>The errors of <paramref name="candidate"/> that are in <paramref name="file"/> (static resources were checked when loaded).</summary>
    private List<ConfigError> ErrorsIn(DynamicState candidate, string file)
    {
        var composed = Compose(candidate, out var assignments);
        var errors = BootstrapValidator.ValidateComposed(composed, _types, assignments, RdsTables(candidate), _bootstrap.StaticResources?.Clusters ?? [], _bootstrap.DynamicResources?.AdsConfig);
        errors.RemoveAll(e => !string.Equals(e.Location.Source, file, StringComparison.Ordinal));
        return errors;
    }

    /// <summary>
    /// Which resource of the response each error is in (by position in the file; a response off the wire has none, so by
    /// field path, <c>resources[i]</c>), or null when one is in none.
    /// </summary>
    private static Dictionary<EnvoyMessage, List<ConfigError>>? Attribute(List<ConfigError> errors, List<EnvoyMessage> resources)
    {
        var result = new Dictionary<EnvoyMessage, List<ConfigError>>(ReferenceEqualityComparer.Instance);
        foreach (var error in errors)
        {
            EnvoyMessage? owner = error.Location.Line == 0 ? ByPath(error.Location.Path, resources) : null;
            foreach (var resource in error.Location.Line == 0 ? [] : resources)
            {
                var at = resource.Location;
                if (at.Line < error.Location.Line || (at.Line == error.Location.Line && at.Column <= error.Location.Column))
                {
                    if (owner is null || owner.Location.Line < at.Line || (owner.Location.Line == at.Line && owner.Location.Column < at.Column))
                    {
                        owner = resource;
                    }
                }
            }
            if (owner is null)
            {
                return null;
            }
            if (!result.TryGetValue(owner, out var list))
            {
                result[owner] = list = [];
            }
            list.Add(error);
        }
        return result;
    }

    private static EnvoyMessage? ByPath(string path, List<EnvoyMessage> resources)
    {
        foreach (var resource in resources)
        {
            var prefix = resource.Location.Path;
            if (prefix.Length > 0 && path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] is '.' or '['))
            {
                return resource;
            }
        }
        return null;
    }

    /// <summary>Applies <paramref name="candidate"/> (or, while an update is being put together, makes it that update); returns why not when it fails.</summary>
    private string? Commit(DynamicState candidate)
    {
        if (_pending is not null)
        {
            _pending = candidate;
            return null;
        }
        GatewayPlan plan;
        try
        {
            plan = Translate(candidate);
            _apply?.Invoke(plan).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The runtime builds everything before it swaps anything in: the running configuration is untouched.
            return "the update could not be applied: " + e.Message;
        }
        Volatile.Write(ref _state, candidate);
        Plan = plan;
        _server.WarmingClusters.Set(candidate.WarmingClusters.Count);
        if (_started)
        {
            // Set from the plan applied (an update put together from several responses is applied once, here).
            _server.ActiveClusters.Set(plan.ClusterPlans.Count);
            _server.TotalListenersActive.Set(plan.Listeners.Count);
        }
        _translations = _lastTranslation ?? _translations;
        LogApplied(_logger, plan.ClusterPlans.Count, plan.Listeners.Count);
        return null;
    }

    private GatewayPlan Translate(DynamicState state)
    {
        var composed = Compose(state, out _, includeWarming: false);
        var lds = new HashSet<Listener>(ReferenceEqualityComparer.Instance);
        foreach (var entry in state.Listeners)
        {
            lds.Add(entry.Resource);
        }
        // The cache is replaced only by a translation that is applied: a refused update leaves it as it was.
        var cache = new TranslationCache { Clusters = _translations.Clusters, Listeners = _translations.Listeners };
        var plan = EnvoyTranslator.Translate(composed, _types, new TranslationInputs(rds => state.Routes.TryGetValue(KeyOf(rds), out var table) ? table.Resource : null, cache, lds));
        _lastTranslation = cache;
        return plan;
    }

    // What the applied plan was made from (and the translation not yet applied), reused by the next translation.
    private TranslationCache _translations = new();
    private TranslationCache? _lastTranslation;

    /// <summary>True when LDS may add and remove listeners (<c>lds_config</c> is set).</summary>
    public bool DynamicListeners => _lds is not null;

    /// <summary>
    /// The bootstrap with the dynamic clusters and listeners beside the static ones, each EDS cluster a copy carrying its
    /// current assignment (none yet: an empty one, no hosts).
    /// </summary>
    private Bootstrap Compose(DynamicState state, out List<ClusterLoadAssignment> assignments, bool includeWarming = true)
    {
        assignments = [];
        var clusters = new List<Cluster>();
        foreach (var cluster in AllClusters(state))
        {
            if (!includeWarming && state.WarmingClusters.Contains(cluster.Name ?? string.Empty))
            {
                // Validated with the rest, not used yet.
                continue;
            }
            if (cluster.Type != DiscoveryType.Eds)
            {
                clusters.Add(cluster);
                continue;
            }
            var name = cluster.Name ?? string.Empty;
            ClusterLoadAssignment assignment;
            Cluster copy;
            if (state.Endpoints.TryGetValue(name, out var entry))
            {
                assignment = entry.Resource;
                // One copy per cluster and assignment: an unchanged pair is the same object, which translation reuses.
                if (!_edsCopies.TryGetValue(cluster, out var known) || !ReferenceEquals(known.Assignment, assignment))
                {
                    known = new EdsCopy(assignment, WithAssignment(cluster, assignment));
                    _edsCopies.AddOrUpdate(cluster, known);
                }
                copy = known.Copy;
            }
            else
            {
                assignment = new ClusterLoadAssignment { ClusterName = cluster.EdsClusterConfig?.ServiceName is { Length: > 0 } service ? service : name };
                copy = WithAssignment(cluster, assignment);
            }
            assignments.Add(assignment);
            clusters.Add(copy);
        }
        var statics = _bootstrap.StaticResources;
        return new Bootstrap
        {
            Node = _bootstrap.Node,
            Admin = _bootstrap.Admin,
            Tracing = _bootstrap.Tracing,
            ClusterManager = _bootstrap.ClusterManager,
            StaticResources = new StaticResources
            {
                Listeners = [.. AllListeners(state)],
                Clusters = clusters,
                Secrets = statics?.Secrets ?? [],
            },
        };
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Cluster, EdsCopy> _edsCopies = [];

    private sealed record EdsCopy(ClusterLoadAssignment Assignment, Cluster Copy);

    private static Cluster WithAssignment(Cluster cluster, ClusterLoadAssignment assignment)
    {
        var copy = (Cluster)cluster.ShallowCopy();
        copy.LoadAssignment = assignment;
        return copy;
    }

    private static List<RouteConfiguration> RdsTables(DynamicState state)
    {
        var tables = new List<RouteConfiguration>(state.Routes.Count);
        foreach (var entry in state.Routes.Values)
        {
            tables.Add(entry.Resource);
        }
        return tables;
    }

    private IEnumerable<Cluster> AllClusters(DynamicState state)
    {
        foreach (var cluster in _bootstrap.StaticResources?.Clusters ?? [])
        {
            yield return cluster;
        }
        foreach (var entry in state.Clusters)
        {
            yield return entry.Resource;
        }
    }

    private IEnumerable<Listener> AllListeners(DynamicState state)
    {
        foreach (var listener in _bootstrap.StaticResources?.Listeners ?? [])
        {
            yield return listener;
        }
        foreach (var entry in state.Listeners)
        {
            yield return entry.Resource;
        }
    }

    private static IEnumerable<HttpConnectionManager> ConnectionManagers(Listener listener)
    {
        foreach (var chain in listener.FilterChains)
        {
            foreach (var filter in chain.Filters)
            {
                if (filter.TypedConfig is HttpConnectionManager hcm)
                {
                    yield return hcm;
                }
            }
        }
        if (listener.DefaultFilterChain is { } fallback)
        {
            foreach (var filter in fallback.Filters)
            {
                if (filter.TypedConfig is HttpConnectionManager hcm)
                {
                    yield return hcm;
                }
            }
        }
    }

    private static string ListenerName(Listener listener)
        => listener.Name is { Length: > 0 } name ? name
            : listener.Address?.SocketAddress is { Address: { } address, PortValue: { } port } ? EnvoyTranslator.DefaultListenerName(address, (int)port) : string.Empty;

    private static Dictionary<string, XdsResource<T>> ByName<T>(IReadOnlyList<XdsResource<T>> entries)
        where T : EnvoyMessage
    {
        var byName = new Dictionary<string, XdsResource<T>>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            byName[entry.Name] = entry;
        }
        return byName;
    }

    private static (int Added, int Modified, int Removed) Changes<T>(Dictionary<string, XdsResource<T>> previous, List<XdsResource<T>> entries)
        where T : EnvoyMessage
    {
        int added = 0, modified = 0;
        var kept = 0;
        foreach (var entry in entries)
        {
            if (!previous.TryGetValue(entry.Name, out var old))
            {
                added++;
                continue;
            }
            kept++;
            if (!ReferenceEquals(old, entry))
            {
                modified++;
            }
        }
        return (added, modified, previous.Count - kept);
    }

    /// <summary>A resource's content, for telling an unchanged one (its protobuf JSON, as <c>/config_dump</c> prints it).</summary>
    private static string Digest(EnvoyMessage resource) => ConfigJson.Message(resource).ToPrettyString();

    private static string WrongType(EnvoyMessage resource, string expected)
        => $"Unexpected resource type {BootstrapValidator.MessageSchemaName(resource)} (expecting {expected})";

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            // The ADS stream first: the subscriptions going one by one would otherwise each send a request.
            _ads?.Dispose();
            _cds?.Dispose();
            _lds?.Dispose();
            foreach (var subscription in _eds.Values)
            {
                subscription.Dispose();
            }
            foreach (var subscription in _rds.Values)
            {
                subscription.Dispose();
            }
            _watchers.Dispose();
        }
    }

    [LoggerMessage(EventId = LogEvents.ConfigApplied, Level = LogLevel.Information, Message = "configuration applied: {Clusters} cluster(s), {Listeners} listener(s)")]
    private static partial void LogApplied(ILogger logger, int clusters, int listeners);

    [LoggerMessage(EventId = LogEvents.ConfigResourceRejected, Level = LogLevel.Warning, Message = "{Name} rejected: {Details}")]
    private static partial void LogResourceRejected(ILogger logger, string name, string details);
}
