using Gateway.Clusters.OutlierDetection;
using Gateway.Configuration;

namespace Gateway.Clusters;

/// <summary>
/// One upstream host of a cluster (Envoy's <c>Host</c>): its per-host stats, shown by admin
/// <c>/clusters</c> as <c>cluster::host::stat::value</c> (not part of <c>/stats</c>, as in Envoy), and
/// its health flags, which active health checking and outlier detection set and the load balancer reads.
/// </summary>
internal sealed class UpstreamHost
{
    private readonly ClusterRuntime _cluster;
    private long _cxTotal;
    private long _cxActive;
    private long _cxConnectFail;
    private long _rqTotal;
    private long _rqActive;
    private long _rqError;
    private long _rqSuccess;
    private long _rqTimeout;
    private int _healthFlags;
    private OutlierHostMonitor? _outlierMonitor;
    private EnvoyMetadata _metadata = EnvoyMetadata.Empty;

    public UpstreamHost(string address, ClusterRuntime cluster)
    {
        Address = address;
        _cluster = cluster;
    }

    /// <summary>The host as <c>ip:port</c>.</summary>
    public string Address { get; }

    /// <summary>
    /// The <c>metadata</c> of the <c>lb_endpoint</c> the host was made from (Envoy's <c>HostDescription::metadata()</c>;
    /// every address a DNS endpoint resolves to carries it); empty when it has none. Set when the cluster's
    /// membership is applied.
    /// </summary>
    public EnvoyMetadata Metadata
    {
        get => Volatile.Read(ref _metadata);
        set => Volatile.Write(ref _metadata, value);
    }

    /// <summary>The host's monitor in the cluster's outlier detector, if any (saves a lookup per request).</summary>
    public OutlierHostMonitor? OutlierMonitor
    {
        get => Volatile.Read(ref _outlierMonitor);
        set => Volatile.Write(ref _outlierMonitor, value);
    }

    public long CxTotal => Volatile.Read(ref _cxTotal);

    public long CxActive => Volatile.Read(ref _cxActive);

    public long CxConnectFail => Volatile.Read(ref _cxConnectFail);

    public long RqTotal => Volatile.Read(ref _rqTotal);

    public long RqActive => Volatile.Read(ref _rqActive);

    /// <summary>The cluster's <c>upstream_rq_active</c> (bounded-load hashing compares a host's share with it, as Envoy reads it through the host).</summary>
    public long ClusterRqActive => _cluster.Stats.UpstreamRqActive.Value;

    public long RqError => Volatile.Read(ref _rqError);

    public long RqSuccess => Volatile.Read(ref _rqSuccess);

    public long RqTimeout => Volatile.Read(ref _rqTimeout);

    /// <summary>
    /// When an active health check last passed while the host was failed (Envoy's <c>lastHcPassTime</c>, a
    /// <see cref="TimeProvider.GetTimestamp"/>), or when slow start first saw it healthy; null until either happens.
    /// Slow start measures a host's time in the healthy state from it.
    /// </summary>
    public long? LastHcPassTime
    {
        get { var value = Volatile.Read(ref _lastHcPassTime); return value == NoTime ? null : value; }
        set => Volatile.Write(ref _lastHcPassTime, value ?? NoTime);
    }

    private const long NoTime = long.MinValue;
    private long _lastHcPassTime = NoTime;

    /// <summary>Why the host is not healthy, if it is not.</summary>
    public HostHealthFlags HealthFlags => (HostHealthFlags)Volatile.Read(ref _healthFlags);

    /// <summary>
    /// Set by the health checker on a host that joined after the cluster's initial set when the cluster has
    /// <c>ignore_new_hosts_until_first_hc</c> (Envoy then sets PENDING_ACTIVE_HC only on such hosts).
    /// </summary>
    public bool WaitsForFirstHc
    {
        get => Volatile.Read(ref _waitsForFirstHc);
        set => Volatile.Write(ref _waitsForFirstHc, value);
    }

    private bool _waitsForFirstHc;

    /// <summary>
    /// Envoy's excluded host (<c>excludeBasedOnHealthFlag</c>, PENDING_ACTIVE_HC): left out of the panic and priority
    /// denominators, so new unchecked hosts do not push the cluster into panic, while their first check is pending.
    /// </summary>
    public bool IsExcluded => WaitsForFirstHc && (HealthFlags & HostHealthFlags.PendingActiveHc) != 0;

    /// <summary>True when no check has failed the host, so the load balancer may pick it outside panic.</summary>
    public bool IsHealthy => (HealthFlags & HostHealthFlags.Unhealthy) == 0;

    /// <summary>Envoy's coarse health: unhealthy when a failure flag is set, else degraded when a degraded flag is set.</summary>
    public LoadBalancing.HostHealth Health
    {
        get
        {
            var flags = HealthFlags;
            return (flags & HostHealthFlags.Unhealthy) != 0 ? LoadBalancing.HostHealth.Unhealthy
                : (flags & HostHealthFlags.DegradedEdsHealth) != 0 ? LoadBalancing.HostHealth.Degraded
                : LoadBalancing.HostHealth.Healthy;
        }
    }

    /// <summary>
    /// The endpoint the host was made from (its weight, priority, locality and configured health); null when the
    /// translator recorded none (an endpoint with only an address). Set when the cluster's membership is applied.
    /// </summary>
    public Translation.EndpointPlan? Endpoint
    {
        get => Volatile.Read(ref _endpoint);
        set => Volatile.Write(ref _endpoint, value);
    }

    private Translation.EndpointPlan? _endpoint;

    /// <summary>
    /// Sets the <c>/failed_eds_health</c> and <c>/degraded_eds_health</c> flags from the configured <c>health_status</c>,
    /// without telling the cluster (the caller recomputes availability); true when a flag changed.
    /// </summary>
    public bool SetEdsHealth(Translation.EndpointHealth health)
    {
        var wanted = health switch
        {
            Translation.EndpointHealth.Unhealthy => HostHealthFlags.FailedEdsHealth,
            Translation.EndpointHealth.Degraded => HostHealthFlags.DegradedEdsHealth,
            _ => HostHealthFlags.None,
        };
        const int Eds = (int)(HostHealthFlags.FailedEdsHealth | HostHealthFlags.DegradedEdsHealth);
        int before, after;
        do
        {
            before = Volatile.Read(ref _healthFlags);
            after = (before & ~Eds) | (int)wanted;
            if (before == after)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _healthFlags, after, before) != before);
        return true;
    }

    /// <summary>Sets <paramref name="flag"/>; when the host's health changes the cluster recomputes its available hosts.</summary>
    public void SetHealthFlag(HostHealthFlags flag) => UpdateHealthFlags(flag, set: true);

    /// <summary>Clears <paramref name="flag"/>; when the host's health changes the cluster recomputes its available hosts.</summary>
    public void ClearHealthFlag(HostHealthFlags flag) => UpdateHealthFlags(flag, set: false);

    private void UpdateHealthFlags(HostHealthFlags flag, bool set)
    {
        int before, after;
        do
        {
            before = Volatile.Read(ref _healthFlags);
            after = set ? before | (int)flag : before & ~(int)flag;
            if (before == after)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _healthFlags, after, before) != before);
        // A cleared PENDING_ACTIVE_HC ends an exclusion even when the first check failed (the host stays unhealthy).
        var watched = (int)HostHealthFlags.Unhealthy | (WaitsForFirstHc ? (int)HostHealthFlags.PendingActiveHc : 0);
        if (((before ^ after) & watched) != 0)
        {
            _cluster.OnHostHealthChanged();
        }
    }

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _cxTotal);
        Interlocked.Increment(ref _cxActive);
    }

    public void ConnectionFailed()
    {
        Interlocked.Increment(ref _cxConnectFail);
        Interlocked.Decrement(ref _cxActive);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _cxActive);

    public void RequestStarted()
    {
        Interlocked.Increment(ref _rqTotal);
        Interlocked.Increment(ref _rqActive);
    }

    /// <summary>
    /// Ends a request: 5xx responses, resets and timeouts are errors, everything else a success (Envoy's
    /// host view). <paramref name="status"/> is 0 when no response headers came. The outcome is also
    /// reported to the cluster's outlier detector, if it has one.
    /// </summary>
    public void RequestEnded(int status, bool timedOut)
    {
        Interlocked.Decrement(ref _rqActive);
        if (timedOut)
        {
            Interlocked.Increment(ref _rqTimeout);
        }
        Interlocked.Increment(ref status is 0 or >= 500 || timedOut ? ref _rqError : ref _rqSuccess);
        _cluster.OutcomeObserver?.OnRequestEnded(this, status, timedOut);
    }

    /// <summary>Ends a request that failed in the gateway before reaching the host: neither a success nor an error of the host.</summary>
    public void RequestAbandoned() => Interlocked.Decrement(ref _rqActive);
}

/// <summary>Envoy's host health flags (<c>Host::HealthFlag</c>) this gateway sets.</summary>
[Flags]
internal enum HostHealthFlags
{
    /// <summary>Healthy.</summary>
    None = 0,

    /// <summary><c>/failed_active_hc</c>: active health checking marked the host unhealthy.</summary>
    FailedActiveHc = 1,

    /// <summary><c>/failed_outlier_check</c>: outlier detection ejected the host.</summary>
    FailedOutlierCheck = 2,

    /// <summary><c>/pending_active_hc</c>: the host awaits its first active health check.</summary>
    PendingActiveHc = 4,

    /// <summary><c>/active_hc_timeout</c>: the last active health check timed out.</summary>
    ActiveHcTimeout = 8,

    /// <summary><c>/failed_eds_health</c>: the configured <c>health_status</c> is UNHEALTHY, DRAINING or TIMEOUT.</summary>
    FailedEdsHealth = 16,

    /// <summary><c>/degraded_eds_health</c>: the configured <c>health_status</c> is DEGRADED.</summary>
    DegradedEdsHealth = 32,

    /// <summary>The flags that keep the load balancer off the host.</summary>
    Unhealthy = FailedActiveHc | FailedOutlierCheck | FailedEdsHealth,
}

/// <summary>Receives the outcome of every upstream request a cluster's hosts served (outlier detection).</summary>
internal interface IUpstreamOutcomeObserver
{
    /// <summary>
    /// One request to <paramref name="host"/> ended: <paramref name="status"/> is the response status,
    /// or 0 when no response headers came (reset, connect failure); <paramref name="timedOut"/> when a
    /// route or per-try timeout ended it.
    /// </summary>
    void OnRequestEnded(UpstreamHost host, int status, bool timedOut);
}

/// <summary>Envoy's <c>/clusters</c> rendering of host health.</summary>
internal static class HostHealthText
{
    /// <summary><c>healthy</c>, or the flags concatenated in Envoy's order (source/common/upstream/host_utility.cc, healthFlagsToString).</summary>
    public static string Format(HostHealthFlags flags)
    {
        if (flags == HostHealthFlags.None)
        {
            return "healthy";
        }
        var text = string.Empty;
        if ((flags & HostHealthFlags.FailedActiveHc) != 0)
        {
            text += "/failed_active_hc";
        }
        if ((flags & HostHealthFlags.FailedOutlierCheck) != 0)
        {
            text += "/failed_outlier_check";
        }
        if ((flags & HostHealthFlags.FailedEdsHealth) != 0)
        {
            text += "/failed_eds_health";
        }
        if ((flags & HostHealthFlags.DegradedEdsHealth) != 0)
        {
            text += "/degraded_eds_health";
        }
        if ((flags & HostHealthFlags.PendingActiveHc) != 0)
        {
            text += "/pending_active_hc";
        }
        if ((flags & HostHealthFlags.ActiveHcTimeout) != 0)
        {
            text += "/active_hc_timeout";
        }
        return text;
    }
}
