using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>
/// A compiled <c>envoy.type.matcher.v3.MetadataMatcher</c> (Envoy's Matchers::MetadataMatcher): the value at
/// <c>filter</c> and the key path (absent when a namespace or key is missing, or a step is not a struct) tested by the
/// value matcher, the result inverted with <c>invert</c>.
/// </summary>
internal sealed class MetadataPredicate
{
    private readonly string _filter;
    private readonly string[] _path;
    private readonly ValuePredicate _value;
    private readonly bool _invert;

    private MetadataPredicate(string filter, string[] path, ValuePredicate value, bool invert)
    {
        _filter = filter;
        _path = path;
        _value = value;
        _invert = invert;
    }

    /// <summary>Compiles a matcher that passed <c>MatcherValidator.ValidateMetadataMatcher</c>.</summary>
    public static MetadataPredicate FromConfig(MetadataMatcher matcher)
    {
        var path = new string[matcher.Path.Count];
        for (var i = 0; i < path.Length; i++)
        {
            path[i] = matcher.Path[i].Key!;
        }
        return new MetadataPredicate(matcher.Filter!, path, ValuePredicate.FromConfig(matcher.Value!), matcher.Invert);
    }

    /// <summary>Tests the stream's dynamic metadata (namespace → struct); null means none was set.</summary>
    public bool Matches(IReadOnlyDictionary<string, JsonObject>? metadata)
    {
        var present = Find(metadata, out var value);
        return _value.Matches(present, value) ^ _invert;
    }

    /// <summary>
    /// Envoy's access log MetadataFilter: when a value (of any kind, <c>null_value</c> included) is at the path, whether
    /// the value matcher matches it (<c>invert</c> is not applied, as there); otherwise <paramref name="whenAbsent"/>.
    /// </summary>
    public bool MatchesPresentOr(IReadOnlyDictionary<string, JsonObject>? metadata, bool whenAbsent)
        => Find(metadata, out var value) ? _value.Matches(true, value) : whenAbsent;

    private bool Find(IReadOnlyDictionary<string, JsonObject>? metadata, out JsonNode? value)
    {
        value = null;
        if (metadata is null || !metadata.TryGetValue(_filter, out var root))
        {
            return false;
        }
        JsonNode? current = root;
        foreach (var key in _path)
        {
            if (current is not JsonObject obj || !obj.TryGetPropertyValue(key, out current))
            {
                return false;
            }
        }
        value = current;
        return true;
    }

    /// <summary>Envoy's ValueMatcher family over a protobuf Value held as a JSON node (null node: <c>null_value</c>).</summary>
    private abstract class ValuePredicate
    {
        public abstract bool Matches(bool present, JsonNode? value);

        public static ValuePredicate FromConfig(ValueMatcher matcher)
        {
            if (matcher.NullMatch is not null)
            {
                return new NullPredicate();
            }
            if (matcher.DoubleMatch is { } number)
            {
                return number.Range is { } range ? new DoublePredicate(range.Start, range.End, null) : new DoublePredicate(0, 0, number.Exact);
            }
            if (matcher.StringMatch is { } text)
            {
                return new StringValuePredicate(StringPredicate.FromConfig(text));
            }
            if (matcher.BoolMatch is { } flag)
            {
                return new BoolPredicate(flag);
            }
            if (matcher.PresentMatch is { } presentMatch)
            {
                return new PresentPredicate(presentMatch);
            }
            if (matcher.ListMatch is { } list)
            {
                return new ListPredicate(FromConfig(list.OneOf!));
            }
            var any = new ValuePredicate[matcher.OrMatch!.ValueMatchers.Count];
            for (var i = 0; i < any.Length; i++)
            {
                any[i] = FromConfig(matcher.OrMatch.ValueMatchers[i]);
            }
            return new OrPredicate(any);
        }

        protected static JsonValueKind KindOf(JsonNode? value) => value is null ? JsonValueKind.Null : value.GetValueKind();
    }

    private sealed class NullPredicate : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value) => present && value is null;
    }

    private sealed class DoublePredicate(double start, double end, double? exact) : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value)
        {
            if (!present || KindOf(value) != JsonValueKind.Number)
            {
                return false;
            }
            var json = value!.AsValue();
            var number = json.TryGetValue(out double d) ? d : double.Parse(json.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
            return exact is { } equal ? number == equal : start <= number && number < end;
        }
    }

    private sealed class StringValuePredicate(StringPredicate predicate) : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value)
            => present && KindOf(value) == JsonValueKind.String && predicate.Matches(value!.GetValue<string>());
    }

    private sealed class BoolPredicate(bool expected) : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value)
            => present && KindOf(value) is JsonValueKind.True or JsonValueKind.False && value!.GetValue<bool>() == expected;
    }

    private sealed class PresentPredicate(bool expected) : ValuePredicate
    {
        // Envoy's PresentMatcher: present_match false matches nothing.
        public override bool Matches(bool present, JsonNode? value) => expected && present;
    }

    private sealed class ListPredicate(ValuePredicate element) : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value)
        {
            if (!present || value is not JsonArray array)
            {
                return false;
            }
            foreach (var item in array)
            {
                if (element.Matches(true, item))
                {
                    return true;
                }
            }
            return false;
        }
    }

    private sealed class OrPredicate(ValuePredicate[] any) : ValuePredicate
    {
        public override bool Matches(bool present, JsonNode? value)
        {
            foreach (var predicate in any)
            {
                if (predicate.Matches(present, value))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
