using Gateway.Stats;

namespace Gateway.Xds;

/// <summary>
/// Envoy's ALL_SUBSCRIPTION_STATS under one scope (<c>cluster_manager.cds.</c>, <c>listener_manager.lds.</c>,
/// <c>http.&lt;prefix&gt;.rds.&lt;name&gt;.</c>, <c>cluster.&lt;name&gt;.</c>): one set per subscription.
/// </summary>
internal sealed class SubscriptionStats
{
    public SubscriptionStats(StatsStore store, string scope)
    {
        Scope = scope;
        InitFetchTimeout = store.Counter(scope + "init_fetch_timeout");
        UpdateAttempt = store.Counter(scope + "update_attempt");
        UpdateFailure = store.Counter(scope + "update_failure");
        UpdateRejected = store.Counter(scope + "update_rejected");
        UpdateSuccess = store.Counter(scope + "update_success");
        UpdateTime = store.Gauge(scope + "update_time");
        Version = store.Gauge(scope + "version");
        VersionText = store.TextReadout(scope + "version_text");
        UpdateDuration = store.Histogram(scope + "update_duration");
    }

    /// <summary>The scope, ending with a dot.</summary>
    public string Scope { get; }

    public Counter InitFetchTimeout { get; }

    public Counter UpdateAttempt { get; }

    public Counter UpdateFailure { get; }

    public Counter UpdateRejected { get; }

    public Counter UpdateSuccess { get; }

    /// <summary>When the last update was accepted (Unix milliseconds).</summary>
    public Gauge UpdateTime { get; }

    /// <summary>The xxHash64 of the accepted <c>version_info</c>.</summary>
    public Gauge Version { get; }

    /// <summary>The accepted <c>version_info</c>.</summary>
    public TextReadout VersionText { get; }

    /// <summary>How long a gRPC update took (never recorded for files, as in Envoy).</summary>
    public Histogram UpdateDuration { get; }

    /// <summary>An update was accepted: Envoy sets the time, the version and its text, then counts the success.</summary>
    public void Accepted(string version, DateTimeOffset now)
    {
        UpdateTime.Set(now.ToUnixTimeMilliseconds());
        Version.Set(unchecked((long)XxHash64.Hash(version)));
        VersionText.Set(version);
        UpdateSuccess.Increment();
    }
}
