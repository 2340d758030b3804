namespace Gateway.Configuration;

/// <summary><c>envoy.type.metadata.v3.MetadataKey</c>: a namespace (<see cref="Key"/>) and a path of struct keys in it.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKey")]
public sealed class MetadataKey : EnvoyMessage
{
    /// <summary>The metadata namespace, e.g. <c>envoy.lb</c> (required).</summary>
    [ProtoField(1)]
    public string? Key { get; set; }

    /// <summary>The keys leading to the value inside the namespace (at least one).</summary>
    [ProtoField(2)]
    public List<MetadataPathSegment> Path { get; set; } = [];
}

/// <summary><c>envoy.type.metadata.v3.MetadataKey.PathSegment</c>.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKey.PathSegment")]
public sealed class MetadataPathSegment : EnvoyMessage
{
    /// <summary>A struct key (required).</summary>
    [ProtoField(1)]
    public string? Key { get; set; }
}

/// <summary><c>envoy.type.metadata.v3.MetadataKind</c>: which metadata a key is read from (exactly one member).</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKind")]
public sealed class MetadataKind : EnvoyMessage
{
    /// <summary>The request's dynamic metadata.</summary>
    [ProtoField(1)]
    public MetadataKindRequest? Request { get; set; }

    /// <summary>The route's metadata.</summary>
    [ProtoField(2)]
    public MetadataKindRoute? Route { get; set; }

    /// <summary>The upstream cluster's metadata.</summary>
    [ProtoField(3)]
    public MetadataKindCluster? Cluster { get; set; }

    /// <summary>The upstream host's metadata.</summary>
    [ProtoField(4)]
    public MetadataKindHost? Host { get; set; }
}

/// <summary><c>envoy.type.metadata.v3.MetadataKind.Request</c>.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKind.Request")]
public sealed class MetadataKindRequest : EnvoyMessage;

/// <summary><c>envoy.type.metadata.v3.MetadataKind.Route</c>.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKind.Route")]
public sealed class MetadataKindRoute : EnvoyMessage;

/// <summary><c>envoy.type.metadata.v3.MetadataKind.Cluster</c>.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKind.Cluster")]
public sealed class MetadataKindCluster : EnvoyMessage;

/// <summary><c>envoy.type.metadata.v3.MetadataKind.Host</c>.</summary>
[EnvoyType("envoy.type.metadata.v3.MetadataKind.Host")]
public sealed class MetadataKindHost : EnvoyMessage;
