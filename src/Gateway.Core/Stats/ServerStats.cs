using System.Diagnostics;
using System.Globalization;

namespace Gateway.Stats;

/// <summary>
/// The <c>server.*</c>, <c>cluster_manager.*</c> and <c>listener_manager.*</c> stats. Sampled values
/// (uptime, memory, connections) are brought up to date before every read of the store.
/// </summary>
public sealed class ServerStats
{
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly Gauge _uptime;
    private readonly Gauge _memoryAllocated;
    private readonly Gauge _memoryHeapSize;
    private readonly Gauge _memoryPhysicalSize;
    private readonly Gauge _totalConnections;
    private readonly Gauge _daysUntilFirstCertExpiring;

    /// <summary>Creates the server stats; <paramref name="versionSha"/> is the build revision (hex) or null.</summary>
    public ServerStats(StatsStore store, TimeProvider time, string? versionSha)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _started = time.GetTimestamp();
        _uptime = store.Gauge("server.uptime");
        _memoryAllocated = store.Gauge("server.memory_allocated");
        _memoryHeapSize = store.Gauge("server.memory_heap_size");
        _memoryPhysicalSize = store.Gauge("server.memory_physical_size");
        _totalConnections = store.Gauge("server.total_connections");
        store.Gauge("server.concurrency").Set(Environment.ProcessorCount);
        store.Gauge("server.parent_connections").Set(0);
        store.Gauge("server.hot_restart_epoch").Set(0);
        store.Gauge("server.hot_restart_generation").Set(1);
        // Envoy reports the largest uint32 when no certificate is loaded.
        _daysUntilFirstCertExpiring = store.Gauge("server.days_until_first_cert_expiring");
        _daysUntilFirstCertExpiring.Set(uint.MaxValue);
        store.Gauge("server.seconds_until_first_ocsp_response_expiring").Set(0);
        store.Gauge("server.compilation_settings.fips_mode").Set(0);
        store.Gauge("server.version").Set(VersionGauge(versionSha));
        foreach (var name in new[] { "server.debug_assertion_failures", "server.envoy_bug_failures", "server.static_unknown_fields", "server.dynamic_unknown_fields", "server.wip_protos", "server.dropped_stat_flushes" })
        {
            store.Counter(name);
        }
        InitializationTimeMs = store.Histogram("server.initialization_time_ms");
        ClusterManagerClusterAdded = store.Counter("cluster_manager.cluster_added");
        ClusterModified = store.Counter("cluster_manager.cluster_modified");
        ClusterRemoved = store.Counter("cluster_manager.cluster_removed");
        store.Counter("cluster_manager.cluster_updated");
        store.Counter("cluster_manager.cluster_updated_via_merge");
        store.Counter("cluster_manager.update_merge_cancelled");
        store.Counter("cluster_manager.update_out_of_merge_window");
        ActiveClusters = store.Gauge("cluster_manager.active_clusters");
        WarmingClusters = store.Gauge("cluster_manager.warming_clusters");
        ListenerAdded = store.Counter("listener_manager.listener_added");
        ListenerCreateSuccess = store.Counter("listener_manager.listener_create_success");
        ListenerModified = store.Counter("listener_manager.listener_modified");
        ListenerRemoved = store.Counter("listener_manager.listener_removed");
        ListenerStopped = store.Counter("listener_manager.listener_stopped");
        ListenerCreateFailure = store.Counter("listener_manager.listener_create_failure");
        ListenerInPlaceUpdated = store.Counter("listener_manager.listener_in_place_updated");
        TotalListenersActive = store.Gauge("listener_manager.total_listeners_active");
        TotalListenersWarming = store.Gauge("listener_manager.total_listeners_warming");
        TotalListenersDraining = store.Gauge("listener_manager.total_listeners_draining");
        TotalFilterChainsDraining = store.Gauge("listener_manager.total_filter_chains_draining");
        WorkersStarted = store.Gauge("listener_manager.workers_started");
        store.OnBeforeRead(Refresh);
        Refresh();
    }

    /// <summary>Time from process start to serving.</summary>
    public Histogram InitializationTimeMs { get; }

    /// <summary>Clusters added.</summary>
    public Counter ClusterManagerClusterAdded { get; }

    /// <summary>Clusters whose definition changed (CDS).</summary>
    public Counter ClusterModified { get; }

    /// <summary>Clusters removed (CDS).</summary>
    public Counter ClusterRemoved { get; }

    /// <summary>Clusters active.</summary>
    public Gauge ActiveClusters { get; }

    /// <summary>Clusters waiting for their first endpoints.</summary>
    public Gauge WarmingClusters { get; }

    /// <summary>Listeners whose definition changed (LDS).</summary>
    public Counter ListenerModified { get; }

    /// <summary>Listeners removed (LDS).</summary>
    public Counter ListenerRemoved { get; }

    /// <summary>Listeners stopped.</summary>
    public Counter ListenerStopped { get; }

    /// <summary>Listeners that could not be started (their address could not be bound).</summary>
    public Counter ListenerCreateFailure { get; }

    /// <summary>Listeners updated by replacing only their filter chains.</summary>
    public Counter ListenerInPlaceUpdated { get; }

    /// <summary>Listeners waiting to serve.</summary>
    public Gauge TotalListenersWarming { get; }

    /// <summary>Listeners draining (removed or replaced, with connections still open).</summary>
    public Gauge TotalListenersDraining { get; }

    /// <summary>Filter chains draining.</summary>
    public Gauge TotalFilterChainsDraining { get; }

    /// <summary>Listeners added.</summary>
    public Counter ListenerAdded { get; }

    /// <summary>Listeners created.</summary>
    public Counter ListenerCreateSuccess { get; }

    /// <summary>Listeners serving.</summary>
    public Gauge TotalListenersActive { get; }

    /// <summary>1 once the server serves.</summary>
    public Gauge WorkersStarted { get; }

    /// <summary>A function that returns the downstream connections open now (set by the runtime).</summary>
    public Func<long>? OpenConnections { get; set; }

    /// <summary>A function that returns the days until the first loaded certificate expires (set by the runtime).</summary>
    public Func<long>? DaysUntilFirstCertExpiring { get; set; }

    /// <summary>Envoy's <c>server.version</c>: the first six hex digits of the build revision as a number.</summary>
    public static long VersionGauge(string? sha)
        => sha is { Length: >= 6 } && long.TryParse(sha.AsSpan(0, 6), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private void Refresh()
    {
        _uptime.Set((long)_time.GetElapsedTime(_started).TotalSeconds);
        _memoryAllocated.Set(GC.GetTotalMemory(forceFullCollection: false));
        var info = GC.GetGCMemoryInfo();
        _memoryHeapSize.Set(info.HeapSizeBytes);
        using var process = Process.GetCurrentProcess();
        _memoryPhysicalSize.Set(process.WorkingSet64);
        if (OpenConnections is { } open)
        {
            _totalConnections.Set(open());
        }
        if (DaysUntilFirstCertExpiring is { } days)
        {
            _daysUntilFirstCertExpiring.Set(days());
        }
    }
}
