namespace Gateway.Configuration;

/// <summary>
/// Base of every Envoy v3 message in the typed model. Remembers where it and each of its fields
/// were read, so that validation errors can name the exact path, line and column.
/// </summary>
public abstract class EnvoyMessage
{
    // A short list, not a dictionary: messages have few fields set, and big configs have many messages.
    private List<KeyValuePair<string, SourceLocation>>? _fieldLocations;

    // Fields the binder reported an error for (rare, so a list allocated on the first one).
    private List<string>? _bindingErrors;

    /// <summary>Where this message was read.</summary>
    public SourceLocation Location { get; internal set; } = SourceLocation.None;

    /// <summary>A copy sharing every field's value (the configuration manager puts EDS's endpoints on copies of clusters).</summary>
    internal EnvoyMessage ShallowCopy() => (EnvoyMessage)MemberwiseClone();

    /// <summary>The location of one of this message's fields (by its snake_case name), or the message's own location with the field appended.</summary>
    public SourceLocation LocationOf(string field)
        => FindField(field) is { } index ? _fieldLocations![index].Value : Location.Child(field);

    /// <summary>True when the field was present in the configuration (as opposed to defaulted).</summary>
    public bool HasField(string field) => FindField(field) is not null;

    /// <summary>
    /// True when binding reported an error for this field: its value was refused (wrong type, bad duration or
    /// enum, a list element that did not bind), or its key was refused (not supported, or a misspelling of it).
    /// Validation runs over the partially bound model and skips such fields, so one mistake gives one error.
    /// </summary>
    internal bool HasBindingError(string field)
    {
        if (_bindingErrors is null)
        {
            return false;
        }
        foreach (var failed in _bindingErrors)
        {
            if (string.Equals(failed, field, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when binding reported an error for any field of this message (not of the messages under it).</summary>
    internal bool HasBindingErrors => _bindingErrors is not null;

    internal void SetBindingError(string field)
    {
        if (!HasBindingError(field))
        {
            (_bindingErrors ??= new List<string>(1)).Add(field);
        }
    }

    internal void SetFieldLocation(string field, SourceLocation location)
    {
        _fieldLocations ??= new List<KeyValuePair<string, SourceLocation>>(4);
        if (FindField(field) is { } index)
        {
            _fieldLocations[index] = new(field, location);
        }
        else
        {
            _fieldLocations.Add(new(field, location));
        }
    }

    private int? FindField(string field)
    {
        if (_fieldLocations is null)
        {
            return null;
        }
        for (var i = 0; i < _fieldLocations.Count; i++)
        {
            if (string.Equals(_fieldLocations[i].Key, field, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return null;
    }
}

/// <summary>Names the Envoy protobuf message a model class stands for, and the fields of it this gateway knows but does not implement yet.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EnvoyTypeAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="fullName">The protobuf full name, e.g. <c>envoy.config.cluster.v3.Cluster</c>.</param>
    public EnvoyTypeAttribute(string fullName) => FullName = fullName;

    /// <summary>The protobuf full name.</summary>
    public string FullName { get; }

    /// <summary>Envoy fields of this message that are recognised but rejected as not supported yet.</summary>
    public string[] NotSupported { get; init; } = [];
}

/// <summary>
/// The protobuf field number of a model property (and whether it is in a one-of), so that <c>/config_dump</c> prints
/// the field where protobuf's JSON printer would. Models of extensions (filters in other assemblies) declare it here.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ProtoFieldAttribute(int number) : Attribute
{
    /// <summary>The field number in the message's <c>.proto</c>.</summary>
    public int Number { get; } = number;

    /// <summary>True for a member of a one-of (printed whenever set, even to its default).</summary>
    public bool InOneOf { get; init; }
}

/// <summary>A protobuf <c>bytes</c> field: base64 text in the model (as protobuf's JSON and Envoy's YAML write it).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ProtoBytesAttribute : Attribute;

/// <summary>
/// A field Envoy annotates <c>udpa.annotations.sensitive</c> (a private key): <c>/config_dump</c> prints every string in
/// it as <c>[redacted]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ProtoSensitiveAttribute : Attribute;

/// <summary>
/// Marks an enum whose protobuf value names are its member names as written (<c>envoy.type.v3.StatusCode</c>'s
/// <c>TooManyRequests</c>), instead of the UPPER_SNAKE_CASE derived from them.
/// </summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class ProtoEnumNamesVerbatimAttribute : Attribute;

/// <summary>Overrides the snake_case field name derived from a property name.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class EnvoyFieldAttribute(string name) : Attribute
{
    /// <summary>The field name as written in Envoy YAML.</summary>
    public string Name { get; } = name;
}

/// <summary>
/// Marks a property of type <see cref="EnvoyMessage"/> (or a <c>Dictionary&lt;string, EnvoyMessage&gt;</c>, a
/// <c>map&lt;string, google.protobuf.Any&gt;</c>) as a <c>google.protobuf.Any</c>: its concrete type comes from <c>@type</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AnyFieldAttribute : Attribute
{
    /// <summary>Any registered type.</summary>
    public AnyFieldAttribute()
    {
    }

    /// <summary>Only types registered for <paramref name="category"/> (an HTTP filter's configuration, or its per-route configuration).</summary>
    public AnyFieldAttribute(EnvoyTypeCategory category) => Category = category;

    /// <summary>The kind of type the field holds.</summary>
    public EnvoyTypeCategory Category { get; }
}

/// <summary>The kinds of extension configuration a <c>google.protobuf.Any</c> field may hold.</summary>
public enum EnvoyTypeCategory
{
    /// <summary>Any other extension (retry host predicates ...).</summary>
    Other,

    /// <summary>A network filter's configuration (<c>filter_chains[].filters[].typed_config</c>).</summary>
    NetworkFilter,

    /// <summary>An HTTP filter's configuration (<c>http_filters[].typed_config</c>).</summary>
    HttpFilter,

    /// <summary>An HTTP filter's per-route configuration (<c>typed_per_filter_config</c>), or <c>envoy.config.route.v3.FilterConfig</c>.</summary>
    HttpFilterRouteConfig,

    /// <summary>A tracer provider's configuration (<c>tracing.provider.typed_config</c>).</summary>
    Tracer,

    /// <summary>An access logger's configuration (<c>access_log[].typed_config</c>).</summary>
    AccessLogger,

    /// <summary>A substitution formatter extension (<c>log_format.formatters[].typed_config</c>).</summary>
    Formatter,

    /// <summary>A request id extension's configuration (<c>request_id_extension.typed_config</c>).</summary>
    RequestId,

    /// <summary>An original IP detection extension's configuration (<c>original_ip_detection_extensions[].typed_config</c>).</summary>
    OriginalIpDetection,

    /// <summary>A load-balancing policy (<c>load_balancing_policy.policies[].typed_extension_config.typed_config</c>); an unknown type is skipped.</summary>
    LoadBalancingPolicy,

    /// <summary>A route's path matcher (<c>match.path_match_policy.typed_config</c>).</summary>
    PathMatcher,

    /// <summary>A route's path rewriter (<c>route.path_rewrite_policy.typed_config</c>).</summary>
    PathRewriter,

    /// <summary>A transport socket's configuration (<c>filter_chains[].transport_socket.typed_config</c>).</summary>
    TransportSocket,

    /// <summary>A listener filter's configuration (<c>listener_filters[].typed_config</c>).</summary>
    ListenerFilter,

    /// <summary>A resource delivered by discovery (a file-based SDS <c>DiscoveryResponse</c>'s <c>resources</c>).</summary>
    DiscoveryResource,
}

/// <summary>
/// A <c>google.protobuf.Any</c> without a type: <c>FilterConfig.config: {}</c>, which enables a filter on a route
/// without configuring it (Envoy's PerFilterConfigs).
/// </summary>
[EnvoyType("google.protobuf.Any")]
public sealed class EmptyAny : EnvoyMessage;
