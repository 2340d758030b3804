using Gateway.Tracing;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's UUID request id extension (<c>envoy.request_id.uuid</c>, source/extensions/request_id/uuid/config.cc):
/// generates <c>x-request-id</c> as an RFC 4122 version 4 UUID in lowercase <c>8-4-4-4-12</c> form, reads its stable
/// integer (the first 8 hex digits) for trace sampling and the access log's <c>runtime_filter</c> (Envoy's stream id
/// provider reads the same getInteger), and packs the trace reason into the version nibble
/// (character 14: '9' sampled, 'a' forced, 'b' client, '4' not traced).
/// </summary>
internal static class UuidRequestId
{
    /// <summary>Envoy's RandomGeneratorImpl::UUID_LENGTH.</summary>
    public const int Length = 36;

    /// <summary>Envoy's TRACE_BYTE_POSITION: the UUID version nibble.</summary>
    public const int TraceBytePosition = 14;

    /// <summary>Envoy's TRACE_SAMPLED.</summary>
    public const char TraceSampled = '9';

    /// <summary>Envoy's TRACE_FORCED.</summary>
    public const char TraceForced = 'a';

    /// <summary>Envoy's TRACE_CLIENT.</summary>
    public const char TraceClient = 'b';

    /// <summary>Envoy's NO_TRACE, the version nibble of a fresh UUID.</summary>
    public const char NoTrace = '4';

    /// <summary>
    /// A new request id. Envoy fills 16 bytes from RAND_bytes (a cryptographic generator) and sets
    /// <c>rand[6] = (rand[6] &amp; 0x0f) | 0x40</c> and <c>rand[8] = (rand[8] &amp; 0x3f) | 0x80</c>; <see cref="Guid.NewGuid"/> is
    /// the same: 122 bits from the operating system's cryptographic generator with those version and variant bits, and
    /// its <c>D</c> format is lowercase with the version at character 14 and the variant at character 19. Only the string
    /// is allocated (measured in UuidRequestIdTests).
    /// </summary>
    public static string Generate() => Guid.NewGuid().ToString();

    /// <summary>
    /// Envoy's UUIDRequestIDExtension::getInteger: the first 8 characters parsed as base-16 by <c>strtoull</c>
    /// (StringUtil::atoull: leading blanks, a sign and a <c>0x</c> prefix allowed, nothing left over); false for a shorter
    /// or unparsable id, which then is not sampled.
    /// </summary>
    public static bool TryGetInteger(ReadOnlySpan<char> requestId, out ulong value)
    {
        value = 0;
        if (requestId.Length < 8)
        {
            return false;
        }
        var text = requestId[..8];
        var i = 0;
        while (i < text.Length && text[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
        {
            i++;
        }
        var negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }
        if (i + 1 < text.Length && text[i] == '0' && text[i + 1] is 'x' or 'X' && i + 2 < text.Length && IsHex(text[i + 2]))
        {
            i += 2;
        }
        if (i == text.Length)
        {
            // strtoull consumed nothing (or only a sign): end_ptr is not at the end unless the text was empty.
            return false;
        }
        for (; i < text.Length; i++)
        {
            var digit = HexValue(text[i]);
            if (digit < 0)
            {
                return false;
            }
            value = (value << 4) | (uint)digit;
        }
        if (negative)
        {
            // strtoull negates in unsigned arithmetic.
            value = unchecked(0UL - value);
        }
        return true;
    }

    /// <summary>Envoy's UUIDRequestIDExtension::getTraceReason: the reason packed in a 36-character id, else not traceable.</summary>
    public static TraceReason GetTraceReason(ReadOnlySpan<char> requestId)
    {
        if (requestId.Length != Length)
        {
            return TraceReason.NotTraceable;
        }
        return requestId[TraceBytePosition] switch
        {
            TraceForced => TraceReason.ServiceForced,
            TraceSampled => TraceReason.Sampling,
            TraceClient => TraceReason.ClientForced,
            _ => TraceReason.NotTraceable,
        };
    }

    /// <summary>
    /// Envoy's UUIDRequestIDExtension::setTraceReason (when pack_trace_reason): the id with the reason's character at
    /// position 14; an id of another length, or one that already carries that character, is returned as is (no copy).
    /// </summary>
    public static string WithTraceReason(string requestId, TraceReason reason)
    {
        if (requestId.Length != Length)
        {
            return requestId;
        }
        var nibble = reason switch
        {
            TraceReason.ServiceForced => TraceForced,
            TraceReason.ClientForced => TraceClient,
            TraceReason.Sampling => TraceSampled,
            TraceReason.NotTraceable => NoTrace,
            _ => requestId[TraceBytePosition],
        };
        if (requestId[TraceBytePosition] == nibble)
        {
            return requestId;
        }
        return string.Create(Length, (requestId, nibble), static (span, state) =>
        {
            state.requestId.AsSpan().CopyTo(span);
            span[TraceBytePosition] = state.nibble;
        });
    }

    private static bool IsHex(char c) => HexValue(c) >= 0;

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
