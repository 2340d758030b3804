using Gateway.Stats;

namespace Gateway.Tracing;

/// <summary>
/// Envoy's <c>http.&lt;stat_prefix&gt;.tracing.*</c> counters (CONN_MAN_TRACING_STATS): one per tracing decision
/// reason, charged once per request of a connection manager that traces.
/// </summary>
internal sealed class TracingStats
{
    public TracingStats(StatsStore store, string connectionManagerPrefix)
    {
        var prefix = connectionManagerPrefix + "tracing.";
        RandomSampling = store.Counter(prefix + "random_sampling");
        ServiceForced = store.Counter(prefix + "service_forced");
        ClientEnabled = store.Counter(prefix + "client_enabled");
        NotTraceable = store.Counter(prefix + "not_traceable");
        HealthCheck = store.Counter(prefix + "health_check");
    }

    /// <summary>Traced by <c>random_sampling</c>.</summary>
    public Counter RandomSampling { get; }

    /// <summary>Traced because of <c>x-envoy-force-trace</c>.</summary>
    public Counter ServiceForced { get; }

    /// <summary>Traced because of <c>x-client-trace-id</c>.</summary>
    public Counter ClientEnabled { get; }

    /// <summary>Not traced.</summary>
    public Counter NotTraceable { get; }

    /// <summary>Health checks (never traced).</summary>
    public Counter HealthCheck { get; }

    /// <summary>Envoy's ConnectionManagerImpl::chargeTracingStats: the counter of the decision's reason.</summary>
    public void Charge(TracingDecision decision)
    {
        switch (decision.Reason)
        {
            case TraceReason.ClientForced:
                ClientEnabled.Increment();
                break;
            case TraceReason.HealthCheck:
                HealthCheck.Increment();
                break;
            case TraceReason.Sampling:
                RandomSampling.Increment();
                break;
            case TraceReason.ServiceForced:
                ServiceForced.Increment();
                break;
            default:
                NotTraceable.Increment();
                break;
        }
    }
}
