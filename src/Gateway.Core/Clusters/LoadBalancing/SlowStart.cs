using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's slow start (EdfLoadBalancerBase in source/extensions/load_balancing_policies/common/load_balancer_impl.cc)
/// for one cluster's policy: a healthy host whose last health check pass (or first sighting) is less than the window
/// ago has its weight scaled by <c>max(min_weight_percent, time_factor^(1 / aggression))</c>, where
/// <c>time_factor = max(1 ms, time healthy) / window</c>. While any host is in the window (the latest start the
/// load balancer has seen), pickers use the EDF scheduler even with equal weights; a host's weight is recomputed
/// each time the scheduler re-adds it after a pick, so it ramps up without a rebuild. One instance lives as long as
/// the cluster's policy settings (the factory), as Envoy's load balancer does across host set changes.
/// </summary>
internal sealed class SlowStart
{
    private readonly TimeProvider _time;
    private readonly long _windowMs;
    private readonly double _aggression;
    private readonly double _minWeight;
    private long _latestHostAddedTime;

    public SlowStart(SlowStartPlan plan, TimeProvider time)
    {
        _time = time;
        _windowMs = (long)plan.Window.TotalMilliseconds;
        // Envoy logs and uses 1.0 for an aggression that is not positive; validation refuses it at load.
        _aggression = plan.Aggression > 0 ? plan.Aggression : 1.0;
        _minWeight = plan.MinWeight;
        // Envoy starts the latest host-added time at the load balancer's creation: its first window counts as slow start.
        _latestHostAddedTime = time.GetTimestamp();
    }

    /// <summary>
    /// Envoy's recalculateHostsInSlowStart, run when a picker is built over <paramref name="hosts"/>: a healthy host
    /// without a pass time gets "now" (no active check, or none has run), and the latest start within the window is kept.
    /// </summary>
    public void Refresh(IReadOnlyList<WeightedHost> hosts)
    {
        var now = _time.GetTimestamp();
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i].Host;
            if (!host.IsHealthy)
            {
                continue;
            }
            var passed = host.LastHcPassTime ?? now;
            host.LastHcPassTime ??= now;
            if (passed > Volatile.Read(ref _latestHostAddedTime) && ElapsedMs(passed, now) <= _windowMs)
            {
                Volatile.Write(ref _latestHostAddedTime, passed);
            }
        }
    }

    /// <summary>Envoy's noHostsAreInSlowStart: the latest start seen is more than the window ago.</summary>
    public bool NoHostsInSlowStart() => ElapsedMs(Volatile.Read(ref _latestHostAddedTime), _time.GetTimestamp()) > _windowMs;

    /// <summary>The host's weight while hosts are in slow start (Envoy's hostWeight with applySlowStartFactor).</summary>
    public double Weight(double weight, UpstreamHost host)
        => NoHostsInSlowStart() ? weight : Apply(weight, host);

    /// <summary>Envoy's applySlowStartFactor: only a healthy host with a pass time less than the window ago is scaled.</summary>
    public double Apply(double weight, UpstreamHost host)
    {
        if (host.LastHcPassTime is not { } passed || !host.IsHealthy)
        {
            return weight;
        }
        var healthyMs = ElapsedMs(passed, _time.GetTimestamp());
        if (healthyMs >= _windowMs)
        {
            return weight;
        }
        var timeFactor = (double)Math.Max(1, healthyMs) / _windowMs;
        var factor = _aggression == 1.0 || timeFactor == 1.0 ? timeFactor : Math.Pow(timeFactor, 1.0 / _aggression);
        return weight * Math.Max(factor, _minWeight);
    }

    /// <summary>Whole milliseconds from <paramref name="from"/> to <paramref name="to"/> (Envoy's duration_cast truncates).</summary>
    private long ElapsedMs(long from, long to) => (long)_time.GetElapsedTime(from, to).TotalMilliseconds;
}
