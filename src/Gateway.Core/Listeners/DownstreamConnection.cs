using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;

namespace Gateway.Listeners;

/// <summary>
/// Who closed one downstream connection (Envoy's <c>downstream_cx_destroy_local</c> / <c>_remote</c>), and
/// whether a request was in flight then (<c>_active_rq</c>). The client closed it when the server's reads
/// saw its FIN or reset, or when a request was aborted that the gateway did not abort itself.
/// </summary>
internal sealed class DownstreamConnection
{
    private volatile bool _remoteClosed;
    private volatile bool _localAbort;
    private volatile bool _activeRequest;

    /// <summary>The client closed the connection first.</summary>
    public bool RemoteClosed => _remoteClosed;

    /// <summary>A request was in flight when the connection went.</summary>
    public bool ActiveRequest => _activeRequest;

    /// <summary>Wraps the transport so the server's reads report the client's FIN or reset.</summary>
    public IDuplexPipe Observe(IDuplexPipe transport) => new ObservedPipe(new ObservedReader(transport.Input, this), transport.Output);

    /// <summary>The gateway aborts (or aborted) the connection under a request (a reset after the response started).</summary>
    public void AbortingLocally()
    {
        _localAbort = true;
        _activeRequest = true;
    }

    /// <summary>A request ended because its connection went away (its RequestAborted fired).</summary>
    public void RequestAborted()
    {
        _activeRequest = true;
        if (!_localAbort)
        {
            _remoteClosed = true;
        }
    }

    private void ReadObserved(in ReadResult result)
    {
        if (result.IsCompleted && !result.IsCanceled)
        {
            _remoteClosed = true;
        }
    }

    private sealed class ObservedPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class ObservedReader(PipeReader inner, DownstreamConnection connection) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            ValueTask<ReadResult> read;
            try
            {
                read = inner.ReadAsync(cancellationToken);
            }
            catch (ConnectionResetException)
            {
                connection._remoteClosed = true;
                throw;
            }
            if (read.IsCompletedSuccessfully)
            {
                var result = read.Result;
                connection.ReadObserved(result);
                return new ValueTask<ReadResult>(result);
            }
            return AwaitRead(read);
        }

        // Pooled: an idle keep-alive connection's reads complete asynchronously.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> read)
        {
            try
            {
                var result = await read.ConfigureAwait(false);
                connection.ReadObserved(result);
                return result;
            }
            catch (ConnectionResetException)
            {
                connection._remoteClosed = true;
                throw;
            }
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }
            connection.ReadObserved(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
