using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;

namespace Gateway.Listeners;

/// <summary>
/// Who closed one downstream connection (Envoy's <c>downstream_cx_destroy_local</c> / <c>_remote</c>), and
/// whether a request was in flight then (<c>_active_rq</c>). The client closed it when the server's reads
/// saw its FIN or reset, or when a request was aborted that the gateway did not abort itself. With
/// <see cref="CountsBytes"/> (only for a listener access log that prints them) it also counts the connection's bytes
/// as Envoy's connection stream info does: every byte read from and written to the transport. It also carries the
/// connection's drain (<c>max_connection_duration</c> and <c>drain_timeout</c>): whether the client sent anything, the
/// requests in flight and whether the drain has started.
/// </summary>
internal sealed class DownstreamConnection
{
    private volatile bool _remoteClosed;
    private volatile bool _localAbort;
    private volatile bool _activeRequest;
    private volatile bool _receivedData;
    private volatile bool _draining;
    private int _inFlight;
    // Envoy numbers connections from 0 with one process-wide counter (ConnectionImpl::next_global_id_).
    private static long s_nextId = -1;
    private readonly ByteCounts? _bytes;

    /// <summary>Creates the tracker; <paramref name="countBytes"/> adds the byte counts (and a writer wrapper).</summary>
    public DownstreamConnection(bool countBytes = false) => _bytes = countBytes ? new ByteCounts() : null;

    /// <summary>
    /// The filter chain chosen for the connection at accept, kept for its life as Envoy keeps a connection on its chain;
    /// when a configuration change kept the chain's definition and only rebuilt its routes or clusters (RDS, CDS), the
    /// rebuilt one (<see cref="ListenerRuntime.Successor"/>), as Envoy's streams read the current route table.
    /// </summary>
    public ListenerRuntime? Chain
    {
        get
        {
            var chain = _chain;
            if (chain?.Successor is null)
            {
                return chain;
            }
            while (chain.Successor is { } next)
            {
                chain = next;
            }
            _chain = chain;
            return chain;
        }
        set => _chain = value;
    }

    private ListenerRuntime? _chain;

    /// <summary>The connection's number (<c>%CONNECTION_ID%</c>).</summary>
    public long Id { get; } = Interlocked.Increment(ref s_nextId);

    /// <summary>True when the connection's bytes are counted.</summary>
    public bool CountsBytes => _bytes is not null;

    /// <summary>Bytes read from the client so far (0 unless <see cref="CountsBytes"/>).</summary>
    public long BytesReceived => _bytes is null ? 0 : Interlocked.Read(ref _bytes.Received);

    /// <summary>Bytes written to the client so far (0 unless <see cref="CountsBytes"/>).</summary>
    public long BytesSent => _bytes is null ? 0 : Interlocked.Read(ref _bytes.Sent);

    /// <summary>The client closed the connection first.</summary>
    public bool RemoteClosed => _remoteClosed;

    /// <summary>A request was in flight when the connection went.</summary>
    public bool ActiveRequest => _activeRequest;

    private int _requests;

    /// <summary>Counts one more request on the connection (HTTP/2 streams may start at once); returns how many so far.</summary>
    public int NextRequest() => Interlocked.Increment(ref _requests);

    /// <summary>Wraps the transport so the server's reads report the client's FIN or reset.</summary>
    public IDuplexPipe Observe(IDuplexPipe transport)
        => new ObservedPipe(new ObservedReader(transport.Input, this, _bytes), _bytes is null ? transport.Output : new CountingWriter(transport.Output, _bytes));

    /// <summary>The gateway aborts (or aborted) the connection under a request (a reset after the response started).</summary>
    public void AbortingLocally()
    {
        _localAbort = true;
        _activeRequest = true;
    }

    /// <summary>The client closed the connection while the gateway waited for it to (<c>delayed_close_timeout</c>).</summary>
    public void ClosedByPeer() => _remoteClosed = true;

    /// <summary>A request ended because its connection went away (its RequestAborted fired).</summary>
    public void RequestAborted()
    {
        _activeRequest = true;
        if (!_localAbort)
        {
            _remoteClosed = true;
        }
    }

    /// <summary>The client sent at least one byte (Envoy's connection manager has a codec then).</summary>
    public bool ReceivedData => _receivedData;

    /// <summary>The connection is draining (<c>drain_timeout</c> running): every request that starts now ends it.</summary>
    public bool Draining => _draining;

    /// <summary>Starts the connection's drain.</summary>
    public void StartDraining() => _draining = true;

    /// <summary>Requests in flight (counted only for a connection manager with <c>max_connection_duration</c>).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>A request started on the connection.</summary>
    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    /// <summary>A request counted by <see cref="RequestStarted"/> ended.</summary>
    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    private void ReadObserved(in ReadResult result)
    {
        if (result.IsCompleted && !result.IsCanceled)
        {
            _remoteClosed = true;
        }
        if (!_receivedData && !result.Buffer.IsEmpty)
        {
            _receivedData = true;
        }
    }

    /// <summary>
    /// The counts of a connection whose bytes are counted, apart so an uncounted connection carries none of it. A read's
    /// new bytes are its buffer's length less what Kestrel left unconsumed of the last one (a pipe hands those again).
    /// </summary>
    private sealed class ByteCounts
    {
        public long Received;
        public long Sent;
        public ReadOnlySequence<byte> Last;
        public long Unconsumed;
    }

    /// <summary>The transport's writer, counting what Kestrel writes (only with <see cref="CountsBytes"/>).</summary>
    private sealed class CountingWriter(PipeWriter inner, ByteCounts counts) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            Interlocked.Add(ref counts.Sent, bytes);
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref counts.Sent, source.Length);
            return inner.WriteAsync(source, cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
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
        private readonly ByteCounts? _bytes;
        private ValueTask<ReadResult> _pending;

        public ObservedReader(PipeReader inner, DownstreamConnection connection, ByteCounts? bytes)
        {
            _inner = inner;
            _connection = connection;
            _bytes = bytes;
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
                Observed(result);
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
            Observed(result);
            _core.SetResult(result);
        }

        private void Observed(in ReadResult result)
        {
            _connection.ReadObserved(result);
            if (_bytes is { } bytes)
            {
                var length = result.Buffer.Length;
                Interlocked.Add(ref bytes.Received, length - bytes.Unconsumed);
                bytes.Last = result.Buffer;
                bytes.Unconsumed = length;
            }
        }

        private void Consumed(SequencePosition consumed)
        {
            if (_bytes is { } bytes)
            {
                bytes.Unconsumed = bytes.Last.Slice(consumed).Length;
                bytes.Last = default;
            }
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
            Observed(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            Consumed(consumed);
            _inner.AdvanceTo(consumed);
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            Consumed(consumed);
            _inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => _inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => _inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
    }
}
