using System.Collections.Concurrent;
using System.Reflection;
using Gateway.Filters;

namespace Gateway.Configuration;

/// <summary>
/// Maps <c>@type</c> URLs (<c>type.googleapis.com/&lt;full name&gt;</c>) to model classes, so that
/// <c>typed_config</c> is read into the right type, and holds the HTTP filter factories whose configurations
/// those types are. Extensions (custom filters) register theirs here before a configuration is loaded.
/// </summary>
public sealed class EnvoyTypeRegistry
{
    /// <summary>The prefix every Envoy type URL carries.</summary>
    public const string TypeUrlPrefix = "type.googleapis.com/";

    private readonly ConcurrentDictionary<string, Type> _types = new(StringComparer.Ordinal);
    // A type may stand in several positions: local_ratelimit's and fault's per-route configuration is their filter configuration.
    private readonly ConcurrentDictionary<(Type, EnvoyTypeCategory), bool> _categories = new();
    private readonly List<IHttpFilterFactory> _filters = [];
    private readonly Dictionary<Type, IHttpFilterFactory> _filtersByConfig = [];
    private readonly Dictionary<Type, IHttpFilterFactory> _filtersByRouteConfig = [];
    private readonly Dictionary<Type, Tracing.ITracerFactory> _tracers = [];

    /// <summary>A registry holding the types this gateway implements in Gateway.Core (the router among the HTTP filters).</summary>
    public static EnvoyTypeRegistry CreateDefault()
    {
        var registry = new EnvoyTypeRegistry();
        registry.Register(typeof(HttpConnectionManager), EnvoyTypeCategory.NetworkFilter);
        registry.Register(typeof(TcpProxyConfig), EnvoyTypeCategory.NetworkFilter);
        registry.Register(typeof(ConnectionLimitConfig), EnvoyTypeCategory.NetworkFilter);
        registry.Register(typeof(NetworkLocalRateLimitConfig), EnvoyTypeCategory.NetworkFilter);
        registry.Register(typeof(DownstreamTlsContext), EnvoyTypeCategory.TransportSocket);
        registry.Register(typeof(UpstreamTlsContext), EnvoyTypeCategory.TransportSocket);
        // What file-based (and later gRPC) xDS responses carry.
        registry.Register(typeof(Secret), EnvoyTypeCategory.DiscoveryResource);
        registry.Register(typeof(Cluster), EnvoyTypeCategory.DiscoveryResource);
        registry.Register(typeof(Listener), EnvoyTypeCategory.DiscoveryResource);
        registry.Register(typeof(RouteConfiguration), EnvoyTypeCategory.DiscoveryResource);
        registry.Register(typeof(ClusterLoadAssignment), EnvoyTypeCategory.DiscoveryResource);
        registry.Register(typeof(RawBuffer), EnvoyTypeCategory.TransportSocket);
        registry.Register(typeof(TlsInspector), EnvoyTypeCategory.ListenerFilter);
        registry.Register(typeof(HttpProtocolOptions), EnvoyTypeCategory.Other);
        registry.Register<PreviousHostsPredicate>();
        registry.Register(typeof(FilterConfig), EnvoyTypeCategory.HttpFilterRouteConfig);
        registry.Register(typeof(ZipkinConfig), EnvoyTypeCategory.Tracer);
        registry.Register(typeof(UuidRequestIdConfig), EnvoyTypeCategory.RequestId);
        registry.Register(typeof(CustomHeaderConfig), EnvoyTypeCategory.OriginalIpDetection);
        registry.Register(typeof(XffConfig), EnvoyTypeCategory.OriginalIpDetection);
        registry.Register(typeof(UriTemplateMatchConfig), EnvoyTypeCategory.PathMatcher);
        registry.Register(typeof(UriTemplateRewriteConfig), EnvoyTypeCategory.PathRewriter);
        registry.AddHttpFilter(Router.RouterFilterFactory.Instance);
        registry.Register(typeof(FileAccessLog), EnvoyTypeCategory.AccessLogger);
        registry.Register(typeof(StdoutAccessLog), EnvoyTypeCategory.AccessLogger);
        registry.Register(typeof(StderrAccessLog), EnvoyTypeCategory.AccessLogger);
        // Substitution formatter extensions (log_format.formatters).
        registry.Register(typeof(ReqWithoutQuery), EnvoyTypeCategory.Formatter);
        registry.Register(typeof(MetadataFormatterConfig), EnvoyTypeCategory.Formatter);
        Tracing.TracerFactories.AddBuiltIns(registry);
        // Typed load-balancing policies (Cluster.load_balancing_policy).
        registry.Register(typeof(RoundRobinPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        registry.Register(typeof(LeastRequestPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        registry.Register(typeof(RandomPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        registry.Register(typeof(RingHashPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        registry.Register(typeof(MaglevPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        registry.Register(typeof(SubsetPolicy), EnvoyTypeCategory.LoadBalancingPolicy);
        return registry;
    }

    /// <summary>Registers a model class under its <see cref="EnvoyTypeAttribute.FullName"/>.</summary>
    public void Register<T>() where T : EnvoyMessage, new() => Register(typeof(T));

    /// <summary>Registers a model class under its <see cref="EnvoyTypeAttribute.FullName"/>.</summary>
    public void Register(Type type) => Register(type, EnvoyTypeCategory.Other);

    internal void Register(Type type, EnvoyTypeCategory category)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!typeof(EnvoyMessage).IsAssignableFrom(type) || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new ArgumentException($"{type} must derive from EnvoyMessage and have a public parameterless constructor.", nameof(type));
        }
        var attribute = type.GetCustomAttribute<EnvoyTypeAttribute>()
            ?? throw new ArgumentException($"{type} has no [EnvoyType] attribute.", nameof(type));
        _types[attribute.FullName] = type;
        _categories[(type, category)] = true;
    }

    /// <summary>
    /// Registers an HTTP filter: its factory (found by name or by the type of a configuration) and its configuration
    /// types. A second factory with the same name or the same configuration type is refused.
    /// </summary>
    public EnvoyTypeRegistry AddHttpFilter(IHttpFilterFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (_filters)
        {
            foreach (var known in _filters)
            {
                if (string.Equals(known.Name, factory.Name, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"An HTTP filter named '{factory.Name}' is already registered ({known.GetType()}).", nameof(factory));
                }
            }
            if (_filtersByConfig.ContainsKey(factory.ConfigType) || (factory.RouteConfigType is { } route && _filtersByRouteConfig.ContainsKey(route)))
            {
                throw new ArgumentException($"The configuration type of '{factory.Name}' already belongs to another HTTP filter.", nameof(factory));
            }
            Register(factory.ConfigType, EnvoyTypeCategory.HttpFilter);
            _filtersByConfig[factory.ConfigType] = factory;
            if (factory.RouteConfigType is { } routeConfig)
            {
                Register(routeConfig, EnvoyTypeCategory.HttpFilterRouteConfig);
                _filtersByRouteConfig[routeConfig] = factory;
            }
            _filters.Add(factory);
        }
        return this;
    }

    /// <summary>Registers a tracer: its factory (found by the type of a provider's <c>typed_config</c>) and that type.</summary>
    internal EnvoyTypeRegistry AddTracer(Tracing.ITracerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (_tracers)
        {
            if (!_tracers.TryAdd(factory.ConfigType, factory))
            {
                throw new ArgumentException($"The configuration type of tracer '{factory.Name}' already belongs to another tracer.", nameof(factory));
            }
            Register(factory.ConfigType, EnvoyTypeCategory.Tracer);
            foreach (var type in factory.ExtensionConfigTypes)
            {
                Register(type, EnvoyTypeCategory.Other);
            }
        }
        return this;
    }

    /// <summary>The tracer factory whose configuration type is <paramref name="configType"/>, or null.</summary>
    internal Tracing.ITracerFactory? FindTracer(Type configType)
    {
        lock (_tracers)
        {
            return _tracers.GetValueOrDefault(configType);
        }
    }

    /// <summary>The registered HTTP filter factories, in registration order.</summary>
    public IReadOnlyList<IHttpFilterFactory> HttpFilters
    {
        get
        {
            lock (_filters)
            {
                return _filters.ToArray();
            }
        }
    }

    /// <summary>The factory whose configuration type is <paramref name="configType"/>, or null.</summary>
    public IHttpFilterFactory? FindHttpFilter(Type configType)
    {
        lock (_filters)
        {
            return _filtersByConfig.GetValueOrDefault(configType);
        }
    }

    /// <summary>The factory named <paramref name="name"/> (how a filter without <c>typed_config</c> is found), or null.</summary>
    public IHttpFilterFactory? FindHttpFilterByName(string name)
    {
        lock (_filters)
        {
            foreach (var factory in _filters)
            {
                if (string.Equals(factory.Name, name, StringComparison.Ordinal))
                {
                    return factory;
                }
            }
            return null;
        }
    }

    /// <summary>The factory whose per-route configuration type is <paramref name="routeConfigType"/>, or null.</summary>
    public IHttpFilterFactory? FindHttpFilterByRouteConfig(Type routeConfigType)
    {
        lock (_filters)
        {
            return _filtersByRouteConfig.GetValueOrDefault(routeConfigType);
        }
    }

    /// <summary>Finds the class for a type URL; any host part before the last '/' is accepted, as protobuf does.</summary>
    public bool TryResolve(string typeUrl, out Type type)
    {
        var slash = typeUrl.LastIndexOf('/');
        var fullName = slash >= 0 ? typeUrl[(slash + 1)..] : typeUrl;
        return _types.TryGetValue(fullName, out type!);
    }

    /// <summary>Whether a registered type may stand where <paramref name="category"/> is expected.</summary>
    public bool IsOfCategory(Type type, EnvoyTypeCategory category) => _categories.ContainsKey((type, category));

    /// <summary>The registered full names, sorted.</summary>
    public IReadOnlyList<string> RegisteredNames => _types.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The registered full names of one category, sorted.</summary>
    public IReadOnlyList<string> RegisteredNamesOf(EnvoyTypeCategory category)
        => _types.Where(t => IsOfCategory(t.Value, category)).Select(t => t.Key).Order(StringComparer.Ordinal).ToArray();
}
