using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners;

/// <summary>
/// A write-only stream that stands in as a request's response body feature (the body byte counter, the filter chain's
/// buffering of a response for its encoders): the feature's stream is this, its pipe writer wraps this, and
/// send-file goes through the stream. Subclasses decide what a write does and what starting and completing mean.
/// </summary>
internal abstract class ResponseBodyStream : Stream, IHttpResponseBodyFeature
{
    private PipeWriter? _writer;

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= CreateWriter();

    void IHttpResponseBodyFeature.DisableBuffering() => OnDisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => OnStartAsync(cancellationToken);

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    async Task IHttpResponseBodyFeature.CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }
        await OnCompleteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The feature's pipe writer: by default one over this stream, which holds what it is given until flushed (the
    /// feature's CompleteAsync flushes it). A wrapper that only watches writes forwards the server's own writer instead,
    /// so that nothing waits in a buffer nobody completes.
    /// </summary>
    protected virtual PipeWriter CreateWriter() => PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    /// <summary>The feature's DisableBuffering.</summary>
    protected virtual void OnDisableBuffering()
    {
    }

    /// <summary>The feature's StartAsync.</summary>
    protected virtual Task OnStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The feature's CompleteAsync, after what the pipe writer holds was written.</summary>
    protected virtual Task OnCompleteAsync() => Task.CompletedTask;

    public sealed override bool CanRead => false;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => true;

    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public sealed override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public abstract override void Write(ReadOnlySpan<byte> buffer);

    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);
}
