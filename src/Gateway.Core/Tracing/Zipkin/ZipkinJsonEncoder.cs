using System.Buffers;
using System.Text.Json;

namespace Gateway.Tracing.Zipkin;

/// <summary>
/// Zipkin API v2 JSON (<c>POST /api/v2/spans</c>, a JSON array of spans), as Envoy's <c>JsonV2Serializer</c> writes
/// it: ids as lowercase hex, timestamps and durations as integral microseconds, the opening annotation as
/// <c>kind</c>, span logs and the closing <c>ss</c>/<c>cr</c> as <c>annotations</c>.
/// </summary>
internal static class ZipkinJsonEncoder
{
    /// <summary>Writes <paramref name="spans"/> as one JSON array.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<ZipkinSpan> spans, ZipkinEndpoint local, bool sharedSpanContext)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartArray();
        foreach (var span in spans)
        {
            WriteSpan(writer, span, local, sharedSpanContext);
        }
        writer.WriteEndArray();
    }

    private static void WriteSpan(Utf8JsonWriter writer, ZipkinSpan span, ZipkinEndpoint local, bool sharedSpanContext)
    {
        Span<char> hex = stackalloc char[32];
        writer.WriteStartObject();
        var traceLength = span.TraceIdHigh != 0 ? 32 : 16;
        if (traceLength == 32)
        {
            Propagation.HexId.Write(hex[..16], span.TraceIdHigh);
            Propagation.HexId.Write(hex[16..], span.TraceIdLow);
        }
        else
        {
            Propagation.HexId.Write(hex[..16], span.TraceIdLow);
        }
        writer.WriteString("traceId", hex[..traceLength]);
        if (span.ParentId is { } parent)
        {
            Propagation.HexId.Write(hex[..16], parent);
            writer.WriteString("parentId", hex[..16]);
        }
        Propagation.HexId.Write(hex[..16], span.Id);
        writer.WriteString("id", hex[..16]);
        writer.WriteString("kind", span.IsServer ? "SERVER" : "CLIENT");
        if (span.Name.Length > 0)
        {
            writer.WriteString("name", span.Name);
        }
        writer.WriteNumber("timestamp", span.TimestampMicros);
        if (span.DurationMicros is { } duration)
        {
            writer.WriteNumber("duration", duration);
        }

        writer.WriteStartObject("localEndpoint");
        if (local.ServiceName.Length > 0)
        {
            writer.WriteString("serviceName", local.ServiceName);
        }
        if (local.AddressText is { } address)
        {
            writer.WriteString(local.IsIPv6 ? "ipv6" : "ipv4", address);
            writer.WriteNumber("port", local.Port);
        }
        writer.WriteEndObject();

        var annotations = span.Annotations;
        if (annotations.Count > 0)
        {
            writer.WriteStartArray("annotations");
            foreach (var annotation in annotations)
            {
                writer.WriteStartObject();
                writer.WriteNumber("timestamp", annotation.TimestampMicros);
                writer.WriteString("value", annotation.Value);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }

        var tags = span.Tags;
        if (tags.Count > 0)
        {
            writer.WriteStartObject("tags");
            foreach (var tag in tags)
            {
                writer.WriteString(tag.Key, tag.Value);
            }
            writer.WriteEndObject();
        }

        // Envoy marks a server span shared whenever shared_span_context is on and the span is complete (its closing
        // annotation is there), whether or not a caller's context was joined.
        if (span.IsServer && sharedSpanContext && annotations.Count > 0)
        {
            writer.WriteBoolean("shared", true);
        }
        if (span.Debug)
        {
            writer.WriteBoolean("debug", true);
        }
        writer.WriteEndObject();
    }
}
