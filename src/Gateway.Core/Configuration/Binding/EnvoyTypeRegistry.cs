using System.Collections.Concurrent;
using System.Reflection;

namespace Gateway.Configuration;

/// <summary>
/// Maps <c>@type</c> URLs (<c>type.googleapis.com/&lt;full name&gt;</c>) to model classes, so that
/// <c>typed_config</c> is read into the right type. Extensions (custom filters) register theirs here.
/// </summary>
public sealed class EnvoyTypeRegistry
{
    /// <summary>The prefix every Envoy type URL carries.</summary>
    public const string TypeUrlPrefix = "type.googleapis.com/";

    private readonly ConcurrentDictionary<string, Type> _types = new(StringComparer.Ordinal);

    /// <summary>A registry holding the types this gateway implements.</summary>
    public static EnvoyTypeRegistry CreateDefault()
    {
        var registry = new EnvoyTypeRegistry();
        registry.Register<HttpConnectionManager>();
        registry.Register<RouterFilterConfig>();
        registry.Register<PreviousHostsPredicate>();
        return registry;
    }

    /// <summary>Registers a model class under its <see cref="EnvoyTypeAttribute.FullName"/>.</summary>
    public void Register<T>() where T : EnvoyMessage, new() => Register(typeof(T));

    /// <summary>Registers a model class under its <see cref="EnvoyTypeAttribute.FullName"/>.</summary>
    public void Register(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!typeof(EnvoyMessage).IsAssignableFrom(type) || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new ArgumentException($"{type} must derive from EnvoyMessage and have a public parameterless constructor.", nameof(type));
        }
        var attribute = type.GetCustomAttribute<EnvoyTypeAttribute>()
            ?? throw new ArgumentException($"{type} has no [EnvoyType] attribute.", nameof(type));
        _types[attribute.FullName] = type;
    }

    /// <summary>Finds the class for a type URL; any host part before the last '/' is accepted, as protobuf does.</summary>
    public bool TryResolve(string typeUrl, out Type type)
    {
        var slash = typeUrl.LastIndexOf('/');
        var fullName = slash >= 0 ? typeUrl[(slash + 1)..] : typeUrl;
        return _types.TryGetValue(fullName, out type!);
    }

    /// <summary>The registered full names, sorted.</summary>
    public IReadOnlyList<string> RegisteredNames => _types.Keys.Order(StringComparer.Ordinal).ToArray();
}
