using Gateway.Stats;

namespace Gateway.Clusters.OutlierDetection;

/// <summary>
/// <c>cluster.&lt;name&gt;.outlier_detection.*</c> (Envoy's ALL_OUTLIER_DETECTION_STATS). Envoy creates them
/// with the detector, so they exist only for clusters that configure outlier detection.
/// </summary>
internal sealed class OutlierDetectionStats
{
    public OutlierDetectionStats(StatsStore store, string clusterName)
    {
        var prefix = "cluster." + clusterName + ".outlier_detection.";
        EjectionsConsecutive5xx = store.Counter(prefix + "ejections_consecutive_5xx");
        EjectionsDetectedConsecutive5xx = store.Counter(prefix + "ejections_detected_consecutive_5xx");
        EjectionsDetectedConsecutiveGatewayFailure = store.Counter(prefix + "ejections_detected_consecutive_gateway_failure");
        EjectionsDetectedSuccessRate = store.Counter(prefix + "ejections_detected_success_rate");
        EjectionsDetectedFailurePercentage = store.Counter(prefix + "ejections_detected_failure_percentage");
        EjectionsEnforcedConsecutive5xx = store.Counter(prefix + "ejections_enforced_consecutive_5xx");
        EjectionsEnforcedConsecutiveGatewayFailure = store.Counter(prefix + "ejections_enforced_consecutive_gateway_failure");
        EjectionsEnforcedSuccessRate = store.Counter(prefix + "ejections_enforced_success_rate");
        EjectionsEnforcedFailurePercentage = store.Counter(prefix + "ejections_enforced_failure_percentage");
        // Local-origin ejections need split_external_local_origin_errors; the names exist as in Envoy and stay 0.
        store.Counter(prefix + "ejections_detected_consecutive_local_origin_failure");
        store.Counter(prefix + "ejections_enforced_consecutive_local_origin_failure");
        store.Counter(prefix + "ejections_detected_local_origin_success_rate");
        store.Counter(prefix + "ejections_enforced_local_origin_success_rate");
        store.Counter(prefix + "ejections_detected_local_origin_failure_percentage");
        store.Counter(prefix + "ejections_enforced_local_origin_failure_percentage");
        EjectionsEnforcedTotal = store.Counter(prefix + "ejections_enforced_total");
        EjectionsOverflow = store.Counter(prefix + "ejections_overflow");
        EjectionsSuccessRate = store.Counter(prefix + "ejections_success_rate");
        EjectionsTotal = store.Counter(prefix + "ejections_total");
        EjectionsActive = store.Gauge(prefix + "ejections_active");
    }

    /// <summary>Deprecated: consecutive-5xx detections (enforced or not), as Envoy still counts them.</summary>
    public Counter EjectionsConsecutive5xx { get; }

    public Counter EjectionsDetectedConsecutive5xx { get; }

    public Counter EjectionsDetectedConsecutiveGatewayFailure { get; }

    public Counter EjectionsDetectedSuccessRate { get; }

    public Counter EjectionsDetectedFailurePercentage { get; }

    public Counter EjectionsEnforcedConsecutive5xx { get; }

    public Counter EjectionsEnforcedConsecutiveGatewayFailure { get; }

    public Counter EjectionsEnforcedSuccessRate { get; }

    public Counter EjectionsEnforcedFailurePercentage { get; }

    public Counter EjectionsEnforcedTotal { get; }

    /// <summary>Ejections refused by max_ejection_percent.</summary>
    public Counter EjectionsOverflow { get; }

    /// <summary>Deprecated: success-rate detections.</summary>
    public Counter EjectionsSuccessRate { get; }

    /// <summary>Deprecated: consecutive-5xx and success-rate ejections allowed by max_ejection_percent (enforced or not).</summary>
    public Counter EjectionsTotal { get; }

    /// <summary>Hosts ejected now.</summary>
    public Gauge EjectionsActive { get; }

    public void Detected(EjectionType type)
    {
        switch (type)
        {
            case EjectionType.Consecutive5xx:
                EjectionsDetectedConsecutive5xx.Increment();
                break;
            case EjectionType.ConsecutiveGatewayFailure:
                EjectionsDetectedConsecutiveGatewayFailure.Increment();
                break;
            case EjectionType.SuccessRate:
                EjectionsDetectedSuccessRate.Increment();
                break;
            case EjectionType.FailurePercentage:
                EjectionsDetectedFailurePercentage.Increment();
                break;
        }
    }

    public void Enforced(EjectionType type)
    {
        EjectionsEnforcedTotal.Increment();
        switch (type)
        {
            case EjectionType.Consecutive5xx:
                EjectionsEnforcedConsecutive5xx.Increment();
                break;
            case EjectionType.ConsecutiveGatewayFailure:
                EjectionsEnforcedConsecutiveGatewayFailure.Increment();
                break;
            case EjectionType.SuccessRate:
                EjectionsEnforcedSuccessRate.Increment();
                break;
            case EjectionType.FailurePercentage:
                EjectionsEnforcedFailurePercentage.Increment();
                break;
        }
    }
}

/// <summary>Why a host was found to be an outlier (Envoy's OutlierEjectionType, non-split mode).</summary>
internal enum EjectionType
{
    Consecutive5xx,
    ConsecutiveGatewayFailure,
    SuccessRate,
    FailurePercentage,
}
