using Gateway.Configuration;
using Gateway.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Admin;

/// <summary>The configuration the gateway runs, for <c>/config_dump</c>: the bootstrap as loaded and when it was applied.</summary>
internal sealed class ConfigDumpSource(Bootstrap bootstrap, TimeProvider time)
{
    public Bootstrap Bootstrap { get; } = bootstrap;

    /// <summary>Every resource's <c>last_updated</c>: the configuration is applied once, at start-up (milliseconds, as Envoy's TimestampUtil keeps).</summary>
    public DateTimeOffset LastUpdated { get; } = TruncateToMilliseconds(time.GetUtcNow());

    /// <summary>A time as the dumps print it: whole milliseconds.</summary>
    internal static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value)
        => new(value.Ticks - value.Ticks % TimeSpan.TicksPerMillisecond, value.Offset);
}

/// <summary>
/// <c>/config_dump</c> (config_dump_handler.cc): <c>{"configs":[…]}</c> with Envoy's six dumps of a static
/// configuration, in its ConfigTracker's (alphabetical) order — Bootstrap, Clusters (<c>static_clusters</c>),
/// Listeners (<c>static_listeners</c>), ScopedRoutes, Routes (<c>static_route_configs</c>: the HCMs' inline
/// route tables) and Secrets — rendered from the loaded model by <see cref="ConfigJson"/>.
/// <c>?resource=</c> returns the elements of one repeated field, <c>?name_regex=</c> keeps the resources
/// whose name fully matches, <c>?mask=</c> keeps only the listed fields; errors are Envoy's 400/404 texts.
/// </summary>
internal sealed class ConfigDumpHandler(IServiceProvider services)
{
    // Resolved with the admin handler, at start-up: that is when the configuration was applied.
    private readonly ConfigDumpSource? _source = services.GetService<ConfigDumpSource>();
    // Resolved per dump (the runtime is built after the admin handler).
    private Hosting.GatewayRuntime? Runtime => services.GetService<Hosting.GatewayRuntime>();

    private Hosting.ConfigManager? Manager => services.GetService<Hosting.ConfigManager>();

    private const string AdminV3 = "envoy.admin.v3.";

    private static readonly Shape Timestamp = new LeafShape();

    private static readonly DumpShape StaticCluster = new(AdminV3 + "ClustersConfigDump.StaticCluster", [new("cluster", false, new AnyShape(typeof(Cluster))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape StaticListener = new(AdminV3 + "ListenersConfigDump.StaticListener", [new("listener", false, new AnyShape(typeof(Listener))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape StaticRouteConfig = new(AdminV3 + "RoutesConfigDump.StaticRouteConfig", [new("route_config", false, new AnyShape(typeof(RouteConfiguration))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape StaticSecret = new(AdminV3 + "SecretsConfigDump.StaticSecret", [new("name", false, new LeafShape()), new("last_updated", false, Timestamp), new("secret", false, new AnyShape(typeof(Secret)))]);
    private static readonly DumpShape DynamicSecret = new(AdminV3 + "SecretsConfigDump.DynamicSecret",
        [new("name", false, new LeafShape()), new("version_info", false, new LeafShape()), new("last_updated", false, Timestamp), new("secret", false, new AnyShape(typeof(Secret)))]);
    private static readonly Shape Opaque = new LeafShape();
    private static readonly DumpShape DynamicCluster = new(AdminV3 + "ClustersConfigDump.DynamicCluster",
        [new("version_info", false, new LeafShape()), new("cluster", false, new AnyShape(typeof(Cluster))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape DynamicRouteConfig = new(AdminV3 + "RoutesConfigDump.DynamicRouteConfig",
        [new("version_info", false, new LeafShape()), new("route_config", false, new AnyShape(typeof(RouteConfiguration))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape DynamicListener = new(AdminV3 + "ListenersConfigDump.DynamicListener",
    [
        new("name", false, new LeafShape()),
        new("active_state", false, new DumpShape(AdminV3 + "ListenersConfigDump.DynamicListenerState",
            [new("version_info", false, new LeafShape()), new("listener", false, new AnyShape(typeof(Listener))), new("last_updated", false, Timestamp)])),
        new("warming_state", false, Opaque), new("draining_state", false, Opaque), new("error_state", false, Opaque),
    ]);

    private static readonly DumpShape StaticEndpointConfig = new(AdminV3 + "EndpointsConfigDump.StaticEndpointConfig",
        [new("endpoint_config", false, new AnyShape(typeof(ClusterLoadAssignment))), new("last_updated", false, Timestamp)]);
    private static readonly DumpShape DynamicEndpointConfig = new(AdminV3 + "EndpointsConfigDump.DynamicEndpointConfig",
        [new("version_info", false, new LeafShape()), new("endpoint_config", false, new AnyShape(typeof(ClusterLoadAssignment))), new("last_updated", false, Timestamp)]);

    /// <summary>The endpoints dump, after the clusters' (<c>?include_eds</c>).</summary>
    private static readonly DumpShape EndpointsDump = new(AdminV3 + "EndpointsConfigDump",
        [new("static_endpoint_configs", true, StaticEndpointConfig), new("dynamic_endpoint_configs", true, DynamicEndpointConfig)]);

    /// <summary>The dumps a static configuration has, keyed and ordered as Envoy's ConfigTracker orders them.</summary>
    private static readonly DumpShape[] Dumps =
    [
        new(AdminV3 + "BootstrapConfigDump", [new("bootstrap", false, new ModelShape(typeof(Bootstrap))), new("last_updated", false, Timestamp)]),
        new(AdminV3 + "ClustersConfigDump",
        [
            new("version_info", false, Opaque), new("static_clusters", true, StaticCluster),
            new("dynamic_active_clusters", true, DynamicCluster), new("dynamic_warming_clusters", true, DynamicCluster),
        ]),
        new(AdminV3 + "ListenersConfigDump", [new("version_info", false, Opaque), new("static_listeners", true, StaticListener), new("dynamic_listeners", true, DynamicListener)]),
        new(AdminV3 + "ScopedRoutesConfigDump", [new("inline_scoped_route_configs", true, Opaque), new("dynamic_scoped_route_configs", true, Opaque)]),
        new(AdminV3 + "RoutesConfigDump", [new("static_route_configs", true, StaticRouteConfig), new("dynamic_route_configs", true, DynamicRouteConfig)]),
        new(AdminV3 + "SecretsConfigDump", [new("static_secrets", true, StaticSecret), new("dynamic_active_secrets", true, DynamicSecret), new("dynamic_warming_secrets", true, Opaque)]),
    ];

    /// <summary>The dumps with the endpoints dump in Envoy's place for it.</summary>
    // After Dumps: static fields initialize in order.
    private static readonly DumpShape[] DumpsWithEds = [Dumps[0], Dumps[1], EndpointsDump, .. Dumps[2..]];

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/config_dump", "dump current Envoy configs (experimental)", false,
        [
            new AdminParam("resource", "The resource to dump"),
            new AdminParam("mask", "The mask to apply. When both resource and mask are specified, the mask is applied to every element in the desired repeated field so that only a subset of fields are returned. The mask is parsed as a ProtobufWkt::FieldMask"),
            new AdminParam("name_regex", "Dump only the currently loaded configurations whose names match the specified regex. Can be used with both resource and mask query parameters."),
            new AdminParam("include_eds", "Dump currently loaded configuration including EDS. See the response definition for more information"),
        ], ConfigDump),
    ];

    private AdminResponse ConfigDump(AdminRequest request)
    {
        EnvoyRegex? names = null;
        if (request.Value("name_regex") is { } pattern)
        {
            // Envoy compiles it as a RegexMatcher, program-size bound included.
            if (!EnvoyRegex.TryCompile(pattern, out names, out var error))
            {
                return Error(400, $"INVALID_ARGUMENT: Error while parsing name_regex from {pattern}: {error}");
            }
        }
        var mask = request.Find("mask") is { } maskText ? MaskTree.Parse(maskText) : null;
        var includeEds = request.Has("include_eds");
        var dumps = includeEds ? DumpsWithEds : Dumps;
        var values = Values(names, includeEds);
        var configs = new ProtoList();

        if (request.Find("resource") is { } resource)
        {
            for (var i = 0; i < dumps.Length; i++)
            {
                if (dumps[i].Field(resource) is not { } field)
                {
                    continue;
                }
                if (!field.Repeated)
                {
                    return Error(400, $"{field.Name} is not a repeated field. Use ?mask={field.Name} to get only this field");
                }
                if (values[i].TryGetValue(field.Name, out var list) && field.Child is DumpShape element)
                {
                    foreach (var item in ((ProtoList)list).Items)
                    {
                        var packed = new ProtoObject(Configuration.EnvoyTypeRegistry.TypeUrlPrefix + element.FullName);
                        packed.Fields.AddRange(((ProtoObject)item).Fields);
                        if (mask is not null && !mask.TrimResource(packed, element))
                        {
                            return Error(400, $"FieldMask {mask.DebugString} could not be successfully used.");
                        }
                        configs.Add(packed);
                    }
                }
                return Dump(configs);
            }
            return Error(404, $"{resource} not found in config dump");
        }

        for (var i = 0; i < dumps.Length; i++)
        {
            var dump = ProtoObject.Any(dumps[i].FullName);
            foreach (var field in dumps[i].Fields)
            {
                if (values[i].TryGetValue(field.Name, out var value))
                {
                    dump.Add(field.Name, value);
                }
            }
            // A mask that does not fit a dump leaves that dump out (Envoy's checkFieldMaskAndTrimMessage).
            if (mask is not null && !mask.Trim(dump, dumps[i]))
            {
                continue;
            }
            configs.Add(dump);
        }
        if (mask is not null && configs.Items.Count == 0)
        {
            return Error(400, $"FieldMask {request.Find("mask")} could not be successfully applied to any configs.");
        }
        return Dump(configs);
    }

    private static AdminResponse Dump(ProtoList configs)
    {
        var root = new ProtoObject();
        if (configs.Items.Count > 0)
        {
            root.Add("configs", configs);
        }
        return AdminResponse.Json(root.ToPrettyString());
    }

    /// <summary>Envoy answers config dump errors as <c>text/plain</c> (without a charset).</summary>
    private static AdminResponse Error(int status, string text) => new(status, text, "text/plain");

    /// <summary>The present fields of each dump (same order as <see cref="Dumps"/>, or <see cref="DumpsWithEds"/>), resources filtered by name.</summary>
    private List<Dictionary<string, ProtoJson>> Values(EnvoyRegex? names, bool includeEds)
    {
        var source = _source;
        var bootstrap = source?.Bootstrap ?? new Bootstrap();
        var lastUpdated = ProtoJson.Timestamp(source?.LastUpdated ?? DateTimeOffset.UnixEpoch);
        var resources = bootstrap.StaticResources ?? new StaticResources();
        bool Matches(string? name) => names is null || names.IsFullMatch(name ?? string.Empty);

        var clusters = new ProtoList();
        foreach (var cluster in resources.Clusters)
        {
            if (Matches(cluster.Name))
            {
                clusters.Add(new ProtoObject().Add("cluster", ConfigJson.Message(cluster, asAny: true)).Add("last_updated", lastUpdated));
            }
        }
        var listeners = new ProtoList();
        var routes = new ProtoList();
        foreach (var listener in resources.Listeners)
        {
            if (Matches(listener.Name))
            {
                listeners.Add(new ProtoObject().Add("listener", ConfigJson.Message(listener, asAny: true)).Add("last_updated", lastUpdated));
            }
            foreach (var chain in listener.FilterChains)
            {
                foreach (var filter in chain.Filters)
                {
                    if (filter.TypedConfig is HttpConnectionManager { RouteConfig: { } routeConfig } && Matches(routeConfig.Name))
                    {
                        routes.Add(new ProtoObject().Add("route_config", ConfigJson.Message(routeConfig, asAny: true)).Add("last_updated", lastUpdated));
                    }
                }
            }
        }
        // Envoy's SecretManagerImpl dump: name, last_updated, the secret (its private key redacted).
        var secrets = new ProtoList();
        foreach (var secret in resources.Secrets)
        {
            if (Matches(secret.Name))
            {
                secrets.Add(new ProtoObject().Add("name", ProtoJson.String(secret.Name ?? string.Empty)).Add("last_updated", lastUpdated).Add("secret", ConfigJson.Message(secret, asAny: true)));
            }
        }

        // File-based SDS secrets as last accepted (Envoy lists every SDS subscription's secret here).
        var dynamicSecrets = new ProtoList();
        foreach (var watcher in Runtime?.Secrets.Active() ?? [])
        {
            if (Matches(watcher.Plan.SecretName))
            {
                var entry = new ProtoObject().Add("name", ProtoJson.String(watcher.Plan.SecretName));
                if (!string.IsNullOrEmpty(watcher.VersionInfo))
                {
                    entry.Add("version_info", ProtoJson.String(watcher.VersionInfo));
                }
                dynamicSecrets.Add(entry.Add("last_updated", ProtoJson.Timestamp(ConfigDumpSource.TruncateToMilliseconds(watcher.LastUpdated))).Add("secret", ConfigJson.Message(watcher.Secret(), asAny: true)));
            }
        }

        // What xDS gave (Envoy's cluster manager, listener manager and RDS dumps of dynamic resources).
        var dynamic = Manager?.State ?? Xds.DynamicState.Empty;
        var dynamicClusters = new ProtoList();
        var warmingClusters = new ProtoList();
        foreach (var entry in dynamic.Clusters)
        {
            if (Matches(entry.Name))
            {
                (dynamic.WarmingClusters.Contains(entry.Name) ? warmingClusters : dynamicClusters)
                    .Add(VersionedEntry(entry.Version).Add("cluster", ConfigJson.Message(entry.Resource, asAny: true)).Add("last_updated", Time(entry.LastUpdated)));
            }
        }
        var dynamicListeners = new ProtoList();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in dynamic.Listeners)
        {
            // An LDS listener's inline route tables are static route configurations to Envoy's route dump.
            foreach (var chain in entry.Resource.FilterChains)
            {
                foreach (var filter in chain.Filters)
                {
                    if (filter.TypedConfig is HttpConnectionManager { RouteConfig: { } routeConfig } && Matches(routeConfig.Name))
                    {
                        routes.Add(new ProtoObject().Add("route_config", ConfigJson.Message(routeConfig, asAny: true)).Add("last_updated", Time(entry.LastUpdated)));
                    }
                }
            }
            if (!Matches(entry.Name))
            {
                continue;
            }
            listed.Add(entry.Name);
            var state = VersionedEntry(entry.Version).Add("listener", ConfigJson.Message(entry.Resource, asAny: true)).Add("last_updated", Time(entry.LastUpdated));
            var item = new ProtoObject().Add("name", ProtoJson.String(entry.Name)).Add("active_state", state);
            if (dynamic.ListenerErrors.TryGetValue(entry.Name, out var failure))
            {
                item.Add("error_state", ErrorState(failure));
            }
            dynamicListeners.Add(item);
        }
        foreach (var (name, failure) in dynamic.ListenerErrors)
        {
            // A listener that never applied: Envoy lists it with its error alone.
            if (!listed.Contains(name) && Matches(name))
            {
                dynamicListeners.Add(new ProtoObject().Add("name", ProtoJson.String(name)).Add("error_state", ErrorState(failure)));
            }
        }
        var dynamicRoutes = new ProtoList();
        foreach (var entry in dynamic.Routes.Values)
        {
            if (Matches(entry.Name))
            {
                dynamicRoutes.Add(VersionedEntry(entry.Version).Add("route_config", ConfigJson.Message(entry.Resource, asAny: true)).Add("last_updated", Time(entry.LastUpdated)));
            }
        }

        static ProtoObject VersionedEntry(string version) => version.Length == 0 ? new ProtoObject() : new ProtoObject().Add("version_info", ProtoJson.String(version));

        static ProtoJson Time(DateTimeOffset time) => ProtoJson.Timestamp(ConfigDumpSource.TruncateToMilliseconds(time));

        static ProtoObject ErrorState(Xds.XdsUpdateFailure failure)
        {
            // envoy.admin.v3.UpdateFailureState: failed_configuration, last_update_attempt, details, version_info.
            var state = new ProtoObject().Add("failed_configuration", ConfigJson.Message(failure.Resource, asAny: true))
                .Add("last_update_attempt", Time(failure.LastUpdateAttempt)).Add("details", ProtoJson.String(failure.Details));
            return failure.Version.Length == 0 ? state : state.Add("version_info", ProtoJson.String(failure.Version));
        }

        static ProtoJson? Version(string? version) => string.IsNullOrEmpty(version) ? null : ProtoJson.String(version);


        List<Dictionary<string, ProtoJson>> values =
        [
            Present(("bootstrap", ConfigJson.Message(bootstrap)), ("last_updated", lastUpdated)),
            Present(("version_info", Version(dynamic.CdsVersion)), ("static_clusters", clusters), ("dynamic_active_clusters", dynamicClusters), ("dynamic_warming_clusters", warmingClusters)),
            Present(("version_info", Version(dynamic.LdsVersion)), ("static_listeners", listeners), ("dynamic_listeners", dynamicListeners)),
            Present(),
            Present(("static_route_configs", routes), ("dynamic_route_configs", dynamicRoutes)),
            Present(("static_secrets", secrets), ("dynamic_active_secrets", dynamicSecrets)),
        ];
        if (includeEds)
        {
            values.Insert(2, Endpoints(resources, dynamic, lastUpdated, Matches));
        }
        return values;
    }

    /// <summary>The fields given a value (an empty list is absent, as protobuf's JSON printer leaves it out).</summary>
    private static Dictionary<string, ProtoJson> Present(params (string Name, ProtoJson? Value)[] fields)
    {
        var present = new Dictionary<string, ProtoJson>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (value is not null and not ProtoList { Items.Count: 0 })
            {
                present[name] = value;
            }
        }
        return present;
    }

    /// <summary>
    /// The endpoints dump: a static cluster's <c>load_assignment</c> (static), and the assignments of EDS clusters and of
    /// CDS clusters (dynamic; EDS ones with their version and update time), as configured or last accepted.
    /// </summary>
    private static Dictionary<string, ProtoJson> Endpoints(StaticResources resources, Xds.DynamicState dynamic, ProtoJson lastUpdated, Func<string?, bool> matches)
    {
        var statics = new ProtoList();
        var dynamics = new ProtoList();
        void Add(Cluster cluster, bool fromCds)
        {
            var name = cluster.Name ?? string.Empty;
            if (!matches(name))
            {
                return;
            }
            if (cluster.Type == DiscoveryType.Eds)
            {
                if (dynamic.Endpoints.TryGetValue(name, out var eds))
                {
                    var entry = eds.Version.Length == 0 ? new ProtoObject() : new ProtoObject().Add("version_info", ProtoJson.String(eds.Version));
                    dynamics.Add(entry.Add("endpoint_config", ConfigJson.Message(eds.Resource, asAny: true))
                        .Add("last_updated", ProtoJson.Timestamp(ConfigDumpSource.TruncateToMilliseconds(eds.LastUpdated))));
                }
                return;
            }
            if (cluster.LoadAssignment is { } assignment)
            {
                (fromCds ? dynamics : statics).Add(new ProtoObject().Add("endpoint_config", ConfigJson.Message(assignment, asAny: true)).Add("last_updated", lastUpdated));
            }
        }
        foreach (var cluster in resources.Clusters)
        {
            Add(cluster, fromCds: false);
        }
        foreach (var entry in dynamic.Clusters)
        {
            Add(entry.Resource, fromCds: true);
        }
        return Present(("static_endpoint_configs", statics), ("dynamic_endpoint_configs", dynamics));
    }

    /// <summary>What a field mask can be checked against: a message's fields, as far as the admin API knows them.</summary>
    private abstract record Shape;

    /// <summary>A field of an admin dump message.</summary>
    private sealed record DumpField(string Name, bool Repeated, Shape Child);

    /// <summary>An <c>envoy.admin.v3</c> dump message.</summary>
    private sealed record DumpShape(string FullName, DumpField[] Fields) : Shape
    {
        public DumpField? Field(string name) => Array.Find(Fields, f => f.Name == name);
    }

    /// <summary>A configuration model message, checked through its <see cref="MessageSchema"/>.</summary>
    private sealed record ModelShape(Type Type) : Shape;

    /// <summary>A <c>google.protobuf.Any</c> holding a model message.</summary>
    private sealed record AnyShape(Type Type) : Shape;

    /// <summary>A message whose fields are not modelled here (timestamps, dynamic resources).</summary>
    private sealed record LeafShape : Shape;

    /// <summary>A <c>google.protobuf.FieldMask</c> as a tree of paths, applied to rendered dumps (FieldMaskUtil::TrimMessage).</summary>
    private sealed class MaskTree
    {
        private readonly Dictionary<string, MaskTree> _children = new(StringComparer.Ordinal);

        private MaskTree(string debugString) => DebugString = debugString;

        /// <summary>How Envoy prints the mask in its error (<c>FieldMask::DebugString</c>).</summary>
        public string DebugString { get; }

        private bool IsLeaf => _children.Count == 0;

        public static MaskTree Parse(string text)
        {
            var paths = text.Split(',', StringSplitOptions.RemoveEmptyEntries);
            var root = new MaskTree(string.Concat(paths.Select(p => "paths: " + ProtoJson.Quote(p) + "\n")));
            foreach (var path in paths)
            {
                var node = root;
                foreach (var segment in path.Split('.'))
                {
                    if (!node._children.TryGetValue(segment, out var child))
                    {
                        child = new MaskTree(string.Empty);
                        node._children[segment] = child;
                    }
                    node = child;
                }
            }
            return root;
        }

        /// <summary>Keeps only the masked fields of a whole dump; false when the mask does not fit the dump.</summary>
        public bool Trim(ProtoObject dump, DumpShape shape) => Valid(this, shape) && Apply(this, dump);

        /// <summary>
        /// Keeps only the masked fields of one resource element; a path through the element's <c>Any</c>
        /// (<c>cluster.name</c>) is applied inside it, as Envoy's trimResourceMessage does.
        /// </summary>
        public bool TrimResource(ProtoObject element, DumpShape shape)
        {
            foreach (var (name, child) in _children)
            {
                if (shape.Field(name) is not { } field)
                {
                    return false;
                }
                if (!child.IsLeaf && (field.Child is not AnyShape any || !Valid(child, new ModelShape(any.Type))))
                {
                    return false;
                }
            }
            return Apply(this, element);
        }

        private static bool Valid(MaskTree node, Shape shape)
        {
            foreach (var (name, child) in node._children)
            {
                var (repeated, next, known) = Lookup(shape, name);
                if (!known)
                {
                    return false;
                }
                if (child.IsLeaf)
                {
                    continue;
                }
                if (repeated || next is null || !Valid(child, next))
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Whether the shape has the field, whether it is repeated, and the shape of its message (null for scalars).</summary>
        private static (bool Repeated, Shape? Next, bool Known) Lookup(Shape shape, string name)
        {
            switch (shape)
            {
                case DumpShape dump:
                    return dump.Field(name) is { } field ? (field.Repeated, field.Child is LeafShape ? null : field.Child, true) : (false, null, false);
                case ModelShape model:
                    var schema = MessageSchema.For(model.Type);
                    if (schema.TryGetField(name, out var schemaField) && schemaField.Name == name)
                    {
                        var type = schemaField.Property.PropertyType;
                        var repeated = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>);
                        var element = repeated ? type.GetGenericArguments()[0] : Nullable.GetUnderlyingType(type) ?? type;
                        Shape? next = schemaField.IsAny ? new LeafShape() : typeof(EnvoyMessage).IsAssignableFrom(element) ? new ModelShape(element) : null;
                        return (repeated, next, true);
                    }
                    // A field Envoy has but this gateway does not model: never set, so nothing to keep.
                    return (false, null, schema.NotSupported.Contains(name));
                case AnyShape:
                    return (false, null, name is "type_url" or "value");
                default:
                    return (false, null, false);
            }
        }

        private static bool Apply(MaskTree node, ProtoObject target)
        {
            target.Fields.RemoveAll(field => !node._children.ContainsKey(field.Key));
            foreach (var (name, value) in target.Fields)
            {
                var child = node._children[name];
                if (!child.IsLeaf && value is ProtoObject nested)
                {
                    Apply(child, nested);
                }
            }
            return true;
        }
    }
}
