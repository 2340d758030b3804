using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gateway.Tracing.Zipkin;

/// <summary>
/// Zipkin's proto3 <c>ListOfSpans</c> (openzipkin/zipkin-api <c>zipkin.proto</c>), as Envoy's <c>ProtobufSerializer</c>
/// fills it: ids as 8 or 16 big-endian bytes, the timestamp as fixed64 microseconds, the duration as a varint, the
/// local endpoint's address as 4 or 16 bytes. A small writer of our own: fields are written in number order.
/// </summary>
internal static class ZipkinProtoEncoder
{
    // Field tags: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
    private const byte ListSpans = (1 << 3) | 2;
    private const byte SpanTraceId = (1 << 3) | 2;
    private const byte SpanParentId = (2 << 3) | 2;
    private const byte SpanId = (3 << 3) | 2;
    private const byte SpanKind = (4 << 3) | 0;
    private const byte SpanName = (5 << 3) | 2;
    private const byte SpanTimestamp = (6 << 3) | 1;
    private const byte SpanDuration = (7 << 3) | 0;
    private const byte SpanLocalEndpoint = (8 << 3) | 2;
    private const byte SpanAnnotations = (10 << 3) | 2;
    private const byte SpanTags = (11 << 3) | 2;
    private const byte SpanDebug = (12 << 3) | 0;
    private const byte SpanShared = (13 << 3) | 0;
    private const byte EndpointServiceName = (1 << 3) | 2;
    private const byte EndpointIPv4 = (2 << 3) | 2;
    private const byte EndpointIPv6 = (3 << 3) | 2;
    private const byte EndpointPort = (4 << 3) | 0;
    private const byte AnnotationTimestamp = (1 << 3) | 1;
    private const byte AnnotationValue = (2 << 3) | 2;
    private const byte MapKey = (1 << 3) | 2;
    private const byte MapValue = (2 << 3) | 2;

    private const int KindClient = 1;
    private const int KindServer = 2;

    /// <summary>Writes <paramref name="spans"/> as one <c>ListOfSpans</c> message.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<ZipkinSpan> spans, ZipkinEndpoint local, bool sharedSpanContext)
    {
        var writer = new ProtoWriter(output);
        foreach (var span in spans)
        {
            writer.Tag(ListSpans);
            writer.Varint((ulong)SpanSize(span, local, sharedSpanContext));
            WriteSpan(ref writer, span, local, sharedSpanContext);
        }
    }

    private static void WriteSpan(ref ProtoWriter writer, ZipkinSpan span, ZipkinEndpoint local, bool sharedSpanContext)
    {
        Span<byte> id = stackalloc byte[16];
        var traceLength = span.TraceIdHigh != 0 ? 16 : 8;
        if (traceLength == 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(id, span.TraceIdHigh);
            BinaryPrimitives.WriteUInt64BigEndian(id[8..], span.TraceIdLow);
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(id, span.TraceIdLow);
        }
        writer.Bytes(SpanTraceId, id[..traceLength]);
        if (span.ParentId is { } parent)
        {
            BinaryPrimitives.WriteUInt64BigEndian(id, parent);
            writer.Bytes(SpanParentId, id[..8]);
        }
        BinaryPrimitives.WriteUInt64BigEndian(id, span.Id);
        writer.Bytes(SpanId, id[..8]);
        writer.Tag(SpanKind);
        writer.Varint((ulong)(span.IsServer ? KindServer : KindClient));
        if (span.Name.Length > 0)
        {
            writer.String(SpanName, span.Name);
        }
        if (span.TimestampMicros != 0)
        {
            writer.Tag(SpanTimestamp);
            writer.Fixed64((ulong)span.TimestampMicros);
        }
        if (span.DurationMicros is { } duration and not 0)
        {
            writer.Tag(SpanDuration);
            writer.Varint((ulong)duration);
        }
        var endpointSize = EndpointSize(local);
        if (endpointSize > 0)
        {
            writer.Tag(SpanLocalEndpoint);
            writer.Varint((ulong)endpointSize);
            if (local.ServiceName.Length > 0)
            {
                writer.String(EndpointServiceName, local.ServiceName);
            }
            if (local.AddressBytes is { } address)
            {
                writer.Bytes(local.IsIPv6 ? EndpointIPv6 : EndpointIPv4, address);
                if (local.Port != 0)
                {
                    writer.Tag(EndpointPort);
                    writer.Varint((ulong)local.Port);
                }
            }
        }
        foreach (var annotation in span.Annotations)
        {
            writer.Tag(SpanAnnotations);
            writer.Varint((ulong)AnnotationSize(annotation));
            writer.Tag(AnnotationTimestamp);
            writer.Fixed64((ulong)annotation.TimestampMicros);
            writer.String(AnnotationValue, annotation.Value);
        }
        foreach (var tag in span.Tags)
        {
            writer.Tag(SpanTags);
            writer.Varint((ulong)TagSize(tag));
            writer.String(MapKey, tag.Key);
            writer.String(MapValue, tag.Value);
        }
        if (span.Debug)
        {
            writer.Tag(SpanDebug);
            writer.Varint(1);
        }
        if (IsShared(span, sharedSpanContext))
        {
            writer.Tag(SpanShared);
            writer.Varint(1);
        }
    }

    private static bool IsShared(ZipkinSpan span, bool sharedSpanContext) => span.IsServer && sharedSpanContext && span.Annotations.Count > 0;

    private static int SpanSize(ZipkinSpan span, ZipkinEndpoint local, bool sharedSpanContext)
    {
        var size = 1 + 1 + (span.TraceIdHigh != 0 ? 16 : 8);
        if (span.ParentId is not null)
        {
            size += 1 + 1 + 8;
        }
        size += 1 + 1 + 8; // id
        size += 1 + 1; // kind
        if (span.Name.Length > 0)
        {
            size += StringFieldSize(span.Name);
        }
        if (span.TimestampMicros != 0)
        {
            size += 1 + 8;
        }
        if (span.DurationMicros is { } duration and not 0)
        {
            size += 1 + VarintSize((ulong)duration);
        }
        var endpointSize = EndpointSize(local);
        if (endpointSize > 0)
        {
            size += 1 + VarintSize((ulong)endpointSize) + endpointSize;
        }
        foreach (var annotation in span.Annotations)
        {
            var length = AnnotationSize(annotation);
            size += 1 + VarintSize((ulong)length) + length;
        }
        foreach (var tag in span.Tags)
        {
            var length = TagSize(tag);
            size += 1 + VarintSize((ulong)length) + length;
        }
        if (span.Debug)
        {
            size += 2;
        }
        if (IsShared(span, sharedSpanContext))
        {
            size += 2;
        }
        return size;
    }

    private static int EndpointSize(ZipkinEndpoint local)
    {
        var size = local.ServiceName.Length > 0 ? StringFieldSize(local.ServiceName) : 0;
        if (local.AddressBytes is { } address)
        {
            size += 1 + 1 + address.Length;
            if (local.Port != 0)
            {
                size += 1 + VarintSize((ulong)local.Port);
            }
        }
        return size;
    }

    private static int AnnotationSize(ZipkinAnnotation annotation) => 1 + 8 + StringFieldSize(annotation.Value);

    private static int TagSize(KeyValuePair<string, string> tag) => StringFieldSize(tag.Key) + StringFieldSize(tag.Value);

    private static int StringFieldSize(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        return 1 + VarintSize((ulong)length) + length;
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    /// <summary>Appends protobuf wire-format pieces to a buffer writer.</summary>
    private readonly ref struct ProtoWriter(IBufferWriter<byte> output)
    {
        private readonly IBufferWriter<byte> _output = output;

        public void Tag(byte tag)
        {
            var span = _output.GetSpan(1);
            span[0] = tag;
            _output.Advance(1);
        }

        public void Varint(ulong value)
        {
            var span = _output.GetSpan(10);
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }
            span[i++] = (byte)value;
            _output.Advance(i);
        }

        public void Fixed64(ulong value)
        {
            var span = _output.GetSpan(8);
            BinaryPrimitives.WriteUInt64LittleEndian(span, value);
            _output.Advance(8);
        }

        public void Bytes(byte tag, ReadOnlySpan<byte> value)
        {
            Tag(tag);
            Varint((ulong)value.Length);
            _output.Write(value);
        }

        public void String(byte tag, string value)
        {
            Tag(tag);
            var length = Encoding.UTF8.GetByteCount(value);
            Varint((ulong)length);
            var span = _output.GetSpan(length);
            Encoding.UTF8.GetBytes(value, span);
            _output.Advance(length);
        }
    }
}
