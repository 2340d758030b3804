using System.Diagnostics;

namespace Gateway.Tracing.OpenTelemetry;

/// <summary>
/// The W3C <c>traceparent</c> header as Envoy's OpenTelemetry tracer reads and writes it
/// (span_context_extractor.cc): exactly 55 characters, four dash-separated hex fields of 2, 32, 16 and 2 digits
/// (either case), trace and parent ids not all zeros; the sampled flag is bit 0 of the flags. Written as version
/// <c>00</c>, lowercase, flags <c>00</c> or <c>01</c>.
/// </summary>
internal static class TraceParent
{
    /// <summary>The header's length: <c>2 + 1 + 32 + 1 + 16 + 1 + 2</c>.</summary>
    public const int Length = 55;

    /// <summary>Reads a <c>traceparent</c> value; false when it is malformed (Envoy then does not trace the request).</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out ActivityTraceId traceId, out ActivitySpanId parentId, out bool sampled)
    {
        traceId = default;
        parentId = default;
        sampled = false;
        if (value.Length != Length || value[2] != '-' || value[35] != '-' || value[52] != '-')
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[16 + 8 + 1];
        if (!TryHex(value.Slice(0, 2), bytes.Slice(0, 1))
            || !TryHex(value.Slice(3, 32), bytes.Slice(0, 16))
            || IsAllZeros(bytes.Slice(0, 16)))
        {
            return false;
        }
        traceId = ActivityTraceId.CreateFromBytes(bytes.Slice(0, 16));
        if (!TryHex(value.Slice(36, 16), bytes.Slice(16, 8)) || IsAllZeros(bytes.Slice(16, 8)) || !TryHex(value.Slice(53, 2), bytes.Slice(24, 1)))
        {
            traceId = default;
            return false;
        }
        parentId = ActivitySpanId.CreateFromBytes(bytes.Slice(16, 8));
        sampled = (bytes[24] & 1) != 0;
        return true;
    }

    /// <summary>Writes <c>00-{trace id}-{span id}-{00|01}</c>.</summary>
    public static string Format(ActivityTraceId traceId, ActivitySpanId spanId, bool sampled)
        => string.Create(Length, (traceId, spanId, sampled), static (chars, state) =>
        {
            chars[0] = '0';
            chars[1] = '0';
            chars[2] = '-';
            state.traceId.ToHexString().AsSpan().CopyTo(chars.Slice(3, 32));
            chars[35] = '-';
            state.spanId.ToHexString().AsSpan().CopyTo(chars.Slice(36, 16));
            chars[52] = '-';
            chars[53] = '0';
            chars[54] = state.sampled ? '1' : '0';
        });

    private static bool TryHex(ReadOnlySpan<char> hex, Span<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var high = HexValue(hex[2 * i]);
            var low = HexValue(hex[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return false;
            }
            bytes[i] = (byte)((high << 4) | low);
        }
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool IsAllZeros(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept((byte)0) < 0;
}
