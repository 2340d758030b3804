using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.Metadata</c>: per-filter namespaces of <c>google.protobuf.Struct</c>s. One model
/// for every place Envoy has it (node, cluster, endpoint, route configuration, virtual host, route);
/// the runtime reads the frozen <see cref="EnvoyMetadata"/> made from it, never this mutable form.
/// </summary>
[EnvoyType("envoy.config.core.v3.Metadata", NotSupported = ["typed_filter_metadata"])]
public sealed class Metadata : EnvoyMessage
{
    /// <summary>Namespace (by convention a filter name) → a JSON object.</summary>
    public Dictionary<string, JsonObject> FilterMetadata { get; set; } = new(StringComparer.Ordinal);
}
