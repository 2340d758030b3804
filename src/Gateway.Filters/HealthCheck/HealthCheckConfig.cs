using Gateway.Configuration;

namespace Gateway.Filters.HealthCheck;

/// <summary><c>envoy.extensions.filters.http.health_check.v3.HealthCheck</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.health_check.v3.HealthCheck")]
public sealed class HealthCheckConfig : EnvoyMessage
{
    /// <summary>True: health checks go upstream (answered locally only while the server fails health checks); false: answered here. Required.</summary>
    [ProtoField(1)]
    public bool? PassThroughMode { get; set; }

    /// <summary>With pass-through: how long an upstream health-check answer is reused (the cache is cleared every period).</summary>
    [ProtoField(3)]
    public TimeSpan? CacheTime { get; set; }

    /// <summary>Without pass-through: each cluster must have at least this percentage of healthy hosts for a 200.</summary>
    [ProtoField(4)]
    public Dictionary<string, Percent> ClusterMinHealthyPercentages { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What makes a request a health check (every matcher must match; <c>:path</c> for the endpoint).</summary>
    [ProtoField(5)]
    public List<HeaderMatcher> Headers { get; set; } = [];
}
