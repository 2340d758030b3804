namespace Gateway.Translation;

/// <summary>
/// A cluster's outlier detection with Envoy's defaults filled in (outlier_detection.proto and
/// DetectorConfig in outlier_detection_impl.cc). Percentages are whole percent; the success-rate
/// stdev factor is in thousandths, as in Envoy.
/// </summary>
public sealed record OutlierDetectionPlan
{
    /// <summary>Envoy's default <c>base_ejection_time</c>.</summary>
    public static readonly TimeSpan DefaultBaseEjectionTime = TimeSpan.FromSeconds(30);

    /// <summary>Envoy's default <c>max_ejection_time</c> (raised to <c>base_ejection_time</c> when that is larger).</summary>
    public static readonly TimeSpan DefaultMaxEjectionTime = TimeSpan.FromSeconds(300);

    /// <summary>Every setting at Envoy's default.</summary>
    public static OutlierDetectionPlan Defaults { get; } = new();

    public uint Consecutive5xx { get; init; } = 5;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan BaseEjectionTime { get; init; } = DefaultBaseEjectionTime;

    public uint MaxEjectionPercent { get; init; } = 10;

    public uint EnforcingConsecutive5xx { get; init; } = 100;

    public uint EnforcingSuccessRate { get; init; } = 100;

    public uint SuccessRateMinimumHosts { get; init; } = 5;

    public uint SuccessRateRequestVolume { get; init; } = 100;

    public uint SuccessRateStdevFactor { get; init; } = 1900;

    public uint ConsecutiveGatewayFailure { get; init; } = 5;

    public uint EnforcingConsecutiveGatewayFailure { get; init; }

    public uint FailurePercentageThreshold { get; init; } = 85;

    public uint EnforcingFailurePercentage { get; init; }

    public uint FailurePercentageMinimumHosts { get; init; } = 5;

    public uint FailurePercentageRequestVolume { get; init; } = 50;

    public TimeSpan MaxEjectionTime { get; init; } = DefaultMaxEjectionTime;

    public TimeSpan MaxEjectionTimeJitter { get; init; } = TimeSpan.Zero;

    /// <summary>A successful active health check returns an ejected host (the health checker calls the detector).</summary>
    public bool SuccessfulActiveHealthCheckUnejectHost { get; init; } = true;

    /// <summary>Eject a host even when max_ejection_percent allows none, if no host is ejected yet.</summary>
    public bool AlwaysEjectOneHost { get; init; }
}
