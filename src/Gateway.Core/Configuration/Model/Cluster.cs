namespace Gateway.Configuration;

/// <summary><c>envoy.config.cluster.v3.Cluster</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster", NotSupported =
[
    "per_connection_buffer_limit_bytes",
    "original_dst_lb_config",
    "upstream_connection_options", "close_connections_on_host_health_failure", "ignore_health_on_host_removal",
    "filters", "lrs_server", "lrs_report_endpoint_metrics", "track_timeout_budgets",
    "upstream_config", "track_cluster_stats", "preconnect_policy", "connection_pool_per_downstream_connection",
    "dns_failure_refresh_rate", "respect_dns_ttl", "dns_jitter",
    "use_tcp_for_dns_lookups", "dns_resolution_config", "typed_dns_resolver_config", "wait_for_warm_on_init",
    "cleanup_interval", "upstream_bind_config", "cluster_type", "dns_resolvers",
    "alt_stat_name", "load_balancing_weight_override", "shared_transport_socket",
])]
public sealed class Cluster : EnvoyMessage
{
    /// <summary>Unique name; used in routes and stats.</summary>
    public string? Name { get; set; }

    /// <summary>How endpoints are discovered.</summary>
    public DiscoveryType Type { get; set; }

    /// <summary>TCP connect timeout; default 5s.</summary>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>Which address families DNS answers may use.</summary>
    public DnsLookupFamily DnsLookupFamily { get; set; }

    /// <summary>DNS refresh interval for DNS clusters; default 5s.</summary>
    public TimeSpan? DnsRefreshRate { get; set; }

    /// <summary>Load-balancing policy.</summary>
    public LbPolicy LbPolicy { get; set; }

    /// <summary>The endpoints.</summary>
    public ClusterLoadAssignment? LoadAssignment { get; set; }

    /// <summary>An EDS cluster's endpoint source.</summary>
    [ProtoField(3)]
    public EdsClusterConfig? EdsClusterConfig { get; set; }

    /// <summary>Connection, request and retry limits per routing priority.</summary>
    public CircuitBreakers? CircuitBreakers { get; set; }

    /// <summary>Load-balancing settings common to all policies.</summary>
    public CommonLbConfig? CommonLbConfig { get; set; }

    /// <summary>Passive health checking: ejects hosts that fail (consecutive errors, success rate, failure percentage).</summary>
    public OutlierDetection? OutlierDetection { get; set; }

    /// <summary>Active health checks (this gateway runs at most one per cluster).</summary>
    public List<HealthCheck> HealthChecks { get; set; } = [];

    /// <summary>Opaque metadata for filters.</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>RING_HASH settings.</summary>
    [ProtoField(23, InOneOf = true)]
    public RingHashLbConfig? RingHashLbConfig { get; set; }

    /// <summary>MAGLEV settings.</summary>
    [ProtoField(52, InOneOf = true)]
    public MaglevLbConfig? MaglevLbConfig { get; set; }

    /// <summary>LEAST_REQUEST settings.</summary>
    [ProtoField(37, InOneOf = true)]
    public LeastRequestLbConfig? LeastRequestLbConfig { get; set; }

    /// <summary>Subsets of the endpoints by their <c>envoy.lb</c> metadata, chosen by the route's <c>metadata_match</c>.</summary>
    [ProtoField(22)]
    public LbSubsetConfig? LbSubsetConfig { get; set; }

    /// <summary>ROUND_ROBIN settings.</summary>
    [ProtoField(56, InOneOf = true)]
    public RoundRobinLbConfig? RoundRobinLbConfig { get; set; }

    /// <summary>The typed load-balancing policy; when set, Envoy ignores <see cref="LbPolicy"/>.</summary>
    [ProtoField(41)]
    public LoadBalancingPolicy? LoadBalancingPolicy { get; set; }

    /// <summary>The transport socket of endpoints no <see cref="TransportSocketMatches"/> entry matches (none: plain text).</summary>
    [ProtoField(24)]
    public TransportSocket? TransportSocket { get; set; }

    /// <summary>Transport sockets chosen by endpoint (then locality) metadata, first match wins.</summary>
    [ProtoField(43)]
    public List<TransportSocketMatch> TransportSocketMatches { get; set; } = [];

    /// <summary>The deprecated cluster-level <c>auto_sni</c> / <c>auto_san_validation</c> (<see cref="Configuration.HttpProtocolOptions"/> has them too).</summary>
    [ProtoField(46)]
    public UpstreamHttpProtocolOptions? UpstreamHttpProtocolOptions { get; set; }

    /// <summary>The deprecated cluster-level HTTP/1.1 options (ignored when typed_extension_protocol_options has <see cref="Configuration.HttpProtocolOptions"/>).</summary>
    [ProtoField(13)]
    public Http1ProtocolOptions? HttpProtocolOptions { get; set; }

    /// <summary>The deprecated cluster-level HTTP/2 options: when set, the cluster speaks HTTP/2.</summary>
    [ProtoField(14)]
    public Http2ProtocolOptions? Http2ProtocolOptions { get; set; }

    /// <summary>The deprecated cluster-level options common to HTTP/1 and HTTP/2.</summary>
    [ProtoField(29)]
    public CommonHttpProtocolOptions? CommonHttpProtocolOptions { get; set; }

    /// <summary>The deprecated cluster-level protocol choice: the configured one, or the downstream request's.</summary>
    [ProtoField(26)]
    public ClusterProtocolSelection ProtocolSelection { get; set; }

    /// <summary>The deprecated cluster-level limit of requests per connection (refused: .NET's pool has none).</summary>
    [ProtoField(9)]
    public uint? MaxRequestsPerConnection { get; set; }

    /// <summary>Protocol options by extension name; only <c>envoy.extensions.upstreams.http.v3.HttpProtocolOptions</c>.</summary>
    [ProtoField(36)]
    [AnyField(EnvoyTypeCategory.Other)]
    public Dictionary<string, EnvoyMessage> TypedExtensionProtocolOptions { get; set; } = new(StringComparer.Ordinal);
}

/// <summary><c>envoy.config.cluster.v3.Cluster.RoundRobinLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.RoundRobinLbConfig")]
public sealed class RoundRobinLbConfig : EnvoyMessage
{
    /// <summary>Slow start of new (or newly healthy) hosts.</summary>
    [ProtoField(1)]
    public SlowStartConfig? SlowStartConfig { get; set; }
}

/// <summary>The fields of the two slow start messages (the cluster's and the typed policies' common one).</summary>
public abstract class SlowStartConfigBase : EnvoyMessage
{
    /// <summary>How long a host stays in slow start after it became healthy; unset (0) disables slow start.</summary>
    [ProtoField(1)]
    public TimeSpan? SlowStartWindow { get; set; }

    /// <summary>The ramp-up's shape: the time factor is raised to 1/aggression; default 1.0 (linear).</summary>
    [ProtoField(2)]
    public RuntimeDouble? Aggression { get; set; }

    /// <summary>The smallest share of its weight a host in slow start gets; default 10 %.</summary>
    [ProtoField(3)]
    public Percent? MinWeightPercent { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.SlowStartConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.SlowStartConfig")]
public sealed class SlowStartConfig : SlowStartConfigBase;

/// <summary><c>envoy.config.cluster.v3.Cluster.LeastRequestLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.LeastRequestLbConfig")]
public sealed class LeastRequestLbConfig : EnvoyMessage
{
    /// <summary>How many random hosts are compared (equal weights); default 2, at least 2.</summary>
    [ProtoField(1)]
    public uint? ChoiceCount { get; set; }

    /// <summary>The exponent of the active requests in the weighted pick; default 1.0.</summary>
    [ProtoField(2)]
    public RuntimeDouble? ActiveRequestBias { get; set; }

    /// <summary>Slow start of new (or newly healthy) hosts.</summary>
    [ProtoField(3)]
    public SlowStartConfig? SlowStartConfig { get; set; }
}

/// <summary>
/// <c>envoy.config.core.v3.RuntimeDouble</c>. There is no runtime layer: <see cref="RuntimeKey"/> is accepted and the
/// <see cref="DefaultValue"/> always applies (docs/compatibility.md).
/// </summary>
[EnvoyType("envoy.config.core.v3.RuntimeDouble")]
public sealed class RuntimeDouble : EnvoyMessage
{
    /// <summary>The value.</summary>
    [ProtoField(1)]
    public double DefaultValue { get; set; }

    /// <summary>The runtime key that would override it in Envoy (required).</summary>
    [ProtoField(2)]
    public string? RuntimeKey { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.CommonLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.CommonLbConfig", NotSupported =
[
    "update_merge_window", "close_connections_on_host_set_change", "override_host_status",
])]
public sealed class CommonLbConfig : EnvoyMessage
{
    /// <summary>Below this percentage of healthy hosts, all hosts are used (panic mode); default 50, 0 disables.</summary>
    public Percent? HealthyPanicThreshold { get; set; }

    /// <summary>Settings of the consistent-hashing policies (RING_HASH, MAGLEV).</summary>
    [ProtoField(7)]
    public ConsistentHashingLbConfig? ConsistentHashingLbConfig { get; set; }

    /// <summary>Set (it has no fields): the load balancer first picks a locality by its <c>load_balancing_weight</c>, then a host in it.</summary>
    [ProtoField(3, InOneOf = true)]
    public LocalityWeightedLbConfig? LocalityWeightedLbConfig { get; set; }

    /// <summary>Zone-aware routing against <c>cluster_manager.local_cluster_name</c> (one-of with <see cref="LocalityWeightedLbConfig"/>).</summary>
    [ProtoField(2, InOneOf = true)]
    public ZoneAwareLbConfig? ZoneAwareLbConfig { get; set; }

    /// <summary>Hosts added after the initial set are excluded from load-balancing calculations until their first active health check.</summary>
    [ProtoField(5)]
    public bool IgnoreNewHostsUntilFirstHc { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.CommonLbConfig.ZoneAwareLbConfig</c>.</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.CommonLbConfig.ZoneAwareLbConfig")]
public sealed class ZoneAwareLbConfig : ZoneAwareLbConfigBase;

/// <summary>The fields both zone-aware messages have (the cluster's and the typed policies' common one).</summary>
public abstract class ZoneAwareLbConfigBase : EnvoyMessage
{
    /// <summary>Percent of requests considered for zone-aware routing; default 100.</summary>
    [ProtoField(1)]
    public Percent? RoutingEnabled { get; set; }

    /// <summary>Fewer healthy upstream hosts than this: no zone-aware routing; default 6.</summary>
    [ProtoField(2)]
    public ulong? MinClusterSize { get; set; }

    /// <summary>In panic mode fail the requests instead of using every host.</summary>
    [ProtoField(3)]
    public bool FailTrafficOnPanic { get; set; }
}

/// <summary><c>envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig</c> (no fields).</summary>
[EnvoyType("envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig")]
public sealed class LocalityWeightedLbConfig : EnvoyMessage;

/// <summary><c>envoy.type.v3.Percent</c>: a percentage in [0, 100].</summary>
[EnvoyType("envoy.type.v3.Percent")]
public sealed class Percent : EnvoyMessage
{
    /// <summary>The percentage.</summary>
    public double Value { get; set; }
}

/// <summary><c>Cluster.ClusterProtocolSelection</c>.</summary>
public enum ClusterProtocolSelection
{
    /// <summary>HTTP/2 when <c>http2_protocol_options</c> is set, else HTTP/1.1.</summary>
    UseConfiguredProtocol = 0,

    /// <summary>The downstream request's protocol.</summary>
    UseDownstreamProtocol = 1,
}

/// <summary><c>Cluster.DiscoveryType</c>.</summary>
public enum DiscoveryType
{
    /// <summary>Fixed IP endpoints.</summary>
    Static = 0,

    /// <summary>Every resolved address of every endpoint is a host.</summary>
    StrictDns = 1,

    /// <summary>Only the first resolved address is used.</summary>
    LogicalDns = 2,

    /// <summary>Endpoint discovery service (not supported).</summary>
    Eds = 3,

    /// <summary>Original destination (not supported).</summary>
    OriginalDst = 4,
}

/// <summary><c>Cluster.DnsLookupFamily</c>.</summary>
public enum DnsLookupFamily
{
    /// <summary>IPv6 if available, else IPv4.</summary>
    Auto = 0,

    /// <summary>IPv4 only.</summary>
    V4Only = 1,

    /// <summary>IPv6 only.</summary>
    V6Only = 2,

    /// <summary>IPv4 if available, else IPv6.</summary>
    V4Preferred = 3,

    /// <summary>Both families.</summary>
    All = 4,
}

/// <summary><c>Cluster.LbPolicy</c>.</summary>
public enum LbPolicy
{
    /// <summary>Round robin.</summary>
    RoundRobin = 0,

    /// <summary>Power of two choices on active requests.</summary>
    LeastRequest = 1,

    /// <summary>Consistent hashing ring (ketama).</summary>
    RingHash = 2,

    /// <summary>Uniform random.</summary>
    Random = 3,

    /// <summary>Maglev consistent hashing.</summary>
    Maglev = 5,

    /// <summary>Cluster-provided (not supported).</summary>
    ClusterProvided = 6,

    /// <summary>Extension policy (not supported).</summary>
    LoadBalancingPolicyConfig = 7,
}

/// <summary><c>envoy.config.endpoint.v3.ClusterLoadAssignment</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.ClusterLoadAssignment", NotSupported = ["named_endpoints"])]
public sealed class ClusterLoadAssignment : EnvoyMessage
{
    /// <summary>Name (informational for static clusters).</summary>
    public string? ClusterName { get; set; }

    /// <summary>Endpoint groups.</summary>
    public List<LocalityLbEndpoints> Endpoints { get; set; } = [];

    /// <summary>Load balancing policy settings (the overprovisioning factor).</summary>
    public ClusterLoadAssignmentPolicy? Policy { get; set; }
}

/// <summary><c>envoy.config.endpoint.v3.ClusterLoadAssignment.Policy</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.ClusterLoadAssignment.Policy", NotSupported = ["endpoint_stale_after"])]
public sealed class ClusterLoadAssignmentPolicy : EnvoyMessage
{
    /// <summary>
    /// Requests dropped by the router before host selection (503, response flag <c>DO</c>); Envoy takes one
    /// category only and rejects a longer list.
    /// </summary>
    public List<DropOverload> DropOverloads { get; set; } = [];

    /// <summary>
    /// Percent by which a priority's (and a locality's) healthy share is scaled before it counts as full: 140 (the
    /// default) means a level with 72% healthy hosts still takes all its load; at least 1.
    /// </summary>
    public uint? OverprovisioningFactor { get; set; }

    /// <summary>A priority level's health counts its hosts' weights (healthy weight / total weight) instead of its hosts.</summary>
    public bool WeightedPriorityHealth { get; set; }
}

/// <summary><c>envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.DropOverload</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.DropOverload")]
public sealed class DropOverload : EnvoyMessage
{
    /// <summary>The drop's category (load reports name it); at least one character.</summary>
    public string? Category { get; set; }

    /// <summary>The share of requests dropped; unset drops none.</summary>
    public FractionalPercent? DropPercentage { get; set; }
}

/// <summary><c>envoy.config.endpoint.v3.LocalityLbEndpoints</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.LocalityLbEndpoints", NotSupported =
    ["leds_cluster_locality_config", "proximity"])]
public sealed class LocalityLbEndpoints : EnvoyMessage
{
    /// <summary>Where the endpoints run (region, zone, sub-zone); shown by <c>/clusters</c>.</summary>
    public Locality? Locality { get; set; }

    /// <summary>The endpoints.</summary>
    public List<LbEndpoint> LbEndpoints { get; set; } = [];

    /// <summary>The locality's weight (used with <c>locality_weighted_lb_config</c>); at least 1; unset, the locality gets no traffic then.</summary>
    public uint? LoadBalancingWeight { get; set; }

    /// <summary>The priority level (0 the highest); the load balancer fails over to lower levels by their health.</summary>
    public uint Priority { get; set; }

    /// <summary>The locality's metadata: read only by <c>transport_socket_matches</c> (after the endpoint's own), as in Envoy.</summary>
    [ProtoField(9)]
    public Metadata? Metadata { get; set; }
}

/// <summary><c>envoy.config.endpoint.v3.LbEndpoint</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.LbEndpoint", NotSupported =
    ["endpoint_name"])]
public sealed class LbEndpoint : EnvoyMessage
{
    /// <summary>The endpoint's health as the configuration states it (Envoy's EDS health).</summary>
    public HealthStatus HealthStatus { get; set; }

    /// <summary>The endpoint.</summary>
    public Endpoint? Endpoint { get; set; }

    /// <summary>Opaque metadata for filters and the load balancer, on the hosts made from this endpoint.</summary>
    public Metadata? Metadata { get; set; }

    /// <summary>The weight of the hosts made from this endpoint (1 when not set); at least 1.</summary>
    public uint? LoadBalancingWeight { get; set; }
}

/// <summary><c>envoy.config.core.v3.HealthStatus</c>.</summary>
public enum HealthStatus
{
    /// <summary>Not known: treated as healthy.</summary>
    Unknown = 0,

    /// <summary>Healthy.</summary>
    Healthy = 1,

    /// <summary>Unhealthy (Envoy's <c>FAILED_EDS_HEALTH</c>).</summary>
    Unhealthy = 2,

    /// <summary>Draining: unhealthy for the load balancer.</summary>
    Draining = 3,

    /// <summary>The health check timed out: unhealthy for the load balancer.</summary>
    Timeout = 4,

    /// <summary>Degraded: used only when too few hosts are healthy (Envoy's <c>DEGRADED_EDS_HEALTH</c>).</summary>
    Degraded = 5,
}

/// <summary><c>envoy.config.endpoint.v3.Endpoint</c>.</summary>
[EnvoyType("envoy.config.endpoint.v3.Endpoint", NotSupported = ["health_check_config", "additional_addresses"])]
public sealed class Endpoint : EnvoyMessage
{
    /// <summary>Address of the endpoint.</summary>
    public Address? Address { get; set; }

    /// <summary>Host name used by <c>auto_host_rewrite</c>.</summary>
    public string? Hostname { get; set; }
}
