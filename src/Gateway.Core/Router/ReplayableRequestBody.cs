using System.Buffers;

namespace Gateway.Router;

/// <summary>
/// The downstream request body as the router reads it for a retriable request, as Envoy's router buffers it: the bytes
/// read are kept, up to the buffer limit, so a retry (<see cref="Position"/> set to 0) sends them again and then goes on
/// reading the client. A body that outgrows the limit streams on, unbuffered, and can no longer be replayed (Envoy's
/// retry_or_shadow_abandoned); nothing fails the stream. Works for a body of unknown length (HTTP/2 DATA, gRPC, chunked).
/// </summary>
internal sealed class ReplayableRequestBody : Stream
{
    private const int InitialBuffer = 4096;

    private readonly Stream _inner;
    private readonly int _limit;
    private byte[]? _buffer;
    private int _buffered;

    /// <summary>Where the next read starts in the buffer; at <see cref="_buffered"/> reads go to the client's stream.</summary>
    private int _replayed;

    public ReplayableRequestBody(Stream inner, int limit)
    {
        _inner = inner;
        _limit = limit;
    }

    /// <summary>True once more than the limit was read: the body cannot be sent again.</summary>
    public bool Overflowed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => !Overflowed;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    /// <summary>Only a rewind to 0 is supported (a retry); reading is not.</summary>
    public override long Position
    {
        get => _replayed;
        set
        {
            if (value != 0 || Overflowed)
            {
                throw new NotSupportedException("Only a replay from the start of a buffered body is supported.");
            }
            _replayed = 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (TryReplay(buffer, out var replayed))
        {
            return replayed;
        }
        var read = _inner.Read(buffer);
        Keep(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReplay(buffer.Span, out var replayed))
        {
            return new ValueTask<int>(replayed);
        }
        var read = _inner.ReadAsync(buffer, cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            Keep(buffer.Span[..read.Result]);
            return read;
        }
        return Awaited(read, buffer);
    }

    private async ValueTask<int> Awaited(ValueTask<int> pending, Memory<byte> buffer)
    {
        var read = await pending.ConfigureAwait(false);
        Keep(buffer.Span[..read]);
        return read;
    }

    private bool TryReplay(Span<byte> destination, out int copied)
    {
        if (_replayed >= _buffered || destination.IsEmpty)
        {
            copied = 0;
            return false;
        }
        copied = Math.Min(destination.Length, _buffered - _replayed);
        _buffer.AsSpan(_replayed, copied).CopyTo(destination);
        _replayed += copied;
        return true;
    }

    private void Keep(ReadOnlySpan<byte> read)
    {
        if (read.IsEmpty || Overflowed)
        {
            return;
        }
        if (_buffered + read.Length > _limit)
        {
            // Envoy stops buffering for retries and shadows; the stream itself goes on.
            Overflowed = true;
            Release();
            return;
        }
        if (_buffer is null || _buffered + read.Length > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Min(_limit, Math.Max(InitialBuffer, Math.Max(_buffered + read.Length, (_buffer?.Length ?? 0) * 2))));
            _buffer?.AsSpan(0, _buffered).CopyTo(grown);
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = grown;
        }
        read.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += read.Length;
        _replayed = _buffered;
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _buffered = 0;
        _replayed = 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        if (origin != SeekOrigin.Begin)
        {
            throw new NotSupportedException();
        }
        Position = offset;
        return 0;
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Release();
        return base.DisposeAsync();
    }
}
