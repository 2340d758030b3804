using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Stats;

namespace Gateway.Filters.SetMetadata;

/// <summary>
/// <c>envoy.filters.http.set_metadata</c>: static values into the request's dynamic metadata, on the request headers.
/// A namespace that does not exist yet is set; an existing one is merged into (scalars replaced, lists appended,
/// structs merged recursively) with <c>allow_overwrite</c> or through the deprecated fields, else left alone and
/// <c>set_metadata.overwrite_denied</c> counts. Untyped values only.
/// </summary>
public sealed class SetMetadataFilterFactory : HttpFilterFactory<SetMetadataConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.set_metadata";

    /// <inheritdoc />
    protected override void Validate(SetMetadataConfig config, HttpFilterValidationContext context)
    {
        foreach (var entry in config.Metadata)
        {
            if (string.IsNullOrEmpty(entry.MetadataNamespace))
            {
                context.Error(entry.HasField("metadata_namespace") ? entry.LocationOf("metadata_namespace") : entry.Location, "'metadata_namespace' must be at least 1 character");
            }
        }
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(SetMetadataConfig config, HttpFilterFactoryContext context)
    {
        var entries = new List<Entry>();
        if (!string.IsNullOrEmpty(config.MetadataNamespace))
        {
            // The deprecated pair always merges (Envoy makes it an untyped entry with allow_overwrite).
            entries.Add(new Entry(config.MetadataNamespace, config.Value ?? [], AllowOverwrite: true));
        }
        foreach (var entry in config.Metadata)
        {
            // An entry without a value sets nothing (Envoy logs it and skips it).
            if (entry.Value is { } value)
            {
                entries.Add(new Entry(entry.MetadataNamespace!, value, entry.AllowOverwrite));
            }
        }
        return new SetMetadataFilter([.. entries], context.Stats.Counter("set_metadata.overwrite_denied"));
    }

    private sealed record Entry(string Namespace, JsonObject Value, bool AllowOverwrite);

    private sealed class SetMetadataFilter(Entry[] entries, Counter overwriteDenied) : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            var info = context.StreamInfo;
            foreach (var entry in entries)
            {
                if (info.FindDynamicMetadata(entry.Namespace) is not { } existing)
                {
                    var target = info.DynamicMetadata(entry.Namespace);
                    foreach (var (key, value) in entry.Value)
                    {
                        target[key] = value?.DeepClone();
                    }
                }
                else if (entry.AllowOverwrite)
                {
                    StructMerge.Update(existing, entry.Value);
                }
                else
                {
                    overwriteDenied.Increment();
                }
            }
            return new(FilterStatus.Continue);
        }
    }
}

/// <summary>Envoy's <c>StructUtil::update</c>: merges a struct into another (the filter's copy is never shared).</summary>
internal static class StructMerge
{
    public static void Update(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source)
        {
            if (target.TryGetPropertyValue(key, out var existing) && existing is not null && value is not null && Kind(existing) == Kind(value))
            {
                if (existing is JsonObject targetStruct)
                {
                    Update(targetStruct, (JsonObject)value);
                    continue;
                }
                if (existing is JsonArray targetList)
                {
                    foreach (var item in (JsonArray)value)
                    {
                        targetList.Add(item?.DeepClone());
                    }
                    continue;
                }
            }
            // A new key, another kind, or a scalar: the new value replaces the old.
            target[key] = value?.DeepClone();
        }
    }

    private static JsonValueKind Kind(JsonNode node) => node switch
    {
        JsonObject => JsonValueKind.Object,
        JsonArray => JsonValueKind.Array,
        _ => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : node.GetValueKind(),
    };
}
