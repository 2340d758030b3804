namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.cluster.v3.OutlierDetection</c>: passive health checking. Every field is optional;
/// the translator fills in Envoy's defaults. The local-origin settings only matter with
/// <c>split_external_local_origin_errors</c>, which this gateway does not implement (the validator
/// rejects <c>true</c>); Envoy ignores them otherwise, and so do we.
/// </summary>
[EnvoyType("envoy.config.cluster.v3.OutlierDetection", NotSupported = ["monitors"])]
public sealed class OutlierDetection : EnvoyMessage
{
    /// <summary>Consecutive 5xx (or local errors mapped to 5xx) before an ejection; default 5.</summary>
    [EnvoyField("consecutive_5xx")]
    public uint? Consecutive5xx { get; set; }

    /// <summary>Time between ejection sweeps; default 10s.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>Ejection time per ejection so far; default 30s.</summary>
    public TimeSpan? BaseEjectionTime { get; set; }

    /// <summary>Most hosts (in percent) that may be ejected at once; default 10.</summary>
    public uint? MaxEjectionPercent { get; set; }

    /// <summary>Chance (percent) that a consecutive-5xx detection ejects; default 100.</summary>
    [EnvoyField("enforcing_consecutive_5xx")]
    public uint? EnforcingConsecutive5xx { get; set; }

    /// <summary>Chance (percent) that a success-rate detection ejects; default 100.</summary>
    public uint? EnforcingSuccessRate { get; set; }

    /// <summary>Hosts with enough volume needed for success-rate detection; default 5.</summary>
    public uint? SuccessRateMinimumHosts { get; set; }

    /// <summary>Requests in an interval for a host to count in success-rate detection; default 100.</summary>
    public uint? SuccessRateRequestVolume { get; set; }

    /// <summary>Standard deviations (×1000) below the mean that make an outlier; default 1900.</summary>
    public uint? SuccessRateStdevFactor { get; set; }

    /// <summary>Consecutive 502/503/504 before an ejection; default 5.</summary>
    public uint? ConsecutiveGatewayFailure { get; set; }

    /// <summary>Chance (percent) that a consecutive-gateway-failure detection ejects; default 0.</summary>
    public uint? EnforcingConsecutiveGatewayFailure { get; set; }

    /// <summary>Count local-origin errors separately (not supported: only false).</summary>
    public bool SplitExternalLocalOriginErrors { get; set; }

    /// <summary>Consecutive local-origin failures before an ejection (split mode only); default 5.</summary>
    public uint? ConsecutiveLocalOriginFailure { get; set; }

    /// <summary>Chance (percent) for consecutive local-origin failure ejections (split mode only); default 100.</summary>
    public uint? EnforcingConsecutiveLocalOriginFailure { get; set; }

    /// <summary>Chance (percent) for local-origin success-rate ejections (split mode only); default 100.</summary>
    public uint? EnforcingLocalOriginSuccessRate { get; set; }

    /// <summary>Failure percentage at or above which a host is an outlier; default 85.</summary>
    public uint? FailurePercentageThreshold { get; set; }

    /// <summary>Chance (percent) that a failure-percentage detection ejects; default 0.</summary>
    public uint? EnforcingFailurePercentage { get; set; }

    /// <summary>Chance (percent) for local-origin failure-percentage ejections (split mode only); default 0.</summary>
    public uint? EnforcingFailurePercentageLocalOrigin { get; set; }

    /// <summary>Hosts needed for failure-percentage detection; default 5.</summary>
    public uint? FailurePercentageMinimumHosts { get; set; }

    /// <summary>Requests in an interval for a host to count in failure-percentage detection; default 50.</summary>
    public uint? FailurePercentageRequestVolume { get; set; }

    /// <summary>Longest ejection; default the larger of 300s and <see cref="BaseEjectionTime"/>.</summary>
    public TimeSpan? MaxEjectionTime { get; set; }

    /// <summary>Most random time added to an ejection; default 0s.</summary>
    public TimeSpan? MaxEjectionTimeJitter { get; set; }

    /// <summary>A successful active health check returns an ejected host; default true.</summary>
    public bool? SuccessfulActiveHealthCheckUnejectHost { get; set; }

    /// <summary>Eject one host even when <see cref="MaxEjectionPercent"/> would allow none; default false.</summary>
    public bool? AlwaysEjectOneHost { get; set; }
}
