using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gateway.Configuration;

/// <summary>
/// The <c>filter_metadata</c> of an Envoy <c>metadata</c> field (<c>envoy.config.core.v3.Metadata</c>) as the
/// running gateway holds it for a route, a virtual host, a route configuration, a cluster or an upstream
/// host: namespace (by convention a filter name, e.g. <c>envoy.lb</c>) → a JSON object (a
/// <c>google.protobuf.Struct</c>). Immutable: made once when a configuration is applied, from a copy of the
/// configuration model, so a filter can keep a reference across requests and nothing it does changes
/// the configuration (or is changed by a later one).
/// </summary>
[JsonConverter(typeof(EnvoyMetadataJsonConverter))]
public sealed class EnvoyMetadata : IEquatable<EnvoyMetadata>
{
    /// <summary>The deepest JSON accepted: more than a configuration can nest (100 levels, the loader's bound).</summary>
    private const int MaxDepth = 256;

    private readonly string _json;

    private EnvoyMetadata(FrozenDictionary<string, JsonElement> filterMetadata, string json)
    {
        FilterMetadata = filterMetadata;
        _json = json;
    }

    /// <summary>No metadata (what an object without a <c>metadata</c> field has).</summary>
    public static EnvoyMetadata Empty { get; } = new(FrozenDictionary<string, JsonElement>.Empty, "{}");

    /// <summary>Namespace → its JSON object (<see cref="JsonValueKind.Object"/>); keys compare ordinally.</summary>
    public IReadOnlyDictionary<string, JsonElement> FilterMetadata { get; }

    /// <summary>True when there is no namespace.</summary>
    public bool IsEmpty => FilterMetadata.Count == 0;

    /// <summary>The JSON object of <paramref name="filterNamespace"/>, if there is one.</summary>
    public bool TryGetNamespace(string filterNamespace, out JsonElement value) => FilterMetadata.TryGetValue(filterNamespace, out value);

    /// <summary>The value of <paramref name="key"/> in <paramref name="filterNamespace"/> (Envoy's <c>Metadata::metadataValue</c> for a one-key path).</summary>
    public bool TryGetValue(string filterNamespace, string key, out JsonElement value)
    {
        if (FilterMetadata.TryGetValue(filterNamespace, out var ns) && ns.TryGetProperty(key, out value))
        {
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>
    /// Metadata from namespaces of JSON objects, deep-copied (later changes to <paramref name="filterMetadata"/>
    /// do not show). A value must be JSON a <c>google.protobuf.Struct</c> can hold.
    /// </summary>
    public static EnvoyMetadata Create(IEnumerable<KeyValuePair<string, JsonObject>> filterMetadata)
    {
        ArgumentNullException.ThrowIfNull(filterMetadata);
        var namespaces = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (name, value) in filterMetadata)
        {
            ArgumentNullException.ThrowIfNull(value);
            namespaces[name] = value;
        }
        if (namespaces.Count == 0)
        {
            return Empty;
        }

        // One canonical text (keys sorted at every level, as protobuf's JSON printer sorts map and Struct
        // keys) is both the frozen copy's source and what equality compares.
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in namespaces)
            {
                writer.WritePropertyName(name);
                WriteSorted(writer, value);
            }
            writer.WriteEndObject();
        }
        JsonElement root;
        // The loader bounds nesting (ConfigTreeReader.MaxDepth); JsonDocument's default of 64 is lower.
        using (var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth }))
        {
            root = document.RootElement.Clone();
        }
        var map = new Dictionary<string, JsonElement>(namespaces.Count, StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            map[property.Name] = property.Value;
        }
        return new EnvoyMetadata(map.ToFrozenDictionary(StringComparer.Ordinal), Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>The frozen form of a configured <c>metadata</c> field; null when the field is absent.</summary>
    internal static EnvoyMetadata? From(Metadata? metadata) => metadata is null ? null : Create(metadata.FilterMetadata);

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                var keys = new List<string>(obj.Count);
                foreach (var (key, _) in obj)
                {
                    keys.Add(key);
                }
                keys.Sort(StringComparer.Ordinal);
                writer.WriteStartObject();
                foreach (var key in keys)
                {
                    writer.WritePropertyName(key);
                    WriteSorted(writer, obj[key]);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteSorted(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    /// <summary>The metadata as one JSON object, namespaces and keys sorted.</summary>
    public string ToJsonString() => _json;

    /// <inheritdoc />
    public override string ToString() => _json;

    /// <summary>Equal when the same namespaces hold the same JSON.</summary>
    public bool Equals(EnvoyMetadata? other) => other is not null && string.Equals(_json, other._json, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EnvoyMetadata);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_json);
}

/// <summary>Writes <see cref="EnvoyMetadata"/> as its JSON object (translation goldens, diagnostics); reading is not supported.</summary>
internal sealed class EnvoyMetadataJsonConverter : JsonConverter<EnvoyMetadata>
{
    public override EnvoyMetadata Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => throw new NotSupportedException("EnvoyMetadata is made from configuration, not read from JSON.");

    public override void Write(Utf8JsonWriter writer, EnvoyMetadata value, JsonSerializerOptions options)
        => writer.WriteRawValue(value.ToJsonString(), skipInputValidation: true);
}
