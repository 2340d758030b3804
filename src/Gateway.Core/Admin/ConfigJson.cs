using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using Gateway.Configuration;

namespace Gateway.Admin;

/// <summary>
/// Renders the configuration model back to protobuf JSON (snake_case names, as Envoy's admin API
/// prints them), driven by the same reflection schema the binder reads with (<see cref="MessageSchema"/>):
/// durations as <c>"5s"</c>, enums by name, 64-bit integers quoted, <c>Any</c> fields with their
/// <c>@type</c>, fields in field-number order. Unset fields are left out as protobuf leaves them out:
/// a scalar at its default value, an empty list, an absent message or wrapper; a one-of member is
/// printed whenever it was set.
/// </summary>
internal static class ConfigJson
{
    /// <summary>The message as a protobuf JSON object (an <c>Any</c> with <c>@type</c> when <paramref name="asAny"/>).</summary>
    /// <param name="message">The message.</param>
    /// <param name="asAny">Print it as an <c>Any</c>.</param>
    /// <param name="redact">Inside a field Envoy marks sensitive (<c>udpa.annotations.sensitive</c>): every string is <c>[redacted]</c>, as Envoy's MessageUtil::redact prints it.</param>
    public static ProtoObject Message(EnvoyMessage message, bool asAny = false, bool redact = false)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is EmptyAny)
        {
            // FilterConfig.config: {} (an Any without a type).
            return new ProtoObject();
        }
        var schema = MessageSchema.For(message.GetType());
        var result = asAny ? ProtoObject.Any(schema.FullName) : new ProtoObject();
        var fields = new List<(int Number, int Order, string Name, ProtoJson Value)>(schema.Fields.Count);
        for (var order = 0; order < schema.Fields.Count; order++)
        {
            var field = schema.Fields[order];
            var value = field.Property.GetValue(message);
            if (!IsPresent(message, field, value, field.ProtoInOneOf))
            {
                continue;
            }
            var sensitive = redact || field.Property.IsDefined(typeof(ProtoSensitiveAttribute));
            var json = !field.IsAny ? Value(value!, field.Property, sensitive)
                : value is IDictionary anyMap ? AnyMap(anyMap)
                : Message((EnvoyMessage)value!, asAny: true, redact: sensitive);
            fields.Add((field.ProtoNumber ?? int.MaxValue, order, field.Name, json));
        }
        fields.Sort(static (a, b) => a.Number != b.Number ? a.Number.CompareTo(b.Number) : a.Order.CompareTo(b.Order));
        foreach (var (_, _, name, value) in fields)
        {
            result.Add(name, value);
        }
        return result;
    }

    private static bool IsPresent(EnvoyMessage message, SchemaField field, object? value, bool inOneOf)
    {
        if (value is null)
        {
            return false;
        }
        var type = field.Property.PropertyType;
        if (value is ICollection collection && type.IsGenericType)
        {
            // Repeated and map fields: present when not empty.
            return collection.Count > 0;
        }
        if (value is string text)
        {
            // proto3 strings have no presence, except in a one-of.
            return text.Length > 0 || inOneOf;
        }
        if (Nullable.GetUnderlyingType(type) is not null || value is EnvoyMessage or JsonObject)
        {
            // Wrappers (BoolValue, UInt32Value), Duration, messages and Structs: present when set.
            return true;
        }
        // A plain scalar: present when not the default, or when a one-of member was set explicitly.
        return !Equals(value, Activator.CreateInstance(type)) || (inOneOf && message.HasField(field.Name));
    }

    private static ProtoJson Value(object value, PropertyInfo property, bool redact)
    {
        if (value is IDictionary map)
        {
            return Map(map);
        }
        if (value is IList list && property.PropertyType.IsGenericType)
        {
            var items = new ProtoList();
            foreach (var item in list)
            {
                items.Add(Scalar(item!, redact));
            }
            return items;
        }
        return Scalar(value, redact);
    }

    /// <summary>A map (or a <c>google.protobuf.Struct</c>'s fields), keys sorted as protobuf's JSON printer sorts them.</summary>
    public static ProtoObject Map(IDictionary map)
    {
        var keys = new List<string>(map.Count);
        foreach (var key in map.Keys)
        {
            keys.Add((string)key);
        }
        keys.Sort(StringComparer.Ordinal);
        var result = new ProtoObject();
        foreach (var key in keys)
        {
            result.Add(key, Scalar(map[key]!));
        }
        return result;
    }

    /// <summary>A <c>map&lt;string, google.protobuf.Any&gt;</c> (<c>typed_per_filter_config</c>), keys sorted.</summary>
    private static ProtoObject AnyMap(IDictionary map)
    {
        var keys = new List<string>(map.Count);
        foreach (var key in map.Keys)
        {
            keys.Add((string)key);
        }
        keys.Sort(StringComparer.Ordinal);
        var result = new ProtoObject();
        foreach (var key in keys)
        {
            result.Add(key, Message((EnvoyMessage)map[key]!, asAny: true));
        }
        return result;
    }

    /// <summary>A <c>google.protobuf.Struct</c>, as a JSON object with sorted keys.</summary>
    public static ProtoObject Struct(JsonObject value)
    {
        var keys = new List<string>(value.Count);
        foreach (var (key, _) in value)
        {
            keys.Add(key);
        }
        keys.Sort(StringComparer.Ordinal);
        var result = new ProtoObject();
        foreach (var key in keys)
        {
            result.Add(key, StructValue(value[key]));
        }
        return result;
    }

    private static ProtoJson StructValue(JsonNode? value)
    {
        switch (value)
        {
            case null:
                return ProtoJson.Null;
            case JsonObject nested:
                return Struct(nested);
            case JsonArray array:
                var list = new ProtoList();
                foreach (var item in array)
                {
                    list.Add(StructValue(item));
                }
                return list;
            default:
                var scalar = value.AsValue();
                return scalar.TryGetValue<bool>(out var flag) ? ProtoJson.Bool(flag)
                    : scalar.TryGetValue<double>(out var number) ? ProtoJson.Double(number)
                    : ProtoJson.String(scalar.GetValue<string>());
        }
    }

    private static ProtoJson Scalar(object value, bool redact = false) => value switch
    {
        JsonObject structValue => Struct(structValue),
        EnvoyMessage message => Message(message, redact: redact),
        string text => ProtoJson.String(redact ? "[redacted]" : text),
        bool flag => ProtoJson.Bool(flag),
        TimeSpan duration => ProtoJson.Duration(duration),
        uint number => ProtoJson.Number(number),
        int number => ProtoJson.Number(number),
        long number => ProtoJson.Int64(number),
        ulong number => ProtoJson.UInt64(number),
        double number => ProtoJson.Double(number),
        Enum enumValue => EnumValue(enumValue),
        _ => throw new InvalidOperationException($"The model uses {value.GetType()}, which the config dump cannot print."),
    };

    /// <summary>An enum by its Envoy name (<c>V4Only</c> → <c>V4_ONLY</c>), or its number when it has no name.</summary>
    public static ProtoJson EnumValue(Enum value)
        => Enum.IsDefined(value.GetType(), value)
            ? ProtoJson.String(EnvoyNames.EnumValueName(value))
            : ProtoJson.Number(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
}
