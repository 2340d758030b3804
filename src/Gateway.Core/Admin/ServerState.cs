using Gateway.Stats;

namespace Gateway.Admin;

/// <summary>
/// The server's Envoy state: <c>server.state</c>, <c>server.live</c>, <c>/ready</c> and <c>/server_info</c>'s
/// state, the health-check failure set by <c>/healthcheck/fail</c>, and the listener drain started by
/// <c>/drain_listeners</c>.
/// </summary>
internal sealed class ServerState : IDisposable
{
    public const int Live = 0;
    public const int Draining = 1;
    public const int PreInitializing = 2;
    public const int Initializing = 3;

    private readonly Gauge _live;
    private readonly Gauge _state;
    private readonly CancellationTokenSource _drain = new();
    private readonly Lock _lock = new();
    private int _lifecycle;
    private volatile bool _healthCheckFailed;
    private volatile bool _listenersStopped;
    private ITimer? _stopTimer;

    public ServerState(StatsStore stats, TimeProvider time)
    {
        _live = stats.Gauge("server.live");
        _state = stats.Gauge("server.state");
        Time = time;
        StartedAt = time.GetUtcNow();
        SetState(Initializing);
    }

    /// <summary>The clock the admin API reports times from.</summary>
    public TimeProvider Time { get; }

    /// <summary>When the server started (<c>/server_info</c> uptime).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The state, one of the constants above: the lifecycle state, or DRAINING while health checks fail.</summary>
    public int State => (int)_state.Value;

    /// <summary>True after <c>/healthcheck/fail</c> until <c>/healthcheck/ok</c>.</summary>
    public bool HealthCheckFailed => _healthCheckFailed;

    /// <summary>True once <c>/drain_listeners</c> stopped the data listeners: new connections are closed at once.</summary>
    public bool ListenersStopped => _listenersStopped;

    /// <summary>Cancelled when a drain starts: open data connections close after their current request.</summary>
    public CancellationToken DrainToken => _drain.Token;

    /// <summary>True once a listener drain started.</summary>
    public bool ListenersDraining => _drain.IsCancellationRequested;

    /// <summary>Sets the lifecycle state (initializing, live, draining on shutdown).</summary>
    public void SetState(int state)
    {
        lock (_lock)
        {
            _lifecycle = state;
            Publish();
        }
    }

    /// <summary><c>/healthcheck/fail</c> (true) and <c>/healthcheck/ok</c> (false).</summary>
    public void FailHealthCheck(bool fail)
    {
        lock (_lock)
        {
            _healthCheckFailed = fail;
            Publish();
        }
    }

    /// <summary>
    /// <c>/drain_listeners</c>: open data connections are asked to close (after their current request),
    /// and the data listeners stop taking connections, at once or, for a graceful drain, after
    /// <paramref name="stopAfter"/>; <paramref name="stopAfter"/> null means never (<c>skip_exit</c>).
    /// </summary>
    public void DrainListeners(TimeSpan? stopAfter)
    {
        lock (_lock)
        {
            if (!_drain.IsCancellationRequested)
            {
                _drain.Cancel();
            }
            if (stopAfter is not { } delay || _listenersStopped || _stopTimer is not null)
            {
                return;
            }
            if (delay <= TimeSpan.Zero)
            {
                _listenersStopped = true;
                return;
            }
            _stopTimer = Time.CreateTimer(static s => ((ServerState)s!)._listenersStopped = true, this, delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Publish()
    {
        // Envoy (Utility::serverState): the init states first, then DRAINING while health checks fail.
        var state = _lifecycle is PreInitializing or Initializing ? _lifecycle
            : _healthCheckFailed ? Draining
            : _lifecycle;
        _state.Set(state);
        _live.Set(state == Live ? 1 : 0);
    }

    public static string Name(int state) => state switch
    {
        Live => "LIVE",
        Draining => "DRAINING",
        PreInitializing => "PRE_INITIALIZING",
        _ => "INITIALIZING",
    };

    public void Dispose()
    {
        _stopTimer?.Dispose();
        _drain.Dispose();
    }
}
