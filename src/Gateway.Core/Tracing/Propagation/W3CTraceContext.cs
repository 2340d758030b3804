using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tracing.Propagation;

/// <summary>A parsed <c>traceparent</c> (W3C Trace Context level 1): 128-bit trace id, the caller's span id and the flags.</summary>
/// <param name="TraceIdHigh">The high 64 bits of the trace id.</param>
/// <param name="TraceIdLow">The low 64 bits of the trace id.</param>
/// <param name="SpanId">The caller's span id (<c>parent-id</c> in the specification).</param>
/// <param name="Flags">The trace flags; bit 0 is <c>sampled</c>.</param>
internal readonly record struct W3CTraceParent(ulong TraceIdHigh, ulong TraceIdLow, ulong SpanId, byte Flags)
{
    /// <summary>The <c>sampled</c> flag.</summary>
    public bool Sampled => (Flags & 1) != 0;
}

/// <summary>
/// W3C Trace Context (https://www.w3.org/TR/trace-context/): <c>traceparent</c> parsing and formatting, and
/// <c>tracestate</c> passed through unchanged. Used by the OpenTelemetry tracer and by Zipkin's
/// <c>USE_B3_WITH_W3C_PROPAGATION</c>.
/// </summary>
internal static class W3CTraceContext
{
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    // "00-" + 32 + "-" + 16 + "-" + 2
    private const int Version00Length = 55;

    /// <summary>
    /// Parses <c>traceparent</c>: two lowercase hex digits of version (<c>ff</c> is invalid), a 32-digit trace id and a
    /// 16-digit span id (lowercase, not all zeros) and two digits of flags, dash-separated. Version <c>00</c> is exactly
    /// that long; a later version may carry more after a further dash, which is ignored as the specification says.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> value, out W3CTraceParent parent)
    {
        parent = default;
        if (value.Length < Version00Length
            || !HexId.TryParseLowercase(value[..2], 2, out var version) || version == 0xff
            || value[2] != '-' || value[35] != '-' || value[52] != '-')
        {
            return false;
        }
        if (version == 0 ? value.Length != Version00Length : value.Length > Version00Length && value[Version00Length] != '-')
        {
            return false;
        }
        if (!HexId.TryParseLowercase(value.Slice(3, 16), 16, out var high)
            || !HexId.TryParseLowercase(value.Slice(19, 16), 16, out var low)
            || !HexId.TryParseLowercase(value.Slice(36, 16), 16, out var span)
            || !HexId.TryParseLowercase(value.Slice(53, 2), 2, out var flags))
        {
            return false;
        }
        if ((high == 0 && low == 0) || span == 0)
        {
            return false;
        }
        parent = new W3CTraceParent(high, low, span, (byte)flags);
        return true;
    }

    /// <summary>The request's <c>traceparent</c>, parsed; false when absent, repeated or invalid (a new trace starts).</summary>
    public static bool TryExtract(IHeaderDictionary headers, out W3CTraceParent parent, out string? traceState)
    {
        parent = default;
        traceState = null;
        // More than one traceparent is invalid: the receiver cannot know which one to continue.
        if (!headers.TryGetValue(TraceParentHeader, out var values) || values.Count != 1 || !TryParse(values[0], out parent))
        {
            return false;
        }
        if (headers.TryGetValue(TraceStateHeader, out var states) && states.Count > 0)
        {
            // Several tracestate headers are one list (the specification allows splitting it).
            traceState = states.Count == 1 ? states[0] : string.Join(',', states.ToArray());
        }
        return true;
    }

    /// <summary>A version-00 <c>traceparent</c>: <c>00-{trace}-{span}-{flags}</c>, lowercase.</summary>
    public static string Format(ulong traceIdHigh, ulong traceIdLow, ulong spanId, byte flags)
        => string.Create(Version00Length, (traceIdHigh, traceIdLow, spanId, flags), static (chars, ctx) =>
        {
            chars[0] = '0';
            chars[1] = '0';
            chars[2] = '-';
            HexId.Write(chars.Slice(3, 16), ctx.traceIdHigh);
            HexId.Write(chars.Slice(19, 16), ctx.traceIdLow);
            chars[35] = '-';
            HexId.Write(chars.Slice(36, 16), ctx.spanId);
            chars[52] = '-';
            chars[53] = HexDigit(ctx.flags >> 4);
            chars[54] = HexDigit(ctx.flags & 0xF);
        });

    /// <summary>Writes <c>traceparent</c> (and <c>tracestate</c> when there is one) into an upstream request, replacing any copies.</summary>
    public static void Inject(HttpRequestHeaders headers, ulong traceIdHigh, ulong traceIdLow, ulong spanId, bool sampled, string? traceState)
    {
        B3Propagator.Set(headers, TraceParentHeader, Format(traceIdHigh, traceIdLow, spanId, sampled ? (byte)1 : (byte)0));
        if (!string.IsNullOrEmpty(traceState))
        {
            B3Propagator.Set(headers, TraceStateHeader, traceState);
        }
    }

    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
