using System.Text.Json.Nodes;
using Gateway.Configuration;

namespace Gateway.Filters.SetMetadata;

/// <summary><c>envoy.extensions.filters.http.set_metadata.v3.Metadata</c>: one namespace's value.</summary>
[EnvoyType("envoy.extensions.filters.http.set_metadata.v3.Metadata", NotSupported = ["typed_value"])]
public sealed class Metadata : EnvoyMessage
{
    /// <summary>The dynamic metadata namespace (required).</summary>
    [ProtoField(1)]
    public string? MetadataNamespace { get; set; }

    /// <summary>Merge into a namespace that already exists (otherwise it is left alone and <c>overwrite_denied</c> counts).</summary>
    [ProtoField(2)]
    public bool AllowOverwrite { get; set; }

    /// <summary>The value (a <c>google.protobuf.Struct</c>).</summary>
    [ProtoField(3)]
    public JsonObject? Value { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.set_metadata.v3.Config</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.set_metadata.v3.Config")]
public sealed class SetMetadataConfig : EnvoyMessage
{
    /// <summary>Deprecated: the namespace of <see cref="Value"/> (merged, as with <c>allow_overwrite</c>).</summary>
    [ProtoField(1)]
    public string? MetadataNamespace { get; set; }

    /// <summary>Deprecated: the value for <see cref="MetadataNamespace"/>.</summary>
    [ProtoField(2)]
    public JsonObject? Value { get; set; }

    /// <summary>The namespaces to set, in order.</summary>
    [ProtoField(3)]
    public List<Metadata> Metadata { get; set; } = [];
}
