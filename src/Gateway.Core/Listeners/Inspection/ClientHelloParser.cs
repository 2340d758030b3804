using System.Buffers;
using System.Buffers.Binary;

namespace Gateway.Listeners.Inspection;

/// <summary>What the peeked bytes of a connection tell the tls_inspector listener filter.</summary>
internal enum ClientHelloStatus
{
    /// <summary>Too few bytes to decide; read more (bounded by the buffer size).</summary>
    NeedMoreData,

    /// <summary>The bytes are not a TLS handshake record: transport_protocol "raw_buffer" (Envoy's tls_not_found).</summary>
    NotTls,

    /// <summary>A whole ClientHello was parsed: transport_protocol "tls" (Envoy's tls_found).</summary>
    Tls,

    /// <summary>The ClientHello is larger than the limit (Envoy's client_hello_too_large); the connection is closed.</summary>
    TooLarge,
}

/// <summary>The parts of a ClientHello that filter chain matching reads (server_names, application_protocols).</summary>
internal sealed class ClientHelloInfo
{
    /// <summary>The SNI host name in lower case, or empty when the client sent none.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>The ALPN protocol names in the client's order; empty when the client sent no ALPN extension.</summary>
    public List<string> ApplicationProtocols { get; } = [];
}

/// <summary>
/// Our own bounded ClientHello reader for tls_inspector: TLS record headers (handshake fragments may span records and
/// reads), the handshake header, and the server_name (0) and application_layer_protocol_negotiation (16) extensions.
/// It never consumes: the caller peeks and hands the TLS stack the same bytes.
/// </summary>
internal static class ClientHelloParser
{
    /// <summary>Envoy's TLS_MAX_CLIENT_HELLO (64 KiB).</summary>
    public const int MaxClientHelloSize = 64 * 1024;

    private const byte HandshakeRecord = 22;
    private const byte ClientHelloType = 1;
    private const int RecordHeaderSize = 5;
    private const int HandshakeHeaderSize = 4;
    private const ushort ServerNameExtension = 0;
    private const ushort AlpnExtension = 16;

    /// <summary>
    /// Parses what has arrived so far. <paramref name="maxSize"/> bounds the ClientHello message (at most 64 KiB). The
    /// caller re-parses from the start after each read; the reassembly buffer is borrowed from the pool for one call.
    /// </summary>
    public static ClientHelloStatus Parse(ReadOnlySequence<byte> input, int maxSize, ClientHelloInfo info)
    {
        maxSize = Math.Min(maxSize, MaxClientHelloSize);
        byte[]? message = null;
        try
        {
            return Parse(input, maxSize, info, ref message);
        }
        finally
        {
            if (message is not null)
            {
                ArrayPool<byte>.Shared.Return(message);
            }
        }
    }

    private static ClientHelloStatus Parse(ReadOnlySequence<byte> input, int maxSize, ClientHelloInfo info, ref byte[]? message)
    {
        var reader = new SequenceReader<byte>(input);

        // Reassemble the handshake message from consecutive handshake records.
        var capacity = maxSize + HandshakeHeaderSize;
        var messageLength = -1;
        var filled = 0;
        while (true)
        {
            if (!reader.TryRead(out var contentType))
            {
                return ClientHelloStatus.NeedMoreData;
            }

            if (contentType != HandshakeRecord)
            {
                return ClientHelloStatus.NotTls;
            }

            if (!reader.TryRead(out var major))
            {
                return ClientHelloStatus.NeedMoreData;
            }

            if (major != 3)
            {
                return ClientHelloStatus.NotTls;
            }

            if (!reader.TryRead(out _) || !reader.TryReadBigEndian(out short recordLengthRaw))
            {
                return ClientHelloStatus.NeedMoreData;
            }

            var recordLength = (ushort)recordLengthRaw;
            if (recordLength == 0)
            {
                return ClientHelloStatus.NotTls;
            }

            if (reader.Remaining < recordLength)
            {
                // The declared sizes already show the message cannot fit.
                if (messageLength > maxSize)
                {
                    return ClientHelloStatus.TooLarge;
                }

                return ClientHelloStatus.NeedMoreData;
            }

            var fragment = input.Slice(reader.Position, recordLength);
            reader.Advance(recordLength);
            // The first fragment holds the handshake header (or part of it; then keep it until the length is known).
            message ??= ArrayPool<byte>.Shared.Rent(capacity);

            foreach (var segment in fragment)
            {
                var room = capacity - filled;
                if (segment.Length > room)
                {
                    return ClientHelloStatus.TooLarge;
                }

                segment.Span.CopyTo(message.AsSpan(filled));
                filled += segment.Length;
            }

            if (messageLength < 0 && filled >= HandshakeHeaderSize)
            {
                if (message[0] != ClientHelloType)
                {
                    return ClientHelloStatus.NotTls;
                }

                messageLength = (message[1] << 16) | (message[2] << 8) | message[3];
                if (messageLength > maxSize)
                {
                    return ClientHelloStatus.TooLarge;
                }
            }

            if (messageLength >= 0 && filled >= messageLength + HandshakeHeaderSize)
            {
                return ParseClientHello(message.AsSpan(HandshakeHeaderSize, messageLength), info)
                    ? ClientHelloStatus.Tls
                    : ClientHelloStatus.NotTls;
            }
        }
    }

    private static bool ParseClientHello(ReadOnlySpan<byte> hello, ClientHelloInfo info)
    {
        info.ServerName = string.Empty;
        info.ApplicationProtocols.Clear();

        // legacy_version (2) + random (32), session id, cipher suites, compression methods.
        var at = 34;
        if (!Skip(hello, ref at, 1) || !Skip(hello, ref at, 2) || !Skip(hello, ref at, 1))
        {
            return false;
        }

        if (at == hello.Length)
        {
            return true; // No extensions.
        }

        if (at + 2 > hello.Length)
        {
            return false;
        }

        var extensionsEnd = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
        at += 2;
        if (extensionsEnd > hello.Length)
        {
            return false;
        }

        while (at + 4 <= extensionsEnd)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(hello[(at + 2)..]);
            at += 4;
            if (at + length > extensionsEnd)
            {
                return false;
            }

            var body = hello.Slice(at, length);
            at += length;
            if (type == ServerNameExtension && !ReadServerName(body, info))
            {
                return false;
            }

            if (type == AlpnExtension && !ReadAlpn(body, info))
            {
                return false;
            }
        }

        return at == extensionsEnd;
    }

    /// <summary>Skips a vector whose length prefix is <paramref name="prefix"/> bytes.</summary>
    private static bool Skip(ReadOnlySpan<byte> data, ref int at, int prefix)
    {
        if (at + prefix > data.Length)
        {
            return false;
        }

        var length = prefix == 1 ? data[at] : BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
        at += prefix + length;
        return at <= data.Length;
    }

    private static bool ReadServerName(ReadOnlySpan<byte> body, ClientHelloInfo info)
    {
        if (body.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(body) != body.Length - 2)
        {
            return false;
        }

        var at = 2;
        while (at + 3 <= body.Length)
        {
            var nameType = body[at];
            var length = BinaryPrimitives.ReadUInt16BigEndian(body[(at + 1)..]);
            at += 3;
            if (at + length > body.Length)
            {
                return false;
            }

            if (nameType == 0 && info.ServerName.Length == 0)
            {
                // host_name is ASCII (RFC 6066); matching is case-insensitive, so keep it lower case.
                info.ServerName = System.Text.Encoding.ASCII.GetString(body.Slice(at, length)).ToLowerInvariant();
            }

            at += length;
        }

        return at == body.Length;
    }

    private static bool ReadAlpn(ReadOnlySpan<byte> body, ClientHelloInfo info)
    {
        if (body.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(body) != body.Length - 2)
        {
            return false;
        }

        var at = 2;
        while (at < body.Length)
        {
            var length = body[at];
            at++;
            if (length == 0 || at + length > body.Length)
            {
                return false;
            }

            info.ApplicationProtocols.Add(System.Text.Encoding.ASCII.GetString(body.Slice(at, length)));
            at += length;
        }

        return true;
    }
}
