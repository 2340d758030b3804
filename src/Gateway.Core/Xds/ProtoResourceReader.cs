using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Configuration;

namespace Gateway.Xds;

/// <summary>
/// Reads protobuf-encoded resources (the <c>google.protobuf.Any</c>s of a gRPC xDS response) into the document tree the
/// YAML loader makes, driven by the model's own schema (<see cref="MessageSchema"/>: names, types and field numbers), so
/// a resource pushed by a control plane is bound and validated exactly as the same resource in a file: one model, one
/// binder, the same errors. Field names come out as Envoy spells them; a field the model does not have is an error
/// naming its number (never dropped in silence); scalars come out as the text protobuf's JSON mapping gives them.
/// </summary>
internal sealed class ProtoResourceReader
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private readonly EnvoyTypeRegistry _types;
    private readonly string _source;
    private readonly ConfigErrorList _errors;

    private ProtoResourceReader(EnvoyTypeRegistry types, string source, ConfigErrorList errors)
    {
        _types = types;
        _source = source;
        _errors = errors;
    }

    /// <summary>
    /// A response's resources as the tree of a <c>DiscoveryResponse</c> document (<c>version_info</c>, <c>type_url</c>,
    /// <c>resources</c>, each an <c>Any</c> with its <c>@type</c>), for <see cref="ConfigBinder"/>; problems go to <paramref name="errors"/>.
    /// </summary>
    public static ConfigMapping ReadResponse(string versionInfo, string typeUrl, IReadOnlyList<(string TypeUrl, ReadOnlyMemory<byte> Value)> resources, EnvoyTypeRegistry types, string source, ConfigErrorList errors)
    {
        var reader = new ProtoResourceReader(types, source, errors);
        var root = new ConfigMapping();
        root.Add(Key("version_info"), new ConfigScalar(versionInfo, plain: false));
        root.Add(Key("type_url"), new ConfigScalar(typeUrl, plain: false));
        var list = new ConfigSequence();
        var listPath = new ConfigPath(null, "resources");
        for (var i = 0; i < resources.Count; i++)
        {
            var (url, value) = resources[i];
            list.Add(reader.ReadAnyValue(url, value.Span, new ConfigPath(listPath, null, i), depth: 1));
        }
        root.Add(Key("resources"), list);
        return root;
    }

    private static ConfigScalar Key(string name) => new(name, plain: false);

    /// <summary>An <c>Any</c>'s mapping: its <c>@type</c>, then the fields of the message it holds (none when the type is not one the gateway knows: the binder says so).</summary>
    private ConfigMapping ReadAnyValue(string typeUrl, ReadOnlySpan<byte> value, ConfigPath path, int depth)
    {
        var mapping = new ConfigMapping();
        mapping.Add(Key("@type"), new ConfigScalar(typeUrl, plain: false));
        if (_types.TryResolve(typeUrl, out var type))
        {
            try
            {
                ReadFields(value, type, path, depth, mapping);
            }
            catch (InvalidDataException e)
            {
                Error(path, $"the {typeUrl} resource could not be decoded: {e.Message}");
            }
        }
        return mapping;
    }

    private ConfigMapping ReadMessage(ReadOnlySpan<byte> data, Type type, ConfigPath path, int depth)
    {
        var mapping = new ConfigMapping();
        ReadFields(data, type, path, depth, mapping);
        return mapping;
    }

    /// <summary>The message's fields, in the order each first appears; a repeated field's items gathered into one sequence, a map's entries into one mapping.</summary>
    private void ReadFields(ReadOnlySpan<byte> data, Type type, ConfigPath path, int depth, ConfigMapping into)
    {
        if (depth > ConfigTreeReader.MaxDepth)
        {
            throw new InvalidDataException($"messages nest deeper than {ConfigTreeReader.MaxDepth} levels");
        }
        var schema = MessageSchema.For(type);
        var order = new List<SchemaField>();
        var values = new Dictionary<SchemaField, object>(ReferenceEqualityComparer.Instance);
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            if (!schema.TryGetField(number, out var field))
            {
                Error(path, $"{schema.FullName} field number {number} is not supported by this gateway");
                wire.Skip(wireType);
                continue;
            }
            var fieldPath = new ConfigPath(path, field.Name);
            var propertyType = field.Property.PropertyType;
            if (!values.ContainsKey(field))
            {
                order.Add(field);
            }
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var entries = values.TryGetValue(field, out var existing) ? (List<KeyValuePair<string, ConfigNode>>)existing : [];
                values[field] = entries;
                var (key, value) = ReadMapEntry(Expect(ref wire, wireType, WireLengthDelimited, field), propertyType.GetGenericArguments()[1], field, fieldPath, depth);
                entries.RemoveAll(e => e.Key == key);
                entries.Add(new(key, value));
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(List<>))
            {
                var items = values.TryGetValue(field, out var existing) ? (List<ConfigNode>)existing : [];
                values[field] = items;
                var itemType = propertyType.GetGenericArguments()[0];
                if (wireType == WireLengthDelimited && IsPackable(itemType))
                {
                    var packed = new WireReader(wire.ReadLengthDelimited());
                    while (!packed.End)
                    {
                        items.Add(ReadScalar(ref packed, PackedWireType(itemType), itemType, field, new ConfigPath(fieldPath, null, items.Count)));
                    }
                }
                else
                {
                    items.Add(ReadValue(ref wire, wireType, itemType, field, new ConfigPath(fieldPath, null, items.Count), depth));
                }
            }
            else
            {
                // A field given twice: the last one counts (protobuf's rule for a singular field).
                values[field] = ReadValue(ref wire, wireType, propertyType, field, fieldPath, depth);
            }
        }
        foreach (var field in order)
        {
            ConfigNode node;
            switch (values[field])
            {
                case List<KeyValuePair<string, ConfigNode>> entries:
                    var map = new ConfigMapping();
                    foreach (var (key, value) in entries)
                    {
                        map.Add(new ConfigScalar(key, plain: false), value);
                    }
                    node = map;
                    break;
                case List<ConfigNode> items:
                    var sequence = new ConfigSequence();
                    foreach (var item in items)
                    {
                        sequence.Add(item);
                    }
                    node = sequence;
                    break;
                default:
                    node = (ConfigNode)values[field];
                    break;
            }
            into.Add(Key(field.Name), node);
        }
    }

    private (string Key, ConfigNode Value) ReadMapEntry(ReadOnlySpan<byte> data, Type valueType, SchemaField field, ConfigPath path, int depth)
    {
        var key = string.Empty;
        ConfigNode? value = null;
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            if (number == 1 && wireType == WireLengthDelimited)
            {
                key = Utf8(wire.ReadLengthDelimited());
            }
            else if (number == 2)
            {
                value = ReadValue(ref wire, wireType, valueType, field, new ConfigPath(path, key), depth);
            }
            else
            {
                wire.Skip(wireType);
            }
        }
        // An entry without a value holds the value type's default: an empty message, or a scalar's zero.
        return (key, value ?? DefaultOf(valueType, field));
    }

    private ConfigNode ReadValue(ref WireReader wire, int wireType, Type type, SchemaField field, ConfigPath path, int depth)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (field.IsAny)
        {
            var any = Expect(ref wire, wireType, WireLengthDelimited, field);
            var typeUrl = ReadAny(any, out var value);
            return ReadAnyValue(typeUrl, value, path, depth + 1);
        }
        if (underlying == typeof(JsonObject))
        {
            return ReadStruct(Expect(ref wire, wireType, WireLengthDelimited, field), depth + 1);
        }
        if (typeof(EnvoyMessage).IsAssignableFrom(underlying))
        {
            return ReadMessage(Expect(ref wire, wireType, WireLengthDelimited, field), underlying, path, depth + 1);
        }
        if (underlying == typeof(TimeSpan))
        {
            return ReadDuration(Expect(ref wire, wireType, WireLengthDelimited, field));
        }
        if (underlying == typeof(string))
        {
            var bytes = Expect(ref wire, wireType, WireLengthDelimited, field);
            return new ConfigScalar(field.IsBytes ? Convert.ToBase64String(bytes) : Utf8(bytes), plain: false);
        }
        if (wireType == WireLengthDelimited)
        {
            // A wrapper (google.protobuf.UInt32Value, BoolValue, DoubleValue, ...): the value is its field 1.
            var wrapper = new WireReader(wire.ReadLengthDelimited());
            ConfigNode? inner = null;
            while (!wrapper.End)
            {
                var (number, innerWire) = wrapper.ReadTag();
                if (number == 1)
                {
                    inner = ReadScalar(ref wrapper, innerWire, underlying, field, path);
                }
                else
                {
                    wrapper.Skip(innerWire);
                }
            }
            return inner ?? DefaultOf(underlying, field);
        }
        return ReadScalar(ref wire, wireType, underlying, field, path);
    }

    /// <summary>A number, bool or enum as the text the binder reads (an enum by its number, which the binder accepts as protobuf's JSON parser does).</summary>
    private ConfigScalar ReadScalar(ref WireReader wire, int wireType, Type type, SchemaField field, ConfigPath path)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        string text;
        if (underlying == typeof(double))
        {
            double value = wireType switch
            {
                WireFixed64 => BitConverter.Int64BitsToDouble((long)wire.ReadFixed64()),
                WireFixed32 => BitConverter.Int32BitsToSingle((int)wire.ReadFixed32()),
                _ => throw WrongWire(field, wireType),
            };
            text = value.ToString("R", CultureInfo.InvariantCulture);
        }
        else
        {
            var raw = wireType switch
            {
                WireVarint => wire.ReadVarint(),
                WireFixed64 => wire.ReadFixed64(),
                WireFixed32 => wire.ReadFixed32(),
                _ => throw WrongWire(field, wireType),
            };
            if (underlying == typeof(bool))
            {
                text = raw != 0 ? "true" : "false";
            }
            else if (underlying.IsEnum || underlying == typeof(int))
            {
                text = ((int)(long)raw).ToString(CultureInfo.InvariantCulture);
            }
            else if (underlying == typeof(uint))
            {
                text = ((uint)raw).ToString(CultureInfo.InvariantCulture);
            }
            else if (underlying == typeof(long))
            {
                text = ((long)raw).ToString(CultureInfo.InvariantCulture);
            }
            else if (underlying == typeof(ulong))
            {
                text = raw.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                Error(path, $"field '{field.Name}' cannot be read off the wire by this gateway");
                return new ConfigScalar("null", plain: true);
            }
        }
        return new ConfigScalar(text, plain: true);
    }

    private static ConfigNode DefaultOf(Type type, SchemaField field)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (typeof(EnvoyMessage).IsAssignableFrom(underlying) || underlying == typeof(JsonObject) || field.IsAny)
        {
            return new ConfigMapping();
        }
        if (underlying == typeof(string))
        {
            return new ConfigScalar(string.Empty, plain: false);
        }
        if (underlying == typeof(TimeSpan))
        {
            return new ConfigScalar("0s", plain: false);
        }
        return new ConfigScalar(underlying == typeof(bool) ? "false" : "0", plain: true);
    }

    private static string ReadAny(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> value)
    {
        var typeUrl = string.Empty;
        value = default;
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            if (number == 1 && wireType == WireLengthDelimited)
            {
                typeUrl = Utf8(wire.ReadLengthDelimited());
            }
            else if (number == 2 && wireType == WireLengthDelimited)
            {
                value = wire.ReadLengthDelimited();
            }
            else
            {
                wire.Skip(wireType);
            }
        }
        return typeUrl;
    }

    /// <summary>google.protobuf.Duration as the <c>{seconds, nanos}</c> mapping the binder reads.</summary>
    private static ConfigMapping ReadDuration(ReadOnlySpan<byte> data)
    {
        long seconds = 0;
        long nanos = 0;
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            if (number == 1 && wireType == WireVarint)
            {
                seconds = (long)wire.ReadVarint();
            }
            else if (number == 2 && wireType == WireVarint)
            {
                nanos = (int)(long)wire.ReadVarint();
            }
            else
            {
                wire.Skip(wireType);
            }
        }
        var mapping = new ConfigMapping();
        mapping.Add(Key("seconds"), new ConfigScalar(seconds.ToString(CultureInfo.InvariantCulture), plain: true));
        mapping.Add(Key("nanos"), new ConfigScalar(nanos.ToString(CultureInfo.InvariantCulture), plain: true));
        return mapping;
    }

    /// <summary>google.protobuf.Struct: a mapping of its values (strings quoted, so that "true" stays a string).</summary>
    private static ConfigMapping ReadStruct(ReadOnlySpan<byte> data, int depth)
    {
        if (depth > ConfigTreeReader.MaxDepth)
        {
            throw new InvalidDataException($"messages nest deeper than {ConfigTreeReader.MaxDepth} levels");
        }
        var mapping = new ConfigMapping();
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            if (number != 1 || wireType != WireLengthDelimited)
            {
                wire.Skip(wireType);
                continue;
            }
            var entry = new WireReader(wire.ReadLengthDelimited());
            var key = string.Empty;
            ConfigNode value = new ConfigScalar("null", plain: true);
            while (!entry.End)
            {
                var (entryNumber, entryWire) = entry.ReadTag();
                if (entryNumber == 1 && entryWire == WireLengthDelimited)
                {
                    key = Utf8(entry.ReadLengthDelimited());
                }
                else if (entryNumber == 2 && entryWire == WireLengthDelimited)
                {
                    value = ReadStructValue(entry.ReadLengthDelimited(), depth + 1);
                }
                else
                {
                    entry.Skip(entryWire);
                }
            }
            mapping.Add(new ConfigScalar(key, plain: false), value);
        }
        return mapping;
    }

    private static ConfigNode ReadStructValue(ReadOnlySpan<byte> data, int depth)
    {
        ConfigNode value = new ConfigScalar("null", plain: true);
        var wire = new WireReader(data);
        while (!wire.End)
        {
            var (number, wireType) = wire.ReadTag();
            switch (number, wireType)
            {
                case (1, WireVarint):
                    wire.ReadVarint();
                    value = new ConfigScalar("null", plain: true);
                    break;
                case (2, WireFixed64):
                    var number64 = BitConverter.Int64BitsToDouble((long)wire.ReadFixed64());
                    value = new ConfigScalar(number64.ToString("R", CultureInfo.InvariantCulture), plain: true);
                    break;
                case (3, WireLengthDelimited):
                    value = new ConfigScalar(Utf8(wire.ReadLengthDelimited()), plain: false);
                    break;
                case (4, WireVarint):
                    value = new ConfigScalar(wire.ReadVarint() != 0 ? "true" : "false", plain: true);
                    break;
                case (5, WireLengthDelimited):
                    value = ReadStruct(wire.ReadLengthDelimited(), depth + 1);
                    break;
                case (6, WireLengthDelimited):
                    var list = new ConfigSequence();
                    var items = new WireReader(wire.ReadLengthDelimited());
                    while (!items.End)
                    {
                        var (itemNumber, itemWire) = items.ReadTag();
                        if (itemNumber == 1 && itemWire == WireLengthDelimited)
                        {
                            list.Add(ReadStructValue(items.ReadLengthDelimited(), depth + 1));
                        }
                        else
                        {
                            items.Skip(itemWire);
                        }
                    }
                    value = list;
                    break;
                default:
                    wire.Skip(wireType);
                    break;
            }
        }
        return value;
    }

    private static bool IsPackable(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying.IsEnum || underlying == typeof(bool) || underlying == typeof(int) || underlying == typeof(uint)
            || underlying == typeof(long) || underlying == typeof(ulong) || underlying == typeof(double);
    }

    /// <summary>The wire type of a packed item: doubles are fixed64 (the model has no float lists), the rest varints.</summary>
    private static int PackedWireType(Type type) => (Nullable.GetUnderlyingType(type) ?? type) == typeof(double) ? WireFixed64 : WireVarint;

    private static ReadOnlySpan<byte> Expect(ref WireReader wire, int wireType, int expected, SchemaField field)
        => wireType == expected ? wire.ReadLengthDelimited() : throw WrongWire(field, wireType);

    private static InvalidDataException WrongWire(SchemaField field, int wireType)
        => new($"field '{field.Name}' came with wire type {wireType}, which its type does not have");

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException("a string field is not valid UTF-8");
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private void Error(ConfigPath path, string message) => _errors.Add(new ConfigError(new SourceLocation(_source, path, 0, 0), message));

    /// <summary>The protobuf wire format over a span: tags, varints, fixed-width values, length-delimited slices; truncation is <see cref="InvalidDataException"/>.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool End => _position >= _data.Length;

        public (int Number, int WireType) ReadTag()
        {
            var tag = ReadVarint();
            var number = tag >> 3;
            if (number is 0 or > 536_870_911)
            {
                throw new InvalidDataException($"invalid field number {number}");
            }
            return ((int)number, (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    throw new InvalidDataException("the message ends inside a varint");
                }
                var b = _data[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }
            throw new InvalidDataException("a varint is longer than 10 bytes");
        }

        public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public ulong ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ReadOnlySpan<byte> ReadLengthDelimited()
        {
            var length = ReadVarint();
            if (length > (ulong)(_data.Length - _position))
            {
                throw new InvalidDataException("a length-delimited field runs past the end of its message");
            }
            return Take((int)length);
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case WireVarint:
                    ReadVarint();
                    break;
                case WireFixed64:
                    Take(8);
                    break;
                case WireLengthDelimited:
                    ReadLengthDelimited();
                    break;
                case WireFixed32:
                    Take(4);
                    break;
                default:
                    // Groups (3, 4) are not in proto3; 6 and 7 do not exist.
                    throw new InvalidDataException($"unsupported wire type {wireType}");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _data.Length - _position)
            {
                throw new InvalidDataException("the message ends inside a field");
            }
            var slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
