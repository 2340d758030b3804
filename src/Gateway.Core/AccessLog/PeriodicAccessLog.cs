using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Router;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.AccessLog;

/// <summary>
/// The periodic entries of one stream: Envoy's <c>access_log_flush_timer_</c> (conn_manager_impl.cc, AccessLogType
/// <c>DownstreamPeriodic</c>, armed when the stream starts) and <c>upstream_log_flush_timer_</c> (router
/// upstream_request.cc, <c>UpstreamPeriodic</c>, armed when an attempt gets its upstream stream). Both are one-shot timers
/// re-armed after each entry, as Envoy's are, and neither fires once its stream (or attempt) is over.
/// </summary>
/// <remarks>
/// Envoy formats these entries on the stream's own event loop; here the timer runs beside the request's flow, which may be
/// changing what an entry reads (headers, metadata, the stream info). The flow reports its phase: while the request is
/// on its way upstream (<see cref="AwaitResponse"/> to <see cref="ResponseArrived"/>) and while the proxied body streams
/// (<see cref="ResponseStarted"/> to <see cref="AttemptEnded"/>) nothing an entry reads changes, and a tick formats its
/// entry at once, under the lock; the flow takes the same lock to leave those phases, so it waits for an entry being
/// formatted. Any other time a tick only marks its entry pending, and the flow writes it when it next reaches a frozen
/// phase (or the attempt or stream ends). Entries never carry the response trailers (the timer must not create or read
/// them), and an entry made while the request awaits its response has no response headers (the forwarder is copying
/// them then), which is what Envoy's entry has before the response.
/// </remarks>
internal sealed class PeriodicAccessLog
{
    private enum Phase
    {
        /// <summary>The flow may be changing what an entry reads: ticks are held.</summary>
        Mutating,

        /// <summary>The request went upstream; the response has not come (its headers may be being copied: not read).</summary>
        AwaitingResponse,

        /// <summary>The proxied response's headers were sent (read-only); its body streams.</summary>
        Streaming,

        /// <summary>The stream is over.</summary>
        Ended,
    }

    private readonly Lock _lock = new();
    private readonly RequestStreamInfo _info;
    private readonly ListenerRuntime _listener;
    private readonly TimeProvider _time;
    private readonly TimeSpan _upstreamInterval;
    private readonly TimeSpan _downstreamInterval;
    private readonly ITimer? _downstreamTimer;
    private ITimer? _upstreamTimer;
    private AttemptTick? _upstreamTick;
    private UpstreamRequest? _attempt;
    private Phase _phase;
    private bool _downstreamPending;
    private bool _upstreamPending;
    private bool _responseStarted;

    private PeriodicAccessLog(RequestStreamInfo info, ListenerRuntime listener, TimeProvider time)
    {
        _info = info;
        _listener = listener;
        _time = time;
        var plan = listener.ConnectionManager;
        _upstreamInterval = plan.UpstreamLogFlushInterval ?? Timeout.InfiniteTimeSpan;
        if (plan.AccessLogFlushInterval is { } interval)
        {
            _downstreamInterval = interval;
            _downstreamTimer = time.CreateTimer(static state => ((PeriodicAccessLog)state!).OnDownstreamTick(), this, interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Starts the stream's periodic entries (its connection manager has an interval: <c>HasPeriodicLogs</c>): the downstream
    /// timer from now, and the response body watched for the moment its headers are sent.
    /// </summary>
    public static void Start(HttpContext context, RequestStreamInfo info, ListenerRuntime listener, TimeProvider time)
    {
        var periodic = new PeriodicAccessLog(info, listener, time);
        info.Periodic = periodic;
        if (context.Features.Get<IHttpResponseBodyFeature>() is { } body)
        {
            context.Features.Set<IHttpResponseBodyFeature>(new WatchedResponseBody(body, periodic));
        }
    }

    /// <summary>
    /// The attempt's request is handed to its upstream connection (the router's request transform, the point Envoy's pool
    /// is ready): its upstream timer starts, and what entries read stays as it is until the response comes.
    /// </summary>
    public void AwaitResponse(UpstreamRequest attempt)
    {
        lock (_lock)
        {
            _attempt = attempt;
            if (_upstreamInterval != Timeout.InfiniteTimeSpan)
            {
                _upstreamTimer?.Dispose();
                _upstreamPending = false;
                // The timer's state names its attempt: a late tick of an earlier attempt's timer finds another attempt and does nothing.
                _upstreamTick = new AttemptTick(this);
                _upstreamTimer = _time.CreateTimer(static state => ((AttemptTick)state!).Fire(), _upstreamTick, _upstreamInterval, Timeout.InfiniteTimeSpan);
            }
            EnterFrozen(Phase.AwaitingResponse);
        }
    }

    /// <summary>The upstream response came: the router's response transform and the encoders change the response from here.</summary>
    public void ResponseArrived() => EnterMutating();

    /// <summary>The attempt is over (its response copied or failed): the flow goes on changing the stream; its upstream timer stops.</summary>
    public void AttemptEnded()
    {
        lock (_lock)
        {
            _phase = Phase.Mutating;
            _upstreamTimer?.Dispose();
            _upstreamTimer = null;
            _upstreamTick = null;
            if (_upstreamPending && _attempt is not null)
            {
                // A tick the flow held back: written before the attempt's UpstreamEnd entry.
                _upstreamPending = false;
                WriteUpstream(_attempt, responseHeaders: true);
            }
            _attempt = null;
        }
    }

    /// <summary>
    /// The stream is over (before its <c>DownstreamEnd</c> entry): a held-back tick is written, and no timer fires again
    /// (Envoy's timer callback skips a stream whose request is complete).
    /// </summary>
    public void End()
    {
        lock (_lock)
        {
            _phase = Phase.Ended;
            _downstreamTimer?.Dispose();
            _upstreamTimer?.Dispose();
            _upstreamTimer = null;
            if (_downstreamPending)
            {
                _downstreamPending = false;
                WriteDownstream(responseHeaders: true);
            }
        }
    }

    /// <summary>The response body's first write went out during an attempt: the response headers are sent and read-only.</summary>
    private void OnResponseWritten()
    {
        _responseStarted = true;
        if (_attempt is null)
        {
            // A local reply or a body the encoders buffered: the flow goes on changing the stream after it.
            return;
        }
        lock (_lock)
        {
            if (_phase == Phase.Mutating && _attempt is not null)
            {
                EnterFrozen(Phase.Streaming);
            }
        }
    }

    private void EnterMutating()
    {
        lock (_lock)
        {
            if (_phase != Phase.Ended)
            {
                _phase = Phase.Mutating;
            }
        }
    }

    /// <summary>Under the lock, on the request's flow: the phase is frozen from here; held-back ticks are written now.</summary>
    private void EnterFrozen(Phase phase)
    {
        _phase = phase;
        if (_downstreamPending)
        {
            _downstreamPending = false;
            WriteDownstream(responseHeaders: true);
            _downstreamTimer!.Change(_downstreamInterval, Timeout.InfiniteTimeSpan);
        }
        if (_upstreamPending && _attempt is not null && _upstreamTimer is not null)
        {
            _upstreamPending = false;
            WriteUpstream(_attempt, responseHeaders: true);
            _upstreamTimer.Change(_upstreamInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDownstreamTick()
    {
        lock (_lock)
        {
            if (_phase == Phase.Ended)
            {
                return;
            }
            if (_phase == Phase.Mutating || !TryOnTimer(static self => self.WriteDownstream(self._phase == Phase.Streaming)))
            {
                _downstreamPending = true;
                return;
            }
            _downstreamTimer!.Change(_downstreamInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnUpstreamTick(AttemptTick tick)
    {
        lock (_lock)
        {
            if (_phase == Phase.Ended || !ReferenceEquals(_upstreamTick, tick) || _attempt is null || _upstreamTimer is null)
            {
                return;
            }
            if (_phase == Phase.Mutating || !TryOnTimer(static self => self.WriteUpstream(self._attempt!, self._phase == Phase.Streaming)))
            {
                _upstreamPending = true;
                return;
            }
            _upstreamTimer.Change(_upstreamInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Writes an entry on the timer's thread. The frozen phases leave nothing to change under it; should a part of the
    /// request outside them still move (a feature set while an upstream error is reported), the entry waits for the flow
    /// instead of failing the timer.
    /// </summary>
    private bool TryOnTimer(Action<PeriodicAccessLog> write)
    {
        try
        {
            write(this);
            return true;
        }
        catch (Exception)
        {
            // Never thrown into the timer (that would end the process): the flow writes the entry, and fails as it would.
            return false;
        }
    }

    /// <summary>Envoy's filter_manager_.log(DownstreamPeriodic): the downstream loggers, the request as it stands.</summary>
    private void WriteDownstream(bool responseHeaders)
    {
        var http = _info.HttpContext;
        AccessLogger.LogAll(_listener.AccessLogs, new AccessLogContext(_info, AccessLogType.DownstreamPeriodic, http.Request.Headers, responseHeaders ? http.Response.Headers : null, null));
    }

    /// <summary>Envoy's upstreamLog(UpstreamPeriodic): the upstream loggers, with the attempt's response code so far (0 before its response).</summary>
    private void WriteUpstream(UpstreamRequest attempt, bool responseHeaders)
    {
        var http = _info.HttpContext;
        _info.BeginUpstreamLog(attempt.ResponseStatus);
        try
        {
            AccessLogger.LogAll(_listener.UpstreamLogs, new AccessLogContext(_info, AccessLogType.UpstreamPeriodic, http.Request.Headers, responseHeaders ? http.Response.Headers : null, null));
        }
        finally
        {
            _info.EndUpstreamLog();
        }
    }

    /// <summary>An attempt's upstream timer state.</summary>
    private sealed class AttemptTick(PeriodicAccessLog owner)
    {
        public void Fire() => owner.OnUpstreamTick(this);
    }

    /// <summary>The response body as the connection manager found it, watched for its first write (the response headers going out).</summary>
    private sealed class WatchedResponseBody(IHttpResponseBodyFeature inner, PeriodicAccessLog periodic) : ForwardingResponseBody(inner)
    {
        protected override async Task OnStartAsync(CancellationToken cancellationToken)
        {
            await Inner.StartAsync(cancellationToken).ConfigureAwait(false);
            Started();
        }

        public override void Flush()
        {
            base.Flush();
            Started();
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await base.FlushAsync(cancellationToken).ConfigureAwait(false);
            Started();
        }

        protected override void OnWritten(int bytes) => Started();

        private void Started()
        {
            if (!periodic._responseStarted)
            {
                periodic.OnResponseWritten();
            }
        }
    }
}
