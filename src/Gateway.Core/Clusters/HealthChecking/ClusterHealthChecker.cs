using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Envoy's HealthCheckerImplBase for one cluster: follows the cluster's members and runs one
/// <see cref="HostHealthCheckSession"/> per host. A new host starts as <c>/failed_active_hc/pending_active_hc</c>
/// (Envoy does the same for hosts of a health-checked cluster), so it gets traffic only after its first
/// check passed (or through panic mode).
/// </summary>
internal sealed class ClusterHealthChecker : IAsyncDisposable
{
    private readonly Dictionary<UpstreamHost, HostHealthCheckSession> _sessions = [];
    private readonly List<Task> _stopping = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();
    private bool _started;
    private bool _stopped;

    // The first membership is the cluster's initial set; hosts after it are "new" for ignore_new_hosts_until_first_hc.
    private bool _sawInitialSet;

    public ClusterHealthChecker(ClusterRuntime cluster, HealthCheckPlan plan, HealthCheckStats stats, TimeProvider timeProvider, ILogger logger)
    {
        Cluster = cluster;
        Plan = plan;
        Stats = stats;
        TimeProvider = timeProvider;
        Logger = logger;
    }

    public ClusterRuntime Cluster { get; }

    public HealthCheckPlan Plan { get; }

    public HealthCheckStats Stats { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    /// <summary>Cancelled when the checker stops.</summary>
    public CancellationToken Stopping => _disposed.Token;

    /// <summary>Starts checking the current members and follows membership changes.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_started || _stopped)
            {
                return;
            }
            _started = true;
        }
        Cluster.MembersChanged += OnMembersChanged;
        OnMembersChanged(Cluster);
    }

    /// <summary>
    /// Completes once every host the cluster had when this was asked has its first check result:
    /// Envoy's cluster warming, which holds the cluster's initialization until then.
    /// </summary>
    public Task InitialChecks
    {
        get
        {
            lock (_lock)
            {
                return Task.WhenAll(_sessions.Values.Select(s => s.FirstCheck));
            }
        }
    }

    /// <summary>True while <paramref name="session"/> is the session of its host (a removed and re-added host gets a new one).</summary>
    internal bool Owns(HostHealthCheckSession session)
    {
        lock (_lock)
        {
            return _sessions.TryGetValue(session.Host, out var current) && ReferenceEquals(current, session);
        }
    }

    private void OnMembersChanged(ClusterRuntime cluster)
    {
        var members = cluster.Members;
        var started = new List<HostHealthCheckSession>();
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }
            var current = new HashSet<UpstreamHost>(members);
            foreach (var (host, session) in _sessions.ToList())
            {
                if (!current.Contains(host))
                {
                    _sessions.Remove(host);
                    _stopping.Add(session.StopAsync());
                }
            }
            var warm = _sawInitialSet && Cluster.Plan is { IgnoreNewHostsUntilFirstHc: true };
            _sawInitialSet = true;
            foreach (var host in members)
            {
                if (!_sessions.ContainsKey(host))
                {
                    // Before the session marks it pending, so that flag already excludes it.
                    host.WaitsForFirstHc = warm;
                    var session = new HostHealthCheckSession(this, host);
                    _sessions[host] = session;
                    started.Add(session);
                }
            }
            _stopping.RemoveAll(t => t.IsCompleted);
        }
        foreach (var session in started)
        {
            session.Start();
        }
    }

    /// <summary>Stops every session; the hosts lose the flags active health checking gave them.</summary>
    public async ValueTask DisposeAsync()
    {
        Cluster.MembersChanged -= OnMembersChanged;
        List<Task> tasks;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            var sessions = _sessions.Values.ToList();
            _sessions.Clear();
            tasks = [.. _stopping, .. sessions.Select(s => s.StopAsync())];
        }
        await _disposed.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tasks).ConfigureAwait(false);
        _disposed.Dispose();
    }

    /// <summary>
    /// Envoy's HealthCheckerImplBase::interval: the wait after a check whose result was <paramref name="healthy"/>.
    /// Until the cluster has had traffic, the no-traffic intervals apply.
    /// </summary>
    internal TimeSpan NextInterval(bool healthy, HealthTransition transition)
    {
        TimeSpan baseTime;
        if (Cluster.Stats.UpstreamCxTotal.Used || Cluster.Stats.UpstreamCxTotal.Value > 0)
        {
            baseTime = healthy
                ? (transition == HealthTransition.ChangePending ? Plan.HealthyEdgeInterval : Plan.Interval)
                : (transition == HealthTransition.ChangePending ? Plan.UnhealthyEdgeInterval : Plan.UnhealthyInterval);
        }
        else
        {
            baseTime = healthy && transition != HealthTransition.ChangePending ? Plan.NoTrafficHealthyInterval : Plan.NoTrafficInterval;
        }
        return WithJitter(baseTime, Plan.IntervalJitter);
    }

    /// <summary>Envoy's intervalWithJitter: adds random shares of interval_jitter_percent and interval_jitter; at least 1 ms.</summary>
    internal TimeSpan WithJitter(TimeSpan baseTime, TimeSpan jitter)
    {
        var ms = (long)baseTime.TotalMilliseconds;
        var percentShare = Plan.IntervalJitterPercent * ms / 100;
        if (percentShare > 0)
        {
            ms += Random.Shared.NextInt64(percentShare);
        }
        var jitterMs = (long)jitter.TotalMilliseconds;
        if (jitterMs > 0)
        {
            ms += Random.Shared.NextInt64(jitterMs);
        }
        return TimeSpan.FromMilliseconds(Math.Max(1, ms));
    }
}

/// <summary>Envoy's HealthTransition: what a check did to the host's health.</summary>
internal enum HealthTransition
{
    /// <summary>The host's health did not change.</summary>
    Unchanged,

    /// <summary>The host's health changed.</summary>
    Changed,

    /// <summary>The check disagrees with the host's health, but a threshold delays the change.</summary>
    ChangePending,
}
