using System.Buffers;
using System.Net.Security;
using System.Text;
using Gateway.Listeners.Inspection;

namespace Gateway.Tests.Listeners.Inspection;

/// <summary>tls_inspector's ClientHello reader over hellos written by .NET's own TLS client (an independent encoder).</summary>
public class ClientHelloParserTests
{
    [Fact]
    public async Task Parse_WholeClientHello_ReadsSniAndAlpn()
    {
        var hello = await CaptureClientHello("Api.Example.com", [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);
        var info = new ClientHelloInfo();

        Assert.Equal(ClientHelloStatus.Tls, ClientHelloParser.Parse(new ReadOnlySequence<byte>(hello), ClientHelloParser.MaxClientHelloSize, info));
        Assert.Equal("api.example.com", info.ServerName);
        Assert.Equal(["h2", "http/1.1"], info.ApplicationProtocols);
    }

    [Fact]
    public async Task Parse_NoAlpn_ReportsEmptyProtocols()
    {
        var hello = await CaptureClientHello("plain.test", null);
        var info = new ClientHelloInfo();

        Assert.Equal(ClientHelloStatus.Tls, ClientHelloParser.Parse(new ReadOnlySequence<byte>(hello), ClientHelloParser.MaxClientHelloSize, info));
        Assert.Equal("plain.test", info.ServerName);
        Assert.Empty(info.ApplicationProtocols);
    }

    [Fact]
    public async Task Parse_FragmentedAcrossReads_NeedsMoreDataUntilComplete()
    {
        var hello = await CaptureClientHello("frag.test", [SslApplicationProtocol.Http11]);
        var info = new ClientHelloInfo();
        for (var length = 0; length < hello.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHelloParser.Parse(new ReadOnlySequence<byte>(hello, 0, length), ClientHelloParser.MaxClientHelloSize, info));
        }

        Assert.Equal(ClientHelloStatus.Tls, ClientHelloParser.Parse(Segmented(hello, 7), ClientHelloParser.MaxClientHelloSize, info));
        Assert.Equal("frag.test", info.ServerName);
    }

    [Fact]
    public async Task Parse_HandshakeSplitAcrossRecords_Reassembles()
    {
        var hello = await CaptureClientHello("records.test", [SslApplicationProtocol.Http2]);
        var body = hello.AsSpan(5).ToArray();
        var split = body.Length / 3;
        var records = new List<byte>();
        foreach (var part in new[] { body[..2], body[2..split], body[split..] })
        {
            records.AddRange([22, 3, 1, (byte)(part.Length >> 8), (byte)part.Length]);
            records.AddRange(part);
        }

        var info = new ClientHelloInfo();
        Assert.Equal(ClientHelloStatus.Tls, ClientHelloParser.Parse(new ReadOnlySequence<byte>(records.ToArray()), ClientHelloParser.MaxClientHelloSize, info));
        Assert.Equal("records.test", info.ServerName);
        Assert.Equal(["h2"], info.ApplicationProtocols);
    }

    [Fact]
    public void Parse_PlainHttp_NotTls()
    {
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(ClientHelloStatus.NotTls, ClientHelloParser.Parse(new ReadOnlySequence<byte>(request), ClientHelloParser.MaxClientHelloSize, new ClientHelloInfo()));
    }

    [Fact]
    public void Parse_HandshakeRecordWithOtherMessage_NotTls()
    {
        byte[] serverHello = [22, 3, 3, 0, 4, 2, 0, 0, 0];

        Assert.Equal(ClientHelloStatus.NotTls, ClientHelloParser.Parse(new ReadOnlySequence<byte>(serverHello), ClientHelloParser.MaxClientHelloSize, new ClientHelloInfo()));
    }

    [Fact]
    public void Parse_DeclaredLengthAboveLimit_TooLarge()
    {
        // A ClientHello header declaring 70,000 bytes in a record that carries only its start.
        byte[] start = [22, 3, 1, 0, 4, 1, 0x01, 0x11, 0x70];

        Assert.Equal(ClientHelloStatus.TooLarge, ClientHelloParser.Parse(new ReadOnlySequence<byte>(start), ClientHelloParser.MaxClientHelloSize, new ClientHelloInfo()));
    }

    [Fact]
    public async Task Parse_HelloAboveConfiguredBuffer_TooLarge()
    {
        var hello = await CaptureClientHello("small.test", null);

        Assert.Equal(ClientHelloStatus.TooLarge, ClientHelloParser.Parse(new ReadOnlySequence<byte>(hello), 64, new ClientHelloInfo()));
    }

    private static ReadOnlySequence<byte> Segmented(byte[] data, int size)
    {
        Segment? first = null;
        Segment? last = null;
        for (var at = 0; at < data.Length; at += size)
        {
            var next = new Segment(data.AsMemory(at, Math.Min(size, data.Length - at)), at);
            if (last is null)
            {
                first = next;
            }
            else
            {
                last.SetNext(next);
            }

            last = next;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>The first flight .NET's TLS client writes; the handshake then fails on the closed read side.</summary>
    private static async Task<byte[]> CaptureClientHello(string host, List<SslApplicationProtocol>? protocols)
    {
        using var capture = new CaptureStream();
        using var tls = new SslStream(capture);
        var options = new SslClientAuthenticationOptions { TargetHost = host, ApplicationProtocols = protocols };
        await Assert.ThrowsAnyAsync<Exception>(() => tls.AuthenticateAsClientAsync(options));
        return capture.Written.ToArray();
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public void SetNext(Segment next) => Next = next;
    }

    private sealed class CaptureStream : Stream
    {
        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("closed");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw new IOException("closed");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("closed");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
