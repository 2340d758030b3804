using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a cluster's <c>outlier_detection</c>: Envoy's proto constraints and what the detector implements.</summary>
internal sealed class OutlierDetectionValidator(ValidationContext context)
{
    public void Validate(OutlierDetection outlier)
    {
        // Envoy's proto constraints (outlier_detection.proto): durations gt 0, percentages lte 100.
        void Percentage(string field, uint? value)
        {
            if (value > 100)
            {
                context.Error(outlier, field, $"'{field}' must be a percentage in [0, 100], not {value}");
            }
        }

        void Positive(string field, TimeSpan? value)
        {
            if (value <= TimeSpan.Zero)
            {
                context.Error(outlier, field, $"'{field}' must be greater than 0s");
            }
        }

        Positive("interval", outlier.Interval);
        Positive("base_ejection_time", outlier.BaseEjectionTime);
        Positive("max_ejection_time", outlier.MaxEjectionTime);
        if (outlier.MaxEjectionTimeJitter < TimeSpan.Zero)
        {
            context.Error(outlier, "max_ejection_time_jitter", "'max_ejection_time_jitter' may not be negative");
        }
        Percentage("max_ejection_percent", outlier.MaxEjectionPercent);
        Percentage("enforcing_consecutive_5xx", outlier.EnforcingConsecutive5xx);
        Percentage("enforcing_success_rate", outlier.EnforcingSuccessRate);
        Percentage("enforcing_consecutive_gateway_failure", outlier.EnforcingConsecutiveGatewayFailure);
        Percentage("enforcing_consecutive_local_origin_failure", outlier.EnforcingConsecutiveLocalOriginFailure);
        Percentage("enforcing_local_origin_success_rate", outlier.EnforcingLocalOriginSuccessRate);
        Percentage("failure_percentage_threshold", outlier.FailurePercentageThreshold);
        Percentage("enforcing_failure_percentage", outlier.EnforcingFailurePercentage);
        Percentage("enforcing_failure_percentage_local_origin", outlier.EnforcingFailurePercentageLocalOrigin);
        if (outlier.SplitExternalLocalOriginErrors)
        {
            context.Error(outlier, "split_external_local_origin_errors",
                "'split_external_local_origin_errors: true' is not supported by this gateway yet; local-origin errors count as 5xx (503 for resets and connect failures, 504 for timeouts)");
        }
        // Envoy refuses the cluster (DetectorImpl::create); the default max is max(300s, base_ejection_time).
        if (outlier.MaxEjectionTime is { } max && max > TimeSpan.Zero && !outlier.HasBindingError("base_ejection_time")
            && (outlier.BaseEjectionTime ?? Translation.OutlierDetectionPlan.DefaultBaseEjectionTime) is var baseTime && baseTime > TimeSpan.Zero && max < baseTime)
        {
            context.Error(outlier, "max_ejection_time", "outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
        }
    }
}
