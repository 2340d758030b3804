using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
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

    /// <summary>
    /// The transport's reader, seeing each read's result on its way to Kestrel. A read that does not complete at
    /// once is awaited through this reader itself (a reusable <see cref="IValueTaskSource{TResult}"/>: a pipe has
    /// one read outstanding at a time), so an idle keep-alive connection's reads allocate nothing.
    /// </summary>
    private sealed class ObservedReader : PipeReader, IValueTaskSource<ReadResult>
    {
        private readonly PipeReader _inner;
        private readonly DownstreamConnection _connection;
        private readonly Action _onInnerCompleted;
        private ManualResetValueTaskSourceCore<ReadResult> _core;
        private ValueTask<ReadResult> _pending;

        public ObservedReader(PipeReader inner, DownstreamConnection connection)
        {
            _inner = inner;
            _connection = connection;
            _onInnerCompleted = OnInnerCompleted;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            ValueTask<ReadResult> read;
            try
            {
                read = _inner.ReadAsync(cancellationToken);
            }
            catch (ConnectionResetException)
            {
                _connection._remoteClosed = true;
                throw;
            }
            if (read.IsCompletedSuccessfully)
            {
                var result = read.Result;
                _connection.ReadObserved(result);
                return new ValueTask<ReadResult>(result);
            }
            _pending = read;
            _core.Reset();
            read.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onInnerCompleted);
            return new ValueTask<ReadResult>(this, _core.Version);
        }

        private void OnInnerCompleted()
        {
            var read = _pending;
            _pending = default;
            ReadResult result;
            try
            {
                result = read.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                if (ex is ConnectionResetException)
                {
                    _connection._remoteClosed = true;
                }
                _core.SetException(ex);
                return;
            }
            _connection.ReadObserved(result);
            _core.SetResult(result);
        }

        ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);

        public override bool TryRead(out ReadResult result)
        {
            if (!_inner.TryRead(out result))
            {
                return false;
            }
            _connection.ReadObserved(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => _inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => _inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => _inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
    }
}
