using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Gateway.Tests.Xds;

/// <summary>
/// The test control plane's encoder: a resource in protobuf's JSON form (field names as Envoy spells them, an
/// <c>@type</c> at the top and in every <c>Any</c>) encoded to the protobuf wire format with the field numbers of the
/// model's schema. Nullable scalars go as Envoy's wrapper messages (UInt32Value, BoolValue, ...), durations as
/// google.protobuf.Duration, enums by name or number. The Node cross-check (real Envoy protos) checks the numbers.
/// </summary>
internal static class ProtoResourceWriter
{
    private static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();

    /// <summary>The resource as an <c>Any</c>.</summary>
    public static Any Pack(string json) => PackObject(JsonNode.Parse(json)!.AsObject());

    private static Any PackObject(JsonObject json)
    {
        var typeUrl = (string?)json["@type"] ?? throw new ArgumentException("the resource has no @type");
        if (!Types.TryResolve(typeUrl, out var type))
        {
            throw new ArgumentException($"{typeUrl} is not a type the gateway knows");
        }
        return new Any { TypeUrl = typeUrl, Value = ByteString.CopyFrom(Message(type, json)) };
    }

    private static byte[] Message(System.Type type, JsonObject json)
    {
        var schema = MessageSchema.For(type);
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var (name, value) in json)
        {
            if (name == "@type" || value is null)
            {
                continue;
            }
            if (!schema.TryGetField(name, out var field) || field.ProtoNumber is not { } number)
            {
                throw new ArgumentException($"{schema.FullName} has no field '{name}' with a protobuf number");
            }
            var propertyType = field.Property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(List<>))
            {
                foreach (var item in value.AsArray())
                {
                    Single(output, number, field, propertyType.GetGenericArguments()[0], item!);
                }
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                foreach (var (key, entryValue) in value.AsObject())
                {
                    using var entry = new MemoryStream();
                    var entryOutput = new CodedOutputStream(entry);
                    entryOutput.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    entryOutput.WriteString(key);
                    Single(entryOutput, 2, field, propertyType.GetGenericArguments()[1], entryValue!);
                    entryOutput.Flush();
                    output.WriteTag(number, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
                }
            }
            else
            {
                Single(output, number, field, propertyType, value);
            }
        }
        output.Flush();
        return buffer.ToArray();
    }

    private static void Single(CodedOutputStream output, int number, SchemaField field, System.Type type, JsonNode value)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (field.IsAny)
        {
            Bytes(output, number, PackObject(value.AsObject()).ToByteArray());
        }
        else if (underlying == typeof(JsonObject))
        {
            Bytes(output, number, Struct.Parser.ParseJson(value.ToJsonString()).ToByteArray());
        }
        else if (typeof(EnvoyMessage).IsAssignableFrom(underlying))
        {
            Bytes(output, number, Message(underlying, value.AsObject()));
        }
        else if (underlying == typeof(TimeSpan))
        {
            var text = (string)value!;
            var seconds = decimal.Parse(text.TrimEnd('s'), CultureInfo.InvariantCulture);
            Bytes(output, number, new Duration { Seconds = (long)decimal.Truncate(seconds), Nanos = (int)((seconds - decimal.Truncate(seconds)) * 1_000_000_000m) }.ToByteArray());
        }
        else if (underlying == typeof(string))
        {
            output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(field.IsBytes ? ByteString.FromBase64((string)value!) : ByteString.CopyFromUtf8((string)value!));
        }
        else if (type != underlying)
        {
            // A wrapper message: the value is its field 1.
            using var wrapper = new MemoryStream();
            var wrapperOutput = new CodedOutputStream(wrapper);
            Scalar(wrapperOutput, 1, underlying, value);
            wrapperOutput.Flush();
            Bytes(output, number, wrapper.ToArray());
        }
        else
        {
            Scalar(output, number, underlying, value);
        }
    }

    private static void Scalar(CodedOutputStream output, int number, System.Type type, JsonNode value)
    {
        if (type == typeof(double))
        {
            output.WriteTag(number, WireFormat.WireType.Fixed64);
            output.WriteDouble(value.GetValue<double>());
            return;
        }
        output.WriteTag(number, WireFormat.WireType.Varint);
        if (type == typeof(bool))
        {
            output.WriteBool(value.GetValue<bool>());
        }
        else if (type.IsEnum)
        {
            output.WriteEnum(EnumNumber(type, value));
        }
        else if (type == typeof(uint) || type == typeof(ulong))
        {
            output.WriteUInt64(ulong.Parse(Text(value), CultureInfo.InvariantCulture));
        }
        else
        {
            output.WriteInt64(long.Parse(Text(value), CultureInfo.InvariantCulture));
        }
    }

    private static int EnumNumber(System.Type type, JsonNode value)
    {
        if (value.GetValueKind() == JsonValueKind.Number)
        {
            return value.GetValue<int>();
        }
        foreach (var candidate in System.Enum.GetValues(type))
        {
            if (string.Equals(EnvoyNames.EnumValueName((System.Enum)candidate), (string)value!, StringComparison.Ordinal))
            {
                return Convert.ToInt32(candidate, CultureInfo.InvariantCulture);
            }
        }
        throw new ArgumentException($"{value} is not a value of {type.Name}");
    }

    private static string Text(JsonNode value) => value.GetValueKind() == JsonValueKind.String ? (string)value! : value.ToJsonString();

    private static void Bytes(CodedOutputStream output, int number, byte[] bytes)
    {
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }
}
