using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tracing.Propagation;

/// <summary>An incoming B3 context: the trace, the caller's span and its parent (0 when absent), as 64-bit halves.</summary>
/// <param name="TraceIdHigh">The high 64 bits of a 128-bit trace id, or 0 for a 64-bit one.</param>
/// <param name="TraceId">The (low 64 bits of the) trace id.</param>
/// <param name="SpanId">The caller's span id.</param>
/// <param name="ParentId">The caller's parent span id, or 0 for none.</param>
internal readonly record struct B3SpanContext(ulong TraceIdHigh, ulong TraceId, ulong SpanId, ulong ParentId);

/// <summary>What <see cref="B3Propagator.TryExtract"/> found.</summary>
internal enum B3ExtractResult
{
    /// <summary>No ids in the request (possibly only a sampling flag): a new trace starts.</summary>
    NotFound,

    /// <summary>A context to continue.</summary>
    Found,

    /// <summary>Ids that cannot be read (Envoy's <c>ExtractorException</c>): the request gets no span.</summary>
    Malformed,
}

/// <summary>
/// B3 propagation (openzipkin/b3-propagation) as Envoy's Zipkin tracer reads and writes it
/// (<c>span_context_extractor.cc</c>, <c>Span::injectContext</c>): the single <c>b3</c> header wins over the
/// <c>x-b3-*</c> headers whenever it is present; only the first value of each header counts.
/// </summary>
internal static class B3Propagator
{
    /// <summary>The single header: <c>{trace}-{span}[-{sampled}[-{parent}]]</c>, or a sampling flag alone.</summary>
    public const string B3 = "b3";

    public const string TraceIdHeader = "x-b3-traceid";
    public const string SpanIdHeader = "x-b3-spanid";
    public const string ParentSpanIdHeader = "x-b3-parentspanid";
    public const string SampledHeader = "x-b3-sampled";
    public const string FlagsHeader = "x-b3-flags";

    // traceid128-spanid-1-parentid
    private const int SingleMaxLength = 32 + 1 + 16 + 3 + 16;

    /// <summary>
    /// The propagated sampling decision, or null when the request carries none (the local decision applies).
    /// From <c>b3</c>: the flag at its position for the header's length (<c>0</c> not sampled, <c>1</c> and <c>d</c>
    /// sampled; any other character or length: none). Else <c>x-b3-sampled</c>: <c>1</c> or <c>true</c> sampled,
    /// anything else not. Else <c>x-b3-flags: 1</c> (debug) sampled.
    /// </summary>
    public static bool? ExtractSampled(IHeaderDictionary headers) => ExtractSampled(B3Headers.Read(headers));

    /// <inheritdoc cref="ExtractSampled(IHeaderDictionary)"/>
    public static bool? ExtractSampled(in B3Headers headers)
    {
        if (headers.Single is { } b3)
        {
            var position = b3.Length switch
            {
                1 => 0,
                35 or 52 => 34, // 16 + 1 + 16 + 2 (+ 1 + 16)
                51 or 68 => 50, // 32 + 1 + 16 + 2 (+ 1 + 16)
                _ => -1,
            };
            if (position < 0 || !IsSamplingFlag(b3[position]))
            {
                return null;
            }
            return b3[position] != '0';
        }
        if (headers.Sampled is { } sampled)
        {
            // "true" is what some old Zipkin tracers send.
            return sampled is "1" or "true";
        }
        if (headers.Flags == "1")
        {
            return true;
        }
        return null;
    }

    /// <summary>True when the caller asked for debug tracing: <c>b3</c>'s flag <c>d</c>, or <c>x-b3-flags: 1</c>.</summary>
    public static bool ExtractDebug(IHeaderDictionary headers) => ExtractDebug(B3Headers.Read(headers));

    /// <inheritdoc cref="ExtractDebug(IHeaderDictionary)"/>
    public static bool ExtractDebug(in B3Headers headers)
    {
        if (headers.Single is { } b3)
        {
            return b3.Length switch
            {
                1 => b3[0] == 'd',
                35 or 52 => b3[34] == 'd',
                51 or 68 => b3[50] == 'd',
                _ => false,
            };
        }
        return headers.Flags == "1";
    }

    /// <summary>
    /// Reads the caller's context: from <c>b3</c> when present (strictly, as Envoy's single-format parser), else from
    /// <c>x-b3-traceid</c> (16 or 32 hex digits) and <c>x-b3-spanid</c>, both required, and the optional
    /// <c>x-b3-parentspanid</c>. <paramref name="error"/> says what was wrong (Envoy's exception text) when malformed.
    /// </summary>
    public static B3ExtractResult TryExtract(IHeaderDictionary headers, out B3SpanContext context, out string? error)
        => TryExtract(B3Headers.Read(headers), out context, out error);

    /// <inheritdoc cref="TryExtract(IHeaderDictionary, out B3SpanContext, out string?)"/>
    public static B3ExtractResult TryExtract(in B3Headers headers, out B3SpanContext context, out string? error)
    {
        context = default;
        error = null;
        if (headers.Single is { } b3)
        {
            return ExtractSingle(b3, out context, out error);
        }
        if (headers.TraceId is not { } traceId || headers.SpanId is not { } spanId)
        {
            return B3ExtractResult.NotFound;
        }
        ulong high = 0;
        ulong low;
        if (traceId.Length == 32)
        {
            if (!HexId.TryParse(traceId.AsSpan(0, 16), out high) || !HexId.TryParse(traceId.AsSpan(16, 16), out low))
            {
                error = $"Invalid traceid_high {traceId[..16]} or tracid {traceId[16..]}";
                return B3ExtractResult.Malformed;
            }
        }
        else if (!HexId.TryParse(traceId, out low))
        {
            error = "Invalid trace_id " + traceId;
            return B3ExtractResult.Malformed;
        }
        if (!HexId.TryParse(spanId, out var span))
        {
            error = "Invalid span id " + spanId;
            return B3ExtractResult.Malformed;
        }
        ulong parent = 0;
        if (headers.ParentSpanId is { Length: > 0 } parentId && !HexId.TryParse(parentId, out parent))
        {
            error = "Invalid parent span id " + parentId;
            return B3ExtractResult.Malformed;
        }
        context = new B3SpanContext(high, low, span, parent);
        return B3ExtractResult.Found;
    }

    /// <summary>
    /// Writes the context into an upstream request as Envoy does: <c>x-b3-traceid</c> (16 or 32 digits),
    /// <c>x-b3-spanid</c>, <c>x-b3-parentspanid</c> only with a parent, and <c>x-b3-sampled</c> <c>1</c>/<c>0</c>
    /// (never <c>x-b3-flags</c> nor <c>b3</c>). Each replaces any copy the request already has.
    /// </summary>
    public static void Inject(HttpRequestHeaders headers, ulong traceIdHigh, ulong traceId, ulong spanId, ulong? parentId, bool sampled)
    {
        // Usually the upstream request has no B3 header yet: one pass over its few headers spares four removals by name.
        if (HasB3Header(headers))
        {
            headers.Remove(TraceIdHeader);
            headers.Remove(SpanIdHeader);
            headers.Remove(ParentSpanIdHeader);
            headers.Remove(SampledHeader);
        }
        var traceIdText = HexId.FormatTraceId(traceIdHigh, traceId);
        headers.TryAddWithoutValidation(TraceIdHeader, traceIdText);
        // A new 64-bit trace's root span has the trace's id (Envoy's Tracer::startSpan): one string serves both headers.
        headers.TryAddWithoutValidation(SpanIdHeader, traceIdHigh == 0 && traceId == spanId ? traceIdText : HexId.Format(spanId));
        if (parentId is { } parent)
        {
            headers.TryAddWithoutValidation(ParentSpanIdHeader, HexId.Format(parent));
        }
        headers.TryAddWithoutValidation(SampledHeader, sampled ? "1" : "0");
    }

    private static bool HasB3Header(HttpRequestHeaders headers)
    {
        foreach (var header in headers.NonValidated)
        {
            if (header.Key.StartsWith("x-b3-", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    internal static void Set(HttpRequestHeaders headers, string name, string value)
    {
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }

    private static B3ExtractResult ExtractSingle(string b3, out B3SpanContext context, out string? error)
    {
        context = default;
        error = null;
        if (b3.Length == 0)
        {
            error = "Invalid input: empty";
            return B3ExtractResult.Malformed;
        }
        if (b3.Length == 1)
        {
            // A sampling decision alone, with no ids to continue.
            if (IsSamplingFlag(b3[0]))
            {
                return B3ExtractResult.NotFound;
            }
            error = "Invalid input: invalid sampling flag " + b3[0];
            return B3ExtractResult.Malformed;
        }
        if (b3.Length < 16 + 1 + 16)
        {
            error = "Invalid input: truncated";
            return B3ExtractResult.Malformed;
        }
        if (b3.Length > SingleMaxLength)
        {
            error = "Invalid input: too long";
            return B3ExtractResult.Malformed;
        }

        ulong high = 0;
        ulong low;
        var pos = 0;
        if (b3[32] == '-')
        {
            if (!HexId.TryParse(b3.AsSpan(0, 16), out high))
            {
                error = string.Concat("Invalid input: invalid trace id high ", b3.AsSpan(0, 16));
                return B3ExtractResult.Malformed;
            }
            pos += 16;
            if (!HexId.TryParse(b3.AsSpan(pos, 16), out low))
            {
                error = string.Concat("Invalid input: invalid trace id ", b3.AsSpan(pos, 16));
                return B3ExtractResult.Malformed;
            }
        }
        else if (!HexId.TryParse(b3.AsSpan(0, 16), out low))
        {
            error = string.Concat("Invalid input: invalid trace id ", b3.AsSpan(0, 16));
            return B3ExtractResult.Malformed;
        }
        pos += 16;
        if (b3[pos++] != '-')
        {
            error = "Invalid input: not exists span id";
            return B3ExtractResult.Malformed;
        }
        var spanText = b3.AsSpan(pos, Math.Min(16, b3.Length - pos));
        if (!HexId.TryParse(spanText, out var span))
        {
            error = string.Concat("Invalid input: invalid span id ", spanText);
            return B3ExtractResult.Malformed;
        }
        pos += 16;

        ulong parent = 0;
        if (b3.Length > pos)
        {
            // More than trace-span: "-{flag}" comes next, or (oddly, without a flag) a parent of 17 characters;
            // a single character left is a truncation.
            if (b3.Length == pos + 1)
            {
                error = "Invalid input: truncated";
                return B3ExtractResult.Malformed;
            }
            if (b3[pos++] != '-')
            {
                error = "Invalid input: not exists sampling field";
                return B3ExtractResult.Malformed;
            }
            if (b3.Length == pos + 1 || (b3.Length >= pos + 2 && b3[pos + 1] == '-'))
            {
                if (!IsSamplingFlag(b3[pos]))
                {
                    error = "Invalid input: invalid sampling flag " + b3[pos];
                    return B3ExtractResult.Malformed;
                }
                pos++;
            }
            else
            {
                error = "Invalid input: truncated";
                return B3ExtractResult.Malformed;
            }
            if (b3.Length > pos)
            {
                if (b3.Length != pos + 17)
                {
                    error = "Invalid input: truncated";
                    return B3ExtractResult.Malformed;
                }
                pos++; // the '-' checked above
                if (!HexId.TryParse(b3.AsSpan(pos), out parent))
                {
                    error = string.Concat("Invalid input: invalid parent id ", b3.AsSpan(pos));
                    return B3ExtractResult.Malformed;
                }
            }
        }
        context = new B3SpanContext(high, low, span, parent);
        return B3ExtractResult.Found;
    }

    private static bool IsSamplingFlag(char c) => c is '1' or '0' or 'd';
}

/// <summary>
/// The B3 headers of one request, each read once (the first value; null when absent): the span ids only when a
/// trace id is there, since nothing reads them otherwise. The sampling, debug and context readers share one read.
/// </summary>
internal readonly struct B3Headers
{
    public string? Single { get; private init; }
    public string? Sampled { get; private init; }
    public string? Flags { get; private init; }
    public string? TraceId { get; private init; }
    public string? SpanId { get; private init; }
    public string? ParentSpanId { get; private init; }

    /// <summary>
    /// Reads the B3 headers by name: four lookups for a request without B3 (<c>b3</c>, <c>x-b3-sampled</c>,
    /// <c>x-b3-flags</c>, <c>x-b3-traceid</c>), the span ids only after a trace id. Enumerating Kestrel's headers
    /// through <see cref="IHeaderDictionary"/> instead boxes its enumerator (an allocation per request, and most of the
    /// read's time in profiles).
    /// </summary>
    public static B3Headers Read(IHeaderDictionary headers)
    {
        if (First(headers, B3Propagator.B3) is { } single)
        {
            // b3 wins over every x-b3-* header.
            return new B3Headers { Single = single };
        }
        var sampled = First(headers, B3Propagator.SampledHeader);
        var flags = First(headers, B3Propagator.FlagsHeader);
        // The span ids count only with a trace id (and the parent only with a span id), as the readers expect.
        var traceId = First(headers, B3Propagator.TraceIdHeader);
        var spanId = traceId is null ? null : First(headers, B3Propagator.SpanIdHeader);
        return new B3Headers
        {
            Sampled = sampled,
            Flags = flags,
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = spanId is null ? null : First(headers, B3Propagator.ParentSpanIdHeader),
        };
    }

    /// <summary>The first value of a header, empty for a null one; null when the header is absent or has no value.</summary>
    private static string? First(IHeaderDictionary headers, string name)
        => headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] ?? string.Empty : null;
}

