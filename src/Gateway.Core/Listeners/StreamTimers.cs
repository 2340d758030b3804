namespace Gateway.Listeners;

/// <summary>Which of a stream's timers ended it.</summary>
internal enum StreamTimer
{
    /// <summary>None (yet).</summary>
    None,

    /// <summary>Envoy's stream_idle_timer_: <c>stream_idle_timeout</c> or the route's <c>idle_timeout</c>.</summary>
    Idle,

    /// <summary>Envoy's max_stream_duration_timer_: the route's <c>max_stream_duration</c> (or <c>grpc-timeout</c>).</summary>
    Duration,

    /// <summary>Envoy's request_timer_: <c>request_timeout</c>, until the request has arrived or the response started.</summary>
    Request,
}

/// <summary>
/// The timers of one stream (Envoy's ActiveStream timers) behind one cancellation token, which becomes the request's
/// <c>RequestAborted</c>: the client going away or the first timer to fire cancels it, and <see cref="Fired"/> says which
/// timer it was. Made only for a stream that has a timer; each is a <see cref="ITimer"/> of the gateway's clock, so
/// restarting the idle timer on activity is a <see cref="ITimer.Change"/>, not a new allocation.
/// </summary>
internal sealed class StreamTimers : IDisposable
{
    private static readonly TimerCallback s_onIdle = static state => ((StreamTimers)state!).Fire(StreamTimer.Idle);
    private static readonly TimerCallback s_onDuration = static state => ((StreamTimers)state!).Fire(StreamTimer.Duration);
    private static readonly TimerCallback s_onRequest = static state => ((StreamTimers)state!).Fire(StreamTimer.Request);

    private readonly CancellationTokenSource _stream = new();
    private readonly CancellationTokenRegistration _client;
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer? _idle;
    private readonly ITimer? _duration;
    private readonly ITimer? _request;
    private int _fired;

    /// <param name="time">The gateway's clock.</param>
    /// <param name="idle">The idle timeout; zero: none.</param>
    /// <param name="duration">What is left of the stream's duration limit, or null for none.</param>
    /// <param name="request">What is left of <c>request_timeout</c>; zero: none.</param>
    /// <param name="clientAborted">The request's own token (the client went away).</param>
    public StreamTimers(TimeProvider time, TimeSpan idle, TimeSpan? duration, TimeSpan request, CancellationToken clientAborted)
    {
        _idleTimeout = idle;
        _client = clientAborted.UnsafeRegister(static state => ((StreamTimers)state!).Cancel(), this);
        if (idle > TimeSpan.Zero)
        {
            _idle = time.CreateTimer(s_onIdle, this, idle, Timeout.InfiniteTimeSpan);
        }
        if (duration is { } limit)
        {
            _duration = time.CreateTimer(s_onDuration, this, limit, Timeout.InfiniteTimeSpan);
        }
        if (request > TimeSpan.Zero)
        {
            _request = time.CreateTimer(s_onRequest, this, request, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Cancelled when the client goes away or a timer fires.</summary>
    public CancellationToken Token => _stream.Token;

    /// <summary>The timer that fired first, or <see cref="StreamTimer.None"/>.</summary>
    public StreamTimer Fired => (StreamTimer)Volatile.Read(ref _fired);

    /// <summary>Envoy's resetIdleTimer: headers or body went either way.</summary>
    public void OnActivity() => _idle?.Change(_idleTimeout, Timeout.InfiniteTimeSpan);

    /// <summary>The request has arrived in full, or the response started: <c>request_timeout</c> no longer applies.</summary>
    public void DisarmRequestTimer() => _request?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private void Fire(StreamTimer timer)
    {
        if (Interlocked.CompareExchange(ref _fired, (int)timer, (int)StreamTimer.None) == (int)StreamTimer.None)
        {
            Cancel();
        }
    }

    private void Cancel()
    {
        try
        {
            _stream.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream ended as the timer fired.
        }
    }

    public void Dispose()
    {
        _idle?.Dispose();
        _duration?.Dispose();
        _request?.Dispose();
        _client.Dispose();
        _stream.Dispose();
    }
}
