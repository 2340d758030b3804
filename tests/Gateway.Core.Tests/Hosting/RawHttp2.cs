using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A minimal HTTP/2 client over h2c with prior knowledge, for requests .NET's HttpClient cannot send (a CONNECT without
/// <c>:path</c>): HPACK literals without Huffman or indexing out, just enough decoding in to read <c>:status</c>. Every read
/// is bounded by 10 s.
/// </summary>
internal sealed class RawHttp2 : IAsyncDisposable
{
    private const byte Data = 0x0;
    private const byte Headers = 0x1;
    private const byte RstStream = 0x3;
    private const byte Settings = 0x4;
    private const byte Ping = 0x6;
    private const byte Goaway = 0x7;
    private const byte EndStream = 0x1;
    private const byte EndHeaders = 0x4;
    private const byte Ack = 0x1;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly List<byte> _data = [];

    private RawHttp2(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawHttp2> ConnectAsync(string host, int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(host, port, timeout.Token);
        var client = new RawHttp2(socket);
        await client._stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), timeout.Token);
        await client.WriteFrameAsync(Settings, 0, 0, []);
        return client;
    }

    /// <summary>A HEADERS frame (END_HEADERS) with each header as a literal without indexing.</summary>
    public Task SendHeadersAsync(int streamId, IReadOnlyList<(string Name, string Value)> headers, bool endStream)
    {
        var block = new List<byte>();
        foreach (var (name, value) in headers)
        {
            block.Add(0x00);
            AddString(block, name);
            AddString(block, value);
        }
        return WriteFrameAsync(Headers, (byte)(EndHeaders | (endStream ? EndStream : 0)), streamId, [.. block]);
    }

    public Task SendDataAsync(int streamId, byte[] data, bool endStream) => WriteFrameAsync(Data, endStream ? EndStream : (byte)0, streamId, data);

    /// <summary>Reads frames until the stream's response HEADERS and returns its <c>:status</c> (-1 when it is not one this decoder reads; 0 on a reset).</summary>
    public async Task<int> ReadResponseStatusAsync(int streamId)
    {
        while (true)
        {
            var (type, _, id, payload) = await ReadFrameAsync();
            if (id != streamId)
            {
                continue;
            }
            if (type == RstStream)
            {
                return 0;
            }
            if (type == Headers)
            {
                return Status(payload);
            }
        }
    }

    /// <summary>Reads the stream's DATA until <paramref name="count"/> bytes came.</summary>
    public async Task<byte[]> ReadDataAsync(int streamId, int count)
    {
        while (_data.Count < count)
        {
            var (type, _, id, payload) = await ReadFrameAsync();
            if (id == streamId && type == Data)
            {
                _data.AddRange(payload);
            }
            else if (id == streamId && type == RstStream)
            {
                throw new IOException("stream reset");
            }
        }
        var result = _data.GetRange(0, count).ToArray();
        _data.RemoveRange(0, count);
        return result;
    }

    /// <summary>Reads until the stream ends: true for END_STREAM, false for RST_STREAM.</summary>
    public async Task<bool> ReadUntilEndStreamAsync(int streamId)
    {
        while (true)
        {
            var (type, flags, id, payload) = await ReadFrameAsync();
            if (id != streamId)
            {
                continue;
            }
            if (type == RstStream)
            {
                return false;
            }
            if (type == Data)
            {
                _data.AddRange(payload);
            }
            if ((type == Data || type == Headers) && (flags & EndStream) != 0)
            {
                return true;
            }
        }
    }

    /// <summary>Reads until a GOAWAY and returns its last stream id; null when none came within <paramref name="wait"/>.</summary>
    public async Task<int?> ReadGoAwayAsync(TimeSpan wait)
    {
        try
        {
            while (true)
            {
                var (type, _, _, payload) = await ReadFrameAsync(wait, goAwayIsAFrame: true);
                if (type == Goaway)
                {
                    return BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<(byte Type, byte Flags, int StreamId, byte[] Payload)> ReadFrameAsync(TimeSpan? wait = null, bool goAwayIsAFrame = false)
    {
        using var timeout = new CancellationTokenSource(wait ?? Timeout);
        while (true)
        {
            var header = new byte[9];
            await _stream.ReadExactlyAsync(header, timeout.Token);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var flags = header[4];
            var streamId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
            var payload = new byte[length];
            await _stream.ReadExactlyAsync(payload, timeout.Token);
            if (type == Settings && (flags & Ack) == 0)
            {
                await WriteFrameAsync(Settings, Ack, 0, []);
                continue;
            }
            if (type == Ping && (flags & Ack) == 0)
            {
                await WriteFrameAsync(Ping, Ack, 0, payload);
                continue;
            }
            if (type == Goaway && !goAwayIsAFrame)
            {
                throw new IOException("GOAWAY");
            }
            return (type, flags, streamId, payload);
        }
    }

    private async Task WriteFrameAsync(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        using var timeout = new CancellationTokenSource(Timeout);
        await _stream.WriteAsync(frame, timeout.Token);
    }

    /// <summary>A string literal with a 7-bit length (no Huffman); the tests' names and values are short.</summary>
    private static void AddString(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length >= 127)
        {
            throw new ArgumentException("header too long for this encoder", nameof(text));
        }
        block.Add((byte)bytes.Length);
        block.AddRange(bytes);
    }

    /// <summary>
    /// The <c>:status</c> at the start of a header block: an indexed static entry (8–14), or a literal with the static
    /// name 8–14 and a plain (not Huffman) value; -1 otherwise.
    /// </summary>
    private static int Status(byte[] block)
    {
        if (block.Length == 0)
        {
            return -1;
        }
        var first = block[0];
        if ((first & 0x80) != 0)
        {
            return (first & 0x7F) switch { 8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400, 13 => 404, 14 => 500, _ => -1 };
        }
        var nameIndex = (first & 0x40) != 0 ? first & 0x3F : first & 0x0F;
        if (nameIndex is < 8 or > 14 || block.Length < 2 || (block[1] & 0x80) != 0)
        {
            return -1;
        }
        var length = block[1] & 0x7F;
        return int.TryParse(Encoding.ASCII.GetString(block, 2, length), out var status) ? status : -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
