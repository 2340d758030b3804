using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Filters.HeaderToMetadata;

/// <summary>
/// Parses a serialized <c>google.protobuf.Value</c> (protobuf's binary wire format), as <c>Value::ParseFromString</c> does for
/// header_to_metadata's <c>PROTOBUF_VALUE</c>: unknown fields are skipped, the last member of the <c>kind</c> one-of wins,
/// nesting is bounded by protobuf's default recursion limit (100).
/// </summary>
internal static class ProtobufValueReader
{
    private const int MaxDepth = 100;

    /// <summary>False when the bytes are not a valid <c>Value</c>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out JsonNode? value) => TryReadValue(ref data, 0, out value) && data.IsEmpty;

    private static bool TryReadValue(ref ReadOnlySpan<byte> data, int depth, out JsonNode? value)
    {
        value = null;
        if (depth > MaxDepth)
        {
            return false;
        }
        while (!data.IsEmpty)
        {
            if (!TryReadVarint(ref data, out var tag))
            {
                return false;
            }
            var field = tag >> 3;
            var wire = (int)(tag & 7);
            switch (field, wire)
            {
                case (1, 0):
                    // null_value: the enum's only value is NULL_VALUE.
                    if (!TryReadVarint(ref data, out _))
                    {
                        return false;
                    }
                    value = null;
                    break;
                case (2, 1):
                    if (data.Length < 8)
                    {
                        return false;
                    }
                    value = JsonValue.Create(BinaryPrimitives.ReadDoubleLittleEndian(data));
                    data = data[8..];
                    break;
                case (3, 2):
                    if (!TryReadBytes(ref data, out var text))
                    {
                        return false;
                    }
                    value = JsonValue.Create(Encoding.UTF8.GetString(text));
                    break;
                case (4, 0):
                    if (!TryReadVarint(ref data, out var flag))
                    {
                        return false;
                    }
                    value = JsonValue.Create(flag != 0);
                    break;
                case (5, 2):
                    if (!TryReadBytes(ref data, out var structBytes) || !TryReadStruct(structBytes, depth + 1, out var structValue))
                    {
                        return false;
                    }
                    value = structValue;
                    break;
                case (6, 2):
                    if (!TryReadBytes(ref data, out var listBytes) || !TryReadList(listBytes, depth + 1, out var listValue))
                    {
                        return false;
                    }
                    value = listValue;
                    break;
                default:
                    if (!TrySkip(ref data, wire))
                    {
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    private static bool TryReadStruct(ReadOnlySpan<byte> data, int depth, out JsonObject result)
    {
        result = [];
        return TryReadRepeated(data, depth, result, static (entry, d, fields) =>
        {
            if (!TryReadEntry(entry, d, out var key, out var value))
            {
                return false;
            }
            fields[key] = value;
            return true;
        });
    }

    private static bool TryReadList(ReadOnlySpan<byte> data, int depth, out JsonArray result)
    {
        result = [];
        return TryReadRepeated(data, depth, result, static (item, d, values) =>
        {
            if (!TryReadValue(ref item, d + 1, out var value))
            {
                return false;
            }
            values.Add(value);
            return true;
        });
    }

    private delegate bool ItemReader<in TTarget>(ReadOnlySpan<byte> item, int depth, TTarget target);

    /// <summary>Struct's <c>fields</c> and ListValue's <c>values</c>: field 1, length-delimited, repeated; other fields skipped.</summary>
    private static bool TryReadRepeated<TTarget>(ReadOnlySpan<byte> data, int depth, TTarget target, ItemReader<TTarget> read)
    {
        while (!data.IsEmpty)
        {
            if (!TryReadVarint(ref data, out var tag))
            {
                return false;
            }
            if (tag != ((1 << 3) | 2))
            {
                if (!TrySkip(ref data, (int)(tag & 7)))
                {
                    return false;
                }
                continue;
            }
            if (!TryReadBytes(ref data, out var item) || !read(item, depth, target))
            {
                return false;
            }
        }
        return true;
    }

    private static bool TryReadEntry(ReadOnlySpan<byte> data, int depth, out string key, out JsonNode? value)
    {
        key = string.Empty;
        value = null;
        while (!data.IsEmpty)
        {
            if (!TryReadVarint(ref data, out var tag))
            {
                return false;
            }
            switch (tag)
            {
                case (1 << 3) | 2:
                    if (!TryReadBytes(ref data, out var keyBytes))
                    {
                        return false;
                    }
                    key = Encoding.UTF8.GetString(keyBytes);
                    break;
                case (2 << 3) | 2:
                    if (!TryReadBytes(ref data, out var valueBytes) || !TryReadValue(ref valueBytes, depth + 1, out value))
                    {
                        return false;
                    }
                    break;
                default:
                    if (!TrySkip(ref data, (int)(tag & 7)))
                    {
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    private static bool TryReadVarint(ref ReadOnlySpan<byte> data, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (data.IsEmpty)
            {
                return false;
            }
            var b = data[0];
            data = data[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }

    private static bool TryReadBytes(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!TryReadVarint(ref data, out var length) || length > (ulong)data.Length)
        {
            return false;
        }
        bytes = data[..(int)length];
        data = data[(int)length..];
        return true;
    }

    private static bool TrySkip(ref ReadOnlySpan<byte> data, int wire)
    {
        switch (wire)
        {
            case 0:
                return TryReadVarint(ref data, out _);
            case 1:
                if (data.Length < 8)
                {
                    return false;
                }
                data = data[8..];
                return true;
            case 2:
                return TryReadBytes(ref data, out _);
            case 5:
                if (data.Length < 4)
                {
                    return false;
                }
                data = data[4..];
                return true;
            default:
                // Groups (3, 4) and invalid wire types: refused, as a Value never holds them.
                return false;
        }
    }
}
