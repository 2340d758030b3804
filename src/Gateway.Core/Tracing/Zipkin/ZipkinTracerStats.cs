using Gateway.Stats;

namespace Gateway.Tracing.Zipkin;

/// <summary>
/// Envoy's <c>ZipkinTracerStats</c> (<c>tracing.zipkin.*</c>, global: every Zipkin tracer counts into the same ones).
/// </summary>
internal sealed class ZipkinTracerStats
{
    public ZipkinTracerStats(StatsStore store)
    {
        const string Prefix = "tracing.zipkin.";
        SpansSent = store.Counter(Prefix + "spans_sent");
        TimerFlushed = store.Counter(Prefix + "timer_flushed");
        ReportsSkippedNoCluster = store.Counter(Prefix + "reports_skipped_no_cluster");
        ReportsSent = store.Counter(Prefix + "reports_sent");
        ReportsDropped = store.Counter(Prefix + "reports_dropped");
        ReportsFailed = store.Counter(Prefix + "reports_failed");
    }

    /// <summary>Spans in the reports flushed (counted when a report is made, whatever becomes of it).</summary>
    public Counter SpansSent { get; }

    /// <summary>Flush timer expiries (every one, with or without spans to send).</summary>
    public Counter TimerFlushed { get; }

    /// <summary>Reports not sent because the collector cluster does not exist.</summary>
    public Counter ReportsSkippedNoCluster { get; }

    /// <summary>Reports the collector accepted (202).</summary>
    public Counter ReportsSent { get; }

    /// <summary>Reports the collector answered with anything but 202.</summary>
    public Counter ReportsDropped { get; }

    /// <summary>Reports that got no answer (connect failure, reset, timeout, overflow).</summary>
    public Counter ReportsFailed { get; }
}
