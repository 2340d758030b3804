using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// A key of the subset load balancer's maps (a sorted set of name=value pairs, or a sorted set of names) in one
/// canonical text, with its hash computed once, so a per-request lookup hashes nothing.
/// </summary>
internal sealed class SubsetKey : IEquatable<SubsetKey>
{
    private readonly int _hash;

    private SubsetKey(string text)
    {
        Text = text;
        _hash = StringComparer.Ordinal.GetHashCode(text);
    }

    /// <summary>The canonical text (length-prefixed parts, so no two sets share one).</summary>
    public string Text { get; }

    /// <summary>The key of name=value pairs sorted by name.</summary>
    public static SubsetKey ForValues(IReadOnlyList<SubsetCriterion> sorted)
    {
        var text = new StringBuilder();
        foreach (var criterion in sorted)
        {
            SubsetValue.AppendString(text, criterion.Name);
            SubsetValue.AppendString(text, criterion.Value);
        }
        return new SubsetKey(text.ToString());
    }

    /// <summary>The key of a set of names, sorted.</summary>
    public static SubsetKey ForNames(IEnumerable<string> sortedNames)
    {
        var text = new StringBuilder();
        foreach (var name in sortedNames)
        {
            SubsetValue.AppendString(text, name);
        }
        return new SubsetKey(text.ToString());
    }

    public bool Equals(SubsetKey? other)
        => other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && string.Equals(Text, other.Text, StringComparison.Ordinal)));

    public override bool Equals(object? obj) => Equals(obj as SubsetKey);

    public override int GetHashCode() => _hash;

    public override string ToString() => Text;
}

/// <summary>
/// One <c>name = value</c> of match criteria or of a host's <c>envoy.lb</c> metadata. <see cref="Value"/> is the
/// value's canonical text (<see cref="SubsetValue.Canonical"/>), equal exactly when protobuf's Value equality
/// (Envoy's HashedValue) holds; <see cref="Element"/> is the value itself.
/// </summary>
internal readonly record struct SubsetCriterion(string Name, string Value, JsonElement Element);

/// <summary>Canonical text of a <c>google.protobuf.Value</c> as Envoy compares them (numbers as doubles, struct keys unordered).</summary>
internal static class SubsetValue
{
    /// <summary>The canonical text of <paramref name="value"/>.</summary>
    public static string Canonical(JsonElement value)
    {
        var text = new StringBuilder();
        Append(text, value);
        return text.ToString();
    }

    /// <summary>Envoy's ValueUtil::equal on canonical texts, with <c>list_as_any</c>: a list host value matches when one element does.</summary>
    public static bool Matches(JsonElement hostValue, string wanted, bool listAsAny)
    {
        if (listAsAny && hostValue.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in hostValue.EnumerateArray())
            {
                if (string.Equals(Canonical(item), wanted, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }
        return string.Equals(Canonical(hostValue), wanted, StringComparison.Ordinal);
    }

    internal static void AppendString(StringBuilder text, string value)
        => text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);

    private static void Append(StringBuilder text, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                text.Append('n');
                break;
            case JsonValueKind.True:
                text.Append('t');
                break;
            case JsonValueKind.False:
                text.Append('f');
                break;
            case JsonValueKind.Number:
                // A protobuf Value holds a double: 1 and 1.0 are the same value.
                text.Append('d');
                if (value.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    AppendString(text, number == 0 ? "0" : number.ToString("R", CultureInfo.InvariantCulture));
                }
                else
                {
                    AppendString(text, value.GetRawText());
                }
                break;
            case JsonValueKind.String:
                text.Append('s');
                AppendString(text, value.GetString()!);
                break;
            case JsonValueKind.Array:
                text.Append('l').Append(value.GetArrayLength().ToString(CultureInfo.InvariantCulture)).Append('[');
                foreach (var item in value.EnumerateArray())
                {
                    Append(text, item);
                }
                text.Append(']');
                break;
            case JsonValueKind.Object:
                var properties = new List<JsonProperty>();
                foreach (var property in value.EnumerateObject())
                {
                    properties.Add(property);
                }
                properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                text.Append('o').Append(properties.Count.ToString(CultureInfo.InvariantCulture)).Append('{');
                foreach (var property in properties)
                {
                    AppendString(text, property.Name);
                    Append(text, property.Value);
                }
                text.Append('}');
                break;
        }
    }
}

/// <summary>
/// Envoy's Router::MetadataMatchCriteria: the <c>envoy.lb</c> fields of a route's (or weighted cluster entry's, or the
/// request's dynamic) <c>metadata_match</c>, sorted by name, compiled once with the keys the subset load balancer
/// looks them up by (source/common/router/metadatamatchcriteria_impl.cc). Never empty: no fields is no criteria (null),
/// which the subset load balancer treats alike.
/// </summary>
internal sealed class SubsetCriteria
{
    /// <summary>The metadata namespace the load balancer reads (Envoy's MetadataFilters ENVOY_LB).</summary>
    public const string EnvoyLbNamespace = "envoy.lb";

    /// <summary>The key of the criteria variants for <c>metadata_fallback_policy: FALLBACK_LIST</c>.</summary>
    public const string FallbackListKey = "fallback_list";

    private readonly Lock _lock = new();
    private (object Names, SubsetCriteria? Filtered)[] _filtered = [];
    private FallbackVariants? _fallbacks;

    private SubsetCriteria(SubsetCriterion[] sorted)
    {
        Criteria = sorted;
        Key = SubsetKey.ForValues(sorted);
        var names = new string[sorted.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = sorted[i].Name;
        }
        Names = SubsetKey.ForNames(names);
    }

    /// <summary>The criteria, sorted by name (ordinal).</summary>
    public IReadOnlyList<SubsetCriterion> Criteria { get; }

    /// <summary>The subset these criteria select.</summary>
    public SubsetKey Key { get; }

    /// <summary>The names alone (what a selector's fallback is found by).</summary>
    public SubsetKey Names { get; }

    /// <summary>The criteria of a <c>metadata_match</c>'s <c>envoy.lb</c> namespace; null when it has none or it is empty.</summary>
    public static SubsetCriteria? From(EnvoyMetadata? metadata)
        => metadata is not null && metadata.TryGetNamespace(EnvoyLbNamespace, out var fields) ? Merge(null, fields) : null;

    /// <summary>
    /// Envoy's mergeMatchCriteria: <paramref name="parent"/>'s criteria with <paramref name="fields"/> (a struct) over
    /// them, a field of the same name replacing the parent's. Null when the result has no criteria.
    /// </summary>
    public static SubsetCriteria? Merge(SubsetCriteria? parent, JsonElement fields)
    {
        var merged = new List<SubsetCriterion>(parent?.Criteria ?? []);
        if (fields.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in fields.EnumerateObject())
            {
                var criterion = new SubsetCriterion(field.Name, SubsetValue.Canonical(field.Value), field.Value.Clone());
                var index = merged.FindIndex(c => string.Equals(c.Name, field.Name, StringComparison.Ordinal));
                if (index >= 0)
                {
                    merged[index] = criterion;
                }
                else
                {
                    merged.Add(criterion);
                }
            }
        }
        if (merged.Count == 0)
        {
            return null;
        }
        merged.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new SubsetCriteria([.. merged]);
    }

    /// <summary><see cref="Merge(SubsetCriteria?, JsonElement)"/> for a struct held as a JSON node (a request's dynamic metadata).</summary>
    public static SubsetCriteria? Merge(SubsetCriteria? parent, System.Text.Json.Nodes.JsonObject fields)
    {
        using var document = JsonDocument.Parse(fields.ToJsonString(), new JsonDocumentOptions { MaxDepth = 256 });
        return Merge(parent, document.RootElement);
    }

    /// <summary>
    /// Envoy's filterMatchCriteria: only the criteria named in <paramref name="names"/> (a sorted set; one instance per
    /// selector, which caches the result per criteria object); null when none is left.
    /// </summary>
    public SubsetCriteria? Filter(IReadOnlyList<string> names)
    {
        var cache = Volatile.Read(ref _filtered);
        foreach (var (cachedNames, filtered) in cache)
        {
            if (ReferenceEquals(cachedNames, names))
            {
                return filtered;
            }
        }
        var kept = new List<SubsetCriterion>();
        foreach (var criterion in Criteria)
        {
            if (Contains(names, criterion.Name))
            {
                kept.Add(criterion);
            }
        }
        var result = kept.Count == 0 ? null : kept.Count == Criteria.Count ? this : new SubsetCriteria([.. kept]);
        lock (_lock)
        {
            Volatile.Write(ref _filtered, [.. _filtered, (names, result)]);
        }
        return result;
    }

    /// <summary>
    /// For FALLBACK_LIST: null when the criteria have no <c>fallback_list</c>; else the criteria without it
    /// (<see cref="FallbackVariants.Rest"/>) and, per element of its list, those criteria with the element's fields
    /// merged over them (an element that is not a struct merges nothing; a value that is not a list has no elements).
    /// Computed once per criteria object.
    /// </summary>
    public FallbackVariants? Fallbacks
    {
        get
        {
            if (Volatile.Read(ref _fallbacks) is { } known)
            {
                return known.HasList ? known : null;
            }
            var computed = ComputeFallbacks();
            Volatile.Write(ref _fallbacks, computed);
            return computed.HasList ? computed : null;
        }
    }

    private FallbackVariants ComputeFallbacks()
    {
        JsonElement? list = null;
        var rest = new List<SubsetCriterion>(Criteria.Count);
        foreach (var criterion in Criteria)
        {
            if (string.Equals(criterion.Name, FallbackListKey, StringComparison.Ordinal))
            {
                list = criterion.Element;
            }
            else
            {
                rest.Add(criterion);
            }
        }
        if (list is not { } value)
        {
            return new FallbackVariants(false, this, []);
        }
        var restCriteria = rest.Count == 0 ? null : new SubsetCriteria([.. rest]);
        var variants = new List<SubsetCriteria?>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                variants.Add(Merge(restCriteria, item));
            }
        }
        return new FallbackVariants(true, restCriteria, [.. variants]);
    }

    private static bool Contains(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() => Key.Text;
}

/// <summary>The FALLBACK_LIST forms of criteria: the rest without <c>fallback_list</c>, and the variants to try in order.</summary>
internal sealed record FallbackVariants(bool HasList, SubsetCriteria? Rest, SubsetCriteria?[] Variants);
