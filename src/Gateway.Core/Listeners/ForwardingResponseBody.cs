using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners;

/// <summary>
/// A response body feature that passes every write to the one it replaced and only watches them (the body byte
/// counter, the periodic access log's first-write watch). Its pipe writer is the inner feature's, forwarded: a filter
/// that writes through the pipe and never completes this feature (the compressor's last bytes, written synchronously
/// as the stream ends) still reaches the server's buffer, which the server flushes when the response ends.
/// </summary>
internal abstract class ForwardingResponseBody(IHttpResponseBodyFeature inner) : ResponseBodyStream
{
    protected IHttpResponseBodyFeature Inner { get; } = inner;

    /// <summary>Bytes of the body handed on, through the stream or the pipe.</summary>
    protected abstract void OnWritten(int bytes);

    protected override PipeWriter CreateWriter() => new ForwardingWriter(this, Inner.Writer);

    protected override void OnDisableBuffering() => Inner.DisableBuffering();

    protected override Task OnCompleteAsync() => Inner.CompleteAsync();

    public override void Flush() => Inner.Stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.Stream.FlushAsync(cancellationToken);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Inner.Stream.Write(buffer);
        OnWritten(buffer.Length);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        OnWritten(buffer.Length);
        return Inner.Stream.WriteAsync(buffer, cancellationToken);
    }

    private sealed class ForwardingWriter(ForwardingResponseBody owner, PipeWriter inner) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            if (bytes > 0)
            {
                owner.OnWritten(bytes);
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
