namespace Gateway.Tracing.Propagation;

/// <summary>Trace and span ids as hex text: parsing as Envoy's tracers read them and lowercase, zero-padded formatting.</summary>
internal static class HexId
{
    /// <summary>
    /// Envoy's <c>StringUtil::atoull(text, out, 16)</c> over a string of hex digits: at least one digit, either case,
    /// and a value that fits in 64 bits (leading zeros allowed). Signs, whitespace and a <c>0x</c> prefix, which
    /// <c>strtoull</c> would also take, are refused: no B3 implementation sends them.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out ulong value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }
        var significant = 0;
        foreach (var c in text)
        {
            var digit = Digit(c);
            if (digit < 0)
            {
                return false;
            }
            if (significant == 0 && digit == 0)
            {
                continue;
            }
            if (++significant > 16)
            {
                return false;
            }
            value = (value << 4) | (uint)digit;
        }
        return true;
    }

    /// <summary>Exactly <paramref name="length"/> lowercase hex digits (W3C trace context is strict about case).</summary>
    public static bool TryParseLowercase(ReadOnlySpan<char> text, int length, out ulong value)
    {
        value = 0;
        if (text.Length != length)
        {
            return false;
        }
        foreach (var c in text)
        {
            int digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : -1;
            if (digit < 0)
            {
                return false;
            }
            value = (value << 4) | (uint)digit;
        }
        return true;
    }

    /// <summary>16 lowercase hex digits (Envoy's <c>Hex::uint64ToHex</c>).</summary>
    public static string Format(ulong value) => string.Create(16, value, static (chars, v) => Write(chars, v));

    /// <summary>A trace id: 32 digits when the high half is set (a 128-bit trace), else 16 (Envoy's <c>traceIdAsHexString</c>).</summary>
    public static string FormatTraceId(ulong high, ulong low) => high == 0
        ? Format(low)
        : string.Create(32, (high, low), static (chars, ids) =>
        {
            Write(chars[..16], ids.high);
            Write(chars[16..], ids.low);
        });

    /// <summary>Writes 16 lowercase hex digits.</summary>
    public static void Write(Span<char> destination, ulong value)
    {
        for (var i = 15; i >= 0; i--)
        {
            var nibble = (int)(value & 0xF);
            destination[i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
            value >>= 4;
        }
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
