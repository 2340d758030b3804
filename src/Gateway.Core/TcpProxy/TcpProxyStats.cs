using Gateway.Stats;

namespace Gateway.TcpProxy;

/// <summary>
/// The <c>tcp.&lt;stat_prefix&gt;.*</c> stats (Envoy's ALL_TCP_PROXY_STATS), every one created at 0 as Envoy does. Not fed
/// here: the <c>*_buffered</c> gauges and the flow-control counters (the copy waits for each write, so nothing is buffered
/// beyond one read and reading is never paused by a watermark), <c>upstream_flush_*</c> (no upstream connection outlives
/// its downstream one: see docs/compatibility.md) and the on-demand cluster counters.
/// </summary>
internal sealed class TcpProxyStats
{
    private static readonly string[] OtherCounters =
    [
        "downstream_flow_control_paused_reading_total", "downstream_flow_control_resumed_reading_total",
        "upstream_flush_total", "on_demand_cluster_attempt", "on_demand_cluster_missing", "on_demand_cluster_success",
        "on_demand_cluster_timeout",
    ];

    private static readonly string[] OtherGauges = ["downstream_cx_rx_bytes_buffered", "downstream_cx_tx_bytes_buffered", "upstream_flush_active"];

    public TcpProxyStats(StatsStore store, string statPrefix)
    {
        var prefix = "tcp." + statPrefix + ".";
        foreach (var name in OtherCounters)
        {
            store.Counter(prefix + name);
        }
        foreach (var name in OtherGauges)
        {
            store.Gauge(prefix + name);
        }
        DownstreamCxTotal = store.Counter(prefix + "downstream_cx_total");
        DownstreamCxNoRoute = store.Counter(prefix + "downstream_cx_no_route");
        DownstreamCxRxBytesTotal = store.Counter(prefix + "downstream_cx_rx_bytes_total");
        DownstreamCxTxBytesTotal = store.Counter(prefix + "downstream_cx_tx_bytes_total");
        IdleTimeout = store.Counter(prefix + "idle_timeout");
        MaxDownstreamConnectionDuration = store.Counter(prefix + "max_downstream_connection_duration");
    }

    /// <summary>Connections the filter took.</summary>
    public Counter DownstreamCxTotal { get; }

    /// <summary>Connections whose cluster does not exist.</summary>
    public Counter DownstreamCxNoRoute { get; }

    /// <summary>Bytes read from downstream connections.</summary>
    public Counter DownstreamCxRxBytesTotal { get; }

    /// <summary>Bytes written to downstream connections.</summary>
    public Counter DownstreamCxTxBytesTotal { get; }

    /// <summary>Connections closed by <c>idle_timeout</c>.</summary>
    public Counter IdleTimeout { get; }

    /// <summary>Connections closed by <c>max_downstream_connection_duration</c>.</summary>
    public Counter MaxDownstreamConnectionDuration { get; }
}
