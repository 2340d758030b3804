using System.Globalization;
using System.Text;

namespace Gateway.Formatting;

/// <summary>
/// One compiled piece of a format: a literal or a command operator (Envoy's <c>FormatterProvider</c>). Operators are
/// made once, when the configuration is loaded, and only read what the context holds when formatting.
/// </summary>
internal abstract class FormatOperator
{
    /// <summary>Appends the value as text; false when there is no value (nothing is appended, the caller writes <c>-</c> or nothing).</summary>
    public abstract bool Append(in FormatterContext context, StringBuilder output);

    /// <summary>
    /// Appends the value as a JSON value (Envoy's <c>formatValue</c>): a string unless the operator is typed
    /// otherwise; false when the value is null (nothing is appended). <paramref name="scratch"/> is the caller's buffer.
    /// </summary>
    public virtual bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch)
    {
        scratch.Clear();
        if (!Append(context, scratch))
        {
            return false;
        }
        JsonText.AppendString(output, scratch);
        return true;
    }

    /// <summary>True when the operator reads the body byte counts (the connection manager counts them only then).</summary>
    public virtual bool NeedsBodyBytes => false;
}

/// <summary>A literal part of a format.</summary>
internal sealed class LiteralOperator(string text) : FormatOperator
{
    public string Text { get; } = text;

    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        output.Append(Text);
        return true;
    }
}

/// <summary>Cuts an operator's text to <c>:Z</c> characters (Envoy's truncate; header values are one char per byte).</summary>
internal sealed class TruncatedOperator(FormatOperator inner, int maxLength) : FormatOperator
{
    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        var start = output.Length;
        if (!inner.Append(context, output))
        {
            return false;
        }
        if (output.Length - start > maxLength)
        {
            output.Length = start + maxLength;
        }
        return true;
    }

    public override bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch)
        // Metadata values keep their JSON type and are not cut, as Envoy's formatValue does not cut them.
        => inner is IJsonTypedOperator ? inner.AppendJson(context, output, scratch) : base.AppendJson(context, output, scratch);

    public override bool NeedsBodyBytes => inner.NeedsBodyBytes;
}

/// <summary>Marks an operator whose JSON value is not always a string (metadata).</summary>
internal interface IJsonTypedOperator;

/// <summary>An operator whose value is an integer: a JSON number (Envoy's UInt64 and duration providers).</summary>
internal abstract class NumberOperator : FormatOperator
{
    /// <summary>The value, or false when there is none.</summary>
    public abstract bool TryGetValue(in FormatterContext context, out long value);

    public override bool Append(in FormatterContext context, StringBuilder output)
    {
        if (!TryGetValue(context, out var value))
        {
            return false;
        }
        output.Append(value);
        return true;
    }

    public override bool AppendJson(in FormatterContext context, StringBuilder output, StringBuilder scratch)
    {
        if (!TryGetValue(context, out var value))
        {
            return false;
        }
        output.Append(value);
        return true;
    }
}

/// <summary>JSON text writing: Envoy's <c>Json::sanitize</c> escapes quotes, backslashes and control characters.</summary>
internal static class JsonText
{
    /// <summary>Appends <paramref name="value"/> as a quoted JSON string.</summary>
    public static void AppendString(StringBuilder output, StringBuilder value)
    {
        output.Append('"');
        foreach (var chunk in value.GetChunks())
        {
            AppendEscaped(output, chunk.Span);
        }
        output.Append('"');
    }

    /// <summary>Appends <paramref name="value"/> as a quoted JSON string.</summary>
    public static void AppendString(StringBuilder output, ReadOnlySpan<char> value)
    {
        output.Append('"');
        AppendEscaped(output, value);
        output.Append('"');
    }

    /// <summary>Appends <paramref name="value"/> escaped, without quotes.</summary>
    public static void AppendEscaped(StringBuilder output, ReadOnlySpan<char> value)
    {
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }
            output.Append(value[start..i]);
            start = i + 1;
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                default:
                    output.Append("\\u00");
                    output.Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
            }
        }
        output.Append(value[start..]);
    }

    /// <summary>A number from the configuration as Envoy prints it (shortest round-trip form, no <c>.0</c> for integers).</summary>
    public static string Number(double value)
        => double.IsNaN(value) || double.IsInfinity(value) ? "null" : value.ToString("R", CultureInfo.InvariantCulture);
}
