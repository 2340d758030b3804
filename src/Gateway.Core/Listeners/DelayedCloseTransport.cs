using System.IO.Pipelines;

namespace Gateway.Listeners;

/// <summary>
/// Envoy's FlushWriteAndDelay close (<c>delayed_close_timeout</c>) for one downstream connection. Kestrel closes the
/// socket as soon as the HTTP layer (or the TLS step) completes the transport; Envoy instead gives the client the
/// chance to close first, so a client that has not yet read the last response (a 400 to a body it is still sending)
/// is not raced by the server's close. This wraps the raw transport: a graceful completion of either side is held,
/// and once the connection's pipeline has returned <see cref="LingerAsync"/> reads and discards what the client still
/// sends until its FIN (or a reset) or the timeout, and only then lets the socket go.
/// </summary>
internal sealed class DelayedCloseTransport : IDuplexPipe
{
    private readonly HoldingReader _input;
    private readonly HoldingWriter _output;

    public DelayedCloseTransport(IDuplexPipe transport)
    {
        _input = new HoldingReader(transport.Input);
        _output = new HoldingWriter(transport.Output);
    }

    public PipeReader Input => _input;

    public PipeWriter Output => _output;

    /// <summary>
    /// Waits, after the server is done with the connection, for the client to close it. Not waited for: a connection
    /// the client already closed, one aborted (a side completed with an error), and, as Envoy closes a connection
    /// without a codec yet at once, one whose client never sent a byte (<paramref name="clientSentData"/> false).
    /// </summary>
    public async Task<DelayedCloseOutcome> LingerAsync(TimeSpan timeout, TimeProvider time, bool clientSentData)
    {
        var inner = _input.Inner;
        using var timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        try
        {
            if (_input.PeerClosed)
            {
                return DelayedCloseOutcome.ClientClosed;
            }
            if (_input.Failed || _output.Failed || !clientSentData)
            {
                return DelayedCloseOutcome.NotDelayed;
            }
            timer.CancelAfter(timeout);
            while (true)
            {
                var result = await inner.ReadAsync(timer.Token).ConfigureAwait(false);
                inner.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return DelayedCloseOutcome.ClientClosed;
                }
                // A cancelled read is Kestrel's CancelPendingRead arriving late: read on.
            }
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            return DelayedCloseOutcome.TimedOut;
        }
        catch (Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            // The server aborted the socket meanwhile (its shutdown): a local close, not the client's.
            return DelayedCloseOutcome.NotDelayed;
        }
        catch (Exception ex) when (ex is IOException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // Reset by the client.
            return DelayedCloseOutcome.ClientClosed;
        }
        finally
        {
            await inner.CompleteAsync().ConfigureAwait(false);
            await _output.Inner.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The transport's reader; a graceful <see cref="Complete"/> is held, and the client's FIN is noted.</summary>
    private sealed class HoldingReader(PipeReader inner) : PipeReader
    {
        public PipeReader Inner => inner;

        /// <summary>A read returned the end of the client's stream.</summary>
        public bool PeerClosed { get; private set; }

        /// <summary>The server completed the reader with an error.</summary>
        public bool Failed { get; private set; }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(cancellationToken);
            if (!read.IsCompletedSuccessfully)
            {
                return AwaitedAsync(read);
            }
            var result = read.Result;
            Note(result);
            return new ValueTask<ReadResult>(result);
        }

        // Pooled: an idle keep-alive connection's pending reads allocate nothing per read.
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> AwaitedAsync(ValueTask<ReadResult> read)
        {
            var result = await read.ConfigureAwait(false);
            Note(result);
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }
            Note(result);
            return true;
        }

        private void Note(in ReadResult result)
        {
            if (result.IsCompleted)
            {
                PeerClosed = true;
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            if (exception is not null)
            {
                Failed = true;
                inner.Complete(exception);
            }
        }
    }

    /// <summary>The transport's writer; a graceful <see cref="Complete"/> is held until the linger ends.</summary>
    private sealed class HoldingWriter(PipeWriter inner) : PipeWriter
    {
        public PipeWriter Inner => inner;

        /// <summary>The server completed the writer with an error.</summary>
        public bool Failed { get; private set; }

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
            => inner.WriteAsync(source, cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            if (exception is not null)
            {
                Failed = true;
                inner.Complete(exception);
                return;
            }
            // What was written still goes out: only the completion (which closes the socket) waits.
            if (inner.CanGetUnflushedBytes && inner.UnflushedBytes > 0)
            {
                _ = inner.FlushAsync().AsTask();
            }
        }
    }
}

/// <summary>How a delayed close ended.</summary>
internal enum DelayedCloseOutcome
{
    /// <summary>Closed without waiting (aborted, or never a byte from the client).</summary>
    NotDelayed,

    /// <summary>The client closed (FIN or reset) first.</summary>
    ClientClosed,

    /// <summary><c>delayed_close_timeout</c> ran out.</summary>
    TimedOut,
}
