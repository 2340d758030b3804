using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Clusters.OutlierDetection;

/// <summary>
/// Envoy's outlier detector (source/common/upstream/outlier_detection_impl.cc, non-split mode) for one
/// cluster. Consecutive 5xx and consecutive gateway failures are detected inline, on the request that
/// crosses the threshold; success rate and failure percentage are evaluated on every <c>interval</c> tick,
/// which also returns hosts whose ejection time has passed. Ejecting sets the host's
/// <see cref="HostHealthFlags.FailedOutlierCheck"/>, which makes the cluster recompute YARP's available hosts.
/// </summary>
internal sealed partial class OutlierDetector : IUpstreamOutcomeObserver, IDisposable
{
    private readonly ClusterRuntime _cluster;
    private readonly OutlierDetectionStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly ITimer _timer;

    // Guards everything below and the monitors' non-counter state. Taken on the interval tick, on
    // membership changes and when a request crosses a consecutive-error threshold, never per request.
    private readonly Lock _lock = new();
    private readonly Dictionary<UpstreamHost, OutlierHostMonitor> _monitors = [];
    private int _ejectionsActive;
    private double _successRateAverage = -1;
    private double _successRateEjectionThreshold = -1;
    private bool _disposed;

    public OutlierDetector(ClusterRuntime cluster, OutlierDetectionPlan plan, OutlierDetectionStats stats, TimeProvider time, ILogger logger, Random? random = null)
    {
        _cluster = cluster;
        Plan = plan;
        _stats = stats;
        _time = time;
        _logger = logger;
        _random = random ?? Random.Shared;
        lock (_lock)
        {
            SyncMembers(cluster.Members);
        }
        cluster.MembersChanged += OnMembersChanged;
        _timer = time.CreateTimer(static state => ((OutlierDetector)state!).OnIntervalTimer(), this, plan.Interval, Timeout.InfiniteTimeSpan);
    }

    public OutlierDetectionPlan Plan { get; }

    /// <summary>Mean success rate of the hosts evaluated in the last interval, or -1 (admin <c>/clusters</c>).</summary>
    public double SuccessRateAverage => Volatile.Read(ref _successRateAverage);

    /// <summary>The success rate below which hosts were outliers in the last interval, or -1.</summary>
    public double SuccessRateEjectionThreshold => Volatile.Read(ref _successRateEjectionThreshold);

    /// <summary>Hosts ejected now.</summary>
    public int EjectionsActive
    {
        get
        {
            lock (_lock)
            {
                return _ejectionsActive;
            }
        }
    }

    /// <summary>The host's success rate of the last interval (percent) if this detector computed one, else -1.</summary>
    public static double SuccessRateOf(UpstreamHost host, OutlierDetector? detector)
        => detector is not null && host.OutlierMonitor is { } monitor && ReferenceEquals(monitor.Detector, detector) ? monitor.SuccessRate : -1;

    /// <summary>Request path: one field read, then the host monitor's interlocked counters.</summary>
    public void OnRequestEnded(UpstreamHost host, int status, bool timedOut)
    {
        if (host.OutlierMonitor is { } monitor && ReferenceEquals(monitor.Detector, this))
        {
            monitor.PutResult(status, timedOut);
        }
    }

    /// <summary>
    /// For active health checking (<c>successful_active_health_check_uneject_host</c>, default true): a
    /// passing check returns a host that outlier detection ejected, unless active health checking itself
    /// failed it. Returns true when the host was returned.
    /// </summary>
    public bool OnActiveHealthCheckSucceeded(UpstreamHost host)
    {
        if (!Plan.SuccessfulActiveHealthCheckUnejectHost)
        {
            return false;
        }
        lock (_lock)
        {
            if (_disposed || !_monitors.TryGetValue(host, out var monitor)
                || (host.HealthFlags & HostHealthFlags.FailedActiveHc) != 0 || !monitor.IsEjected)
            {
                return false;
            }
            Uneject(monitor, _time.GetTimestamp());
            return true;
        }
    }

    /// <summary>A monitor's consecutive-error counter reached its threshold (called on the request that did it).</summary>
    internal void OnConsecutiveError(OutlierHostMonitor monitor, EjectionType type)
    {
        lock (_lock)
        {
            if (_disposed || !_monitors.TryGetValue(monitor.Host, out var current) || !ReferenceEquals(current, monitor) || monitor.IsEjected)
            {
                return;
            }
            _stats.Detected(type);
            Eject(monitor, type, _time.GetTimestamp());
            // Reset so a new run of errors is detected even without a success in between (Envoy does the same).
            if (type == EjectionType.Consecutive5xx)
            {
                _stats.EjectionsConsecutive5xx.Increment();
                monitor.ResetConsecutive5xx();
            }
            else
            {
                monitor.ResetConsecutiveGatewayFailure();
            }
        }
    }

    private void Eject(OutlierHostMonitor monitor, EjectionType type, long now)
    {
        // Envoy's ejectHost: allowed while (ejected + 1) / hosts stays within max_ejection_percent.
        var maxPercent = Math.Min(100u, Plan.MaxEjectionPercent);
        var ejectedPercent = 100.0 * (_ejectionsActive + 1) / _monitors.Count;
        var allowed = ejectedPercent <= maxPercent || (Plan.AlwaysEjectOneHost && _ejectionsActive == 0);
        if (!allowed)
        {
            _stats.EjectionsOverflow.Increment();
            LogOverflow(_logger, _cluster.Name, monitor.Host.Address, TypeName(type));
            return;
        }
        if (type is EjectionType.Consecutive5xx or EjectionType.SuccessRate)
        {
            _stats.EjectionsTotal.Increment();
        }
        if (!Enforce(type))
        {
            LogDetected(_logger, _cluster.Name, monitor.Host.Address, TypeName(type));
            return;
        }
        _ejectionsActive++;
        _stats.EjectionsActive.Increment();
        _stats.Enforced(type);
        monitor.NumEjections++;
        monitor.LastEjection = now;
        var jitterMs = (long)Plan.MaxEjectionTimeJitter.TotalMilliseconds;
        monitor.Jitter = jitterMs > 0 ? TimeSpan.FromMilliseconds(_random.NextInt64(jitterMs + 1)) : TimeSpan.Zero;
        if (monitor.EjectTimeBackoff * Plan.BaseEjectionTime < Plan.MaxEjectionTime + Plan.BaseEjectionTime)
        {
            monitor.EjectTimeBackoff++;
        }
        monitor.Host.SetHealthFlag(HostHealthFlags.FailedOutlierCheck);
        LogEjected(_logger, _cluster.Name, monitor.Host.Address, TypeName(type), monitor.NumEjections, EjectionTime(monitor));
    }

    /// <summary>How long the current ejection lasts: base × backoff, capped at max_ejection_time, plus jitter.</summary>
    private TimeSpan EjectionTime(OutlierHostMonitor monitor)
    {
        var time = Plan.BaseEjectionTime * monitor.EjectTimeBackoff;
        return (time < Plan.MaxEjectionTime ? time : Plan.MaxEjectionTime) + monitor.Jitter;
    }

    /// <summary>The enforcing_* percentage of the detection type decides (runtime featureEnabled: random % 100 &lt; percent).</summary>
    private bool Enforce(EjectionType type)
    {
        var percent = type switch
        {
            EjectionType.Consecutive5xx => Plan.EnforcingConsecutive5xx,
            EjectionType.ConsecutiveGatewayFailure => Plan.EnforcingConsecutiveGatewayFailure,
            EjectionType.SuccessRate => Plan.EnforcingSuccessRate,
            _ => Plan.EnforcingFailurePercentage,
        };
        return percent >= 100 || (percent > 0 && _random.Next(100) < percent);
    }

    private void Uneject(OutlierHostMonitor monitor, long now)
    {
        _ejectionsActive--;
        _stats.EjectionsActive.Decrement();
        // Fresh counters, so a host close to a threshold before its ejection is not ejected again on a few errors.
        monitor.ResetConsecutive5xx();
        monitor.ResetConsecutiveGatewayFailure();
        monitor.LastUnejection = now;
        monitor.Host.ClearHealthFlag(HostHealthFlags.FailedOutlierCheck);
        LogUnejected(_logger, _cluster.Name, monitor.Host.Address, monitor.NumEjections);
    }

    private void OnIntervalTimer()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            var now = _time.GetTimestamp();
            foreach (var monitor in _monitors.Values)
            {
                if (monitor.IsEjected && monitor.LastEjection is { } ejectedAt && _time.GetElapsedTime(ejectedAt, now) >= EjectionTime(monitor))
                {
                    Uneject(monitor, now);
                }
                monitor.SwapBuckets();
                monitor.SuccessRate = -1;
            }
            ProcessSuccessRateEjections(now);
            // A host that stayed in for a whole interval since its return earns one step of its backoff back.
            foreach (var monitor in _monitors.Values)
            {
                if (!monitor.IsEjected && monitor.LastUnejection is { } returnedAt
                    && _time.GetElapsedTime(returnedAt, now) >= Plan.Interval && monitor.EjectTimeBackoff > 0)
                {
                    monitor.EjectTimeBackoff--;
                }
            }
            _timer.Change(Plan.Interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Envoy's processSuccessRateEjections for external-origin results (the only kind in non-split mode).</summary>
    private void ProcessSuccessRateEjections(long now)
    {
        Volatile.Write(ref _successRateAverage, -1);
        Volatile.Write(ref _successRateEjectionThreshold, -1);
        var hostCount = (uint)_monitors.Count;
        if (hostCount < Plan.SuccessRateMinimumHosts && hostCount < Plan.FailurePercentageMinimumHosts)
        {
            return;
        }
        var successRateHosts = new List<(OutlierHostMonitor Monitor, double Rate)>(_monitors.Count);
        var failurePercentageHosts = new List<(OutlierHostMonitor Monitor, double Rate)>(_monitors.Count);
        var sum = 0.0;
        var minimumVolume = Math.Min(Plan.SuccessRateRequestVolume, Plan.FailurePercentageRequestVolume);
        foreach (var monitor in _monitors.Values)
        {
            if (monitor.IsEjected || monitor.LastIntervalSuccessRate() is not var (rate, volume))
            {
                continue;
            }
            if (volume >= minimumVolume)
            {
                monitor.SuccessRate = rate;
            }
            if (volume >= Plan.SuccessRateRequestVolume)
            {
                successRateHosts.Add((monitor, rate));
                sum += rate;
            }
            if (volume >= Plan.FailurePercentageRequestVolume)
            {
                failurePercentageHosts.Add((monitor, rate));
            }
        }

        if (successRateHosts.Count > 0 && successRateHosts.Count >= Plan.SuccessRateMinimumHosts)
        {
            // threshold = mean - factor × population stdev (e.g. {50,100,100,100,100}: mean 90, stdev 20, 1.9 → 52).
            var mean = sum / successRateHosts.Count;
            var variance = 0.0;
            foreach (var (_, rate) in successRateHosts)
            {
                variance += (rate - mean) * (rate - mean);
            }
            var stdev = Math.Sqrt(variance / successRateHosts.Count);
            var threshold = mean - Plan.SuccessRateStdevFactor / 1000.0 * stdev;
            Volatile.Write(ref _successRateAverage, mean);
            Volatile.Write(ref _successRateEjectionThreshold, threshold);
            foreach (var (monitor, rate) in successRateHosts)
            {
                if (rate < threshold)
                {
                    _stats.EjectionsSuccessRate.Increment();
                    _stats.Detected(EjectionType.SuccessRate);
                    Eject(monitor, EjectionType.SuccessRate, now);
                }
            }
        }

        if (failurePercentageHosts.Count > 0 && failurePercentageHosts.Count >= Plan.FailurePercentageMinimumHosts)
        {
            foreach (var (monitor, rate) in failurePercentageHosts)
            {
                // A host the success-rate pass just ejected is not ejected twice.
                if (100.0 - rate >= Plan.FailurePercentageThreshold && !monitor.IsEjected)
                {
                    _stats.Detected(EjectionType.FailurePercentage);
                    Eject(monitor, EjectionType.FailurePercentage, now);
                }
            }
        }
    }

    private void OnMembersChanged(ClusterRuntime cluster)
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                SyncMembers(cluster.Members);
            }
        }
    }

    /// <summary>New hosts get a monitor; hosts that left lose theirs and their ejection (Envoy's member update callback).</summary>
    private void SyncMembers(IReadOnlyList<UpstreamHost> members)
    {
        var current = new HashSet<UpstreamHost>(members);
        foreach (var (host, monitor) in _monitors.ToArray())
        {
            if (!current.Contains(host))
            {
                if (monitor.IsEjected)
                {
                    _ejectionsActive--;
                    _stats.EjectionsActive.Decrement();
                    host.ClearHealthFlag(HostHealthFlags.FailedOutlierCheck);
                }
                if (ReferenceEquals(host.OutlierMonitor, monitor))
                {
                    host.OutlierMonitor = null;
                }
                _monitors.Remove(host);
            }
        }
        foreach (var host in members)
        {
            if (!_monitors.ContainsKey(host))
            {
                var monitor = new OutlierHostMonitor(this, host);
                _monitors[host] = monitor;
                host.OutlierMonitor = monitor;
            }
        }
    }

    /// <summary>
    /// Stops the detector: no more ticks or detections. With <paramref name="returnEjectedHosts"/> (the
    /// detector is being replaced or removed) every host it ejected is returned; at shutdown they are left.
    /// </summary>
    public void Stop(bool returnEjectedHosts)
    {
        _cluster.MembersChanged -= OnMembersChanged;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _timer.Dispose();
            foreach (var (host, monitor) in _monitors)
            {
                if (monitor.IsEjected)
                {
                    _ejectionsActive--;
                    _stats.EjectionsActive.Decrement();
                    if (returnEjectedHosts)
                    {
                        host.ClearHealthFlag(HostHealthFlags.FailedOutlierCheck);
                    }
                }
                if (ReferenceEquals(host.OutlierMonitor, monitor))
                {
                    host.OutlierMonitor = null;
                }
            }
            _monitors.Clear();
        }
        if (ReferenceEquals(_cluster.OutcomeObserver, this))
        {
            _cluster.OutcomeObserver = null;
        }
    }

    public void Dispose() => Stop(returnEjectedHosts: false);

    private static string TypeName(EjectionType type) => type switch
    {
        EjectionType.Consecutive5xx => "CONSECUTIVE_5XX",
        EjectionType.ConsecutiveGatewayFailure => "CONSECUTIVE_GATEWAY_FAILURE",
        EjectionType.SuccessRate => "SUCCESS_RATE",
        _ => "FAILURE_PERCENTAGE",
    };

    [LoggerMessage(EventId = LogEvents.OutlierEjected, Level = LogLevel.Information, Message = "outlier detection: cluster {Cluster} host {Host} ejected ({Type}), ejection {NumEjections}, for {EjectionTime}")]
    private static partial void LogEjected(ILogger logger, string cluster, string host, string type, int numEjections, TimeSpan ejectionTime);

    [LoggerMessage(EventId = LogEvents.OutlierUnejected, Level = LogLevel.Information, Message = "outlier detection: cluster {Cluster} host {Host} returned to service after {NumEjections} ejection(s)")]
    private static partial void LogUnejected(ILogger logger, string cluster, string host, int numEjections);

    [LoggerMessage(EventId = LogEvents.OutlierDetectedNotEnforced, Level = LogLevel.Debug, Message = "outlier detection: cluster {Cluster} host {Host} detected as outlier ({Type}), not enforced")]
    private static partial void LogDetected(ILogger logger, string cluster, string host, string type);

    [LoggerMessage(EventId = LogEvents.OutlierNotEjected, Level = LogLevel.Debug, Message = "outlier detection: cluster {Cluster} host {Host} not ejected ({Type}): max_ejection_percent reached")]
    private static partial void LogOverflow(ILogger logger, string cluster, string host, string type);
}
