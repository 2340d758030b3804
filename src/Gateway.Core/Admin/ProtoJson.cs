using System.Globalization;
using System.Text;

namespace Gateway.Admin;

/// <summary>
/// A JSON value as protobuf's JSON printer sees it: objects keep their fields in the order added
/// (callers add them in field-number order, as protobuf prints them), an <c>Any</c> is an object with
/// an <c>@type</c>. <see cref="ToPrettyString"/> prints it exactly as Envoy's admin API does
/// (<c>MessageUtil::getJsonStringFromMessage</c> with <c>add_whitespace</c>: one space per level,
/// <c>"name": value</c>, empty objects and lists as <c>{}</c> and <c>[]</c>, a final newline).
/// </summary>
internal abstract class ProtoJson
{
    /// <summary>The value printed the way Envoy's admin handlers print protobuf messages.</summary>
    public string ToPrettyString()
    {
        var builder = new StringBuilder(256);
        Write(builder, 0);
        builder.Append('\n');
        return builder.ToString();
    }

    internal abstract void Write(StringBuilder builder, int indent);

    /// <summary>A JSON string, escaped as protobuf escapes it.</summary>
    public static ProtoScalar String(string value) => new(Quote(value));

    /// <summary>A 32-bit (or smaller) integer: a bare JSON number.</summary>
    public static ProtoScalar Number(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>A 64-bit integer: protobuf JSON quotes them.</summary>
    public static ProtoScalar Int64(long value) => new(Quote(value.ToString(CultureInfo.InvariantCulture)));

    /// <summary>An unsigned 64-bit integer, quoted.</summary>
    public static ProtoScalar UInt64(ulong value) => new(Quote(value.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A double, in the shortest form that round-trips.</summary>
    public static ProtoScalar Double(double value)
        => double.IsNaN(value) ? new("\"NaN\"")
            : double.IsPositiveInfinity(value) ? new("\"Infinity\"")
            : double.IsNegativeInfinity(value) ? new("\"-Infinity\"")
            : new(value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>true or false.</summary>
    public static ProtoScalar Bool(bool value) => new(value ? "true" : "false");

    /// <summary>JSON null.</summary>
    public static ProtoScalar Null { get; } = new("null");

    /// <summary>A <c>google.protobuf.Duration</c>: <c>"5s"</c>, <c>"0.250s"</c> (0, 3, 6 or 9 fraction digits).</summary>
    public static ProtoScalar Duration(TimeSpan value)
    {
        var ticks = value.Ticks;
        var negative = ticks < 0;
        var absolute = negative ? -(decimal)ticks : ticks;
        var seconds = (long)(absolute / TimeSpan.TicksPerSecond);
        var nanos = (long)(absolute % TimeSpan.TicksPerSecond) * 100;
        var text = (negative ? "-" : string.Empty) + seconds.ToString(CultureInfo.InvariantCulture) + Fraction(nanos) + "s";
        return new(Quote(text));
    }

    /// <summary>A <c>google.protobuf.Timestamp</c> in RFC 3339, UTC, with 0, 3, 6 or 9 fraction digits.</summary>
    public static ProtoScalar Timestamp(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        var nanos = (utc.Ticks % TimeSpan.TicksPerSecond) * 100;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + Fraction(nanos) + "Z";
        return new(Quote(text));
    }

    private static string Fraction(long nanos)
    {
        if (nanos == 0)
        {
            return string.Empty;
        }
        if (nanos % 1_000_000 == 0)
        {
            return "." + (nanos / 1_000_000).ToString("000", CultureInfo.InvariantCulture);
        }
        if (nanos % 1_000 == 0)
        {
            return "." + (nanos / 1_000).ToString("000000", CultureInfo.InvariantCulture);
        }
        return "." + nanos.ToString("000000000", CultureInfo.InvariantCulture);
    }

    /// <summary>A quoted JSON string with protobuf's escaping (<c>&lt;</c> and <c>&gt;</c> too, control and invisible characters as <c>\uXXXX</c>).</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (MustEscape(c))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        builder.Append('"');
        return builder.ToString();
    }

    private static bool MustEscape(char c)
        => c < 0x20 || c is '<' or '>' || (c >= 0x7f && c <= 0x9f) || c is '\u00ad' or '\u06dd' or '\u070f' or '\u17b4' or '\u17b5'
           or '\ufeff' or '\ufff9' or '\ufffa' or '\ufffb' || (c >= '\u0600' && c <= '\u0603') || (c >= '\u200b' && c <= '\u200f')
           || (c >= '\u2028' && c <= '\u202e') || (c >= '\u2060' && c <= '\u2064') || (c >= '\u206a' && c <= '\u206f');

    protected static void NewLine(StringBuilder builder, int indent) => builder.Append('\n').Append(' ', indent);
}

/// <summary>A number, string, boolean or null, already in its JSON spelling.</summary>
internal sealed class ProtoScalar(string json) : ProtoJson
{
    public string Json { get; } = json;

    internal override void Write(StringBuilder builder, int indent) => builder.Append(Json);
}

/// <summary>A repeated field or a <c>google.protobuf.ListValue</c>.</summary>
internal sealed class ProtoList : ProtoJson
{
    public List<ProtoJson> Items { get; } = [];

    public ProtoList Add(ProtoJson item)
    {
        Items.Add(item);
        return this;
    }

    internal override void Write(StringBuilder builder, int indent)
    {
        builder.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }
            NewLine(builder, indent + 1);
            Items[i].Write(builder, indent + 1);
        }
        if (Items.Count > 0)
        {
            NewLine(builder, indent);
        }
        builder.Append(']');
    }
}

/// <summary>A message (fields in the order added), a <c>google.protobuf.Struct</c>, or an <c>Any</c> when <see cref="TypeUrl"/> is set.</summary>
internal sealed class ProtoObject : ProtoJson
{
    public ProtoObject(string? typeUrl = null) => TypeUrl = typeUrl;

    /// <summary>The <c>@type</c> of an <c>Any</c>, printed first; null for a plain message.</summary>
    public string? TypeUrl { get; }

    public List<KeyValuePair<string, ProtoJson>> Fields { get; } = [];

    /// <summary>An <c>Any</c> holding a message of this protobuf full name.</summary>
    public static ProtoObject Any(string fullName) => new(Configuration.EnvoyTypeRegistry.TypeUrlPrefix + fullName);

    public ProtoObject Add(string name, ProtoJson value)
    {
        Fields.Add(new(name, value));
        return this;
    }

    public ProtoJson? Get(string name)
    {
        foreach (var (key, value) in Fields)
        {
            if (key == name)
            {
                return value;
            }
        }
        return null;
    }

    internal override void Write(StringBuilder builder, int indent)
    {
        builder.Append('{');
        var first = true;
        if (TypeUrl is not null)
        {
            NewLine(builder, indent + 1);
            builder.Append("\"@type\": ").Append(Quote(TypeUrl));
            first = false;
        }
        foreach (var (name, value) in Fields)
        {
            if (!first)
            {
                builder.Append(',');
            }
            first = false;
            NewLine(builder, indent + 1);
            builder.Append(Quote(name)).Append(": ");
            value.Write(builder, indent + 1);
        }
        if (!first)
        {
            NewLine(builder, indent);
        }
        builder.Append('}');
    }
}
