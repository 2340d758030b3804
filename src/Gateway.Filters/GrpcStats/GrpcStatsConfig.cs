using Gateway.Configuration;

namespace Gateway.Filters.GrpcStats;

/// <summary><c>envoy.extensions.filters.http.grpc_stats.v3.FilterConfig</c>.</summary>
/// <remarks><c>individual_method_stats_allowlist</c> and <c>stats_for_all_methods</c> are the one-of <c>per_method_stat_specifier</c>.</remarks>
[EnvoyType("envoy.extensions.filters.http.grpc_stats.v3.FilterConfig")]
public sealed class GrpcStatsConfig : EnvoyMessage
{
    /// <summary>Keep a filter state object with the message counts (refused: the gateway has no filter state).</summary>
    [ProtoField(1)]
    public bool EmitFilterState { get; set; }

    /// <summary>The services and methods that get stats of their own; any other call counts under <c>cluster.&lt;name&gt;.grpc.*</c>.</summary>
    [ProtoField(2, InOneOf = true)]
    public GrpcMethodList? IndividualMethodStatsAllowlist { get; set; }

    /// <summary>Stats per service and method for every call (trusted clients only); default false: every call under <c>cluster.&lt;name&gt;.grpc.*</c>.</summary>
    [ProtoField(3, InOneOf = true)]
    public bool? StatsForAllMethods { get; set; }

    /// <summary>Also record <c>upstream_rq_time</c> (from the request's first byte upstream to the response's last).</summary>
    [ProtoField(4)]
    public bool EnableUpstreamStats { get; set; }

    /// <summary>With <c>stats_for_all_methods</c>, the dots of the service name become '_' in the stat names.</summary>
    [ProtoField(5)]
    public bool ReplaceDotsInGrpcServiceName { get; set; }
}

/// <summary><c>envoy.config.core.v3.GrpcMethodList</c>.</summary>
[EnvoyType("envoy.config.core.v3.GrpcMethodList")]
public sealed class GrpcMethodList : EnvoyMessage
{
    /// <summary>The services.</summary>
    [ProtoField(1)]
    public List<GrpcMethodListService> Services { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.GrpcMethodList.Service</c>.</summary>
[EnvoyType("envoy.config.core.v3.GrpcMethodList.Service")]
public sealed class GrpcMethodListService : EnvoyMessage
{
    /// <summary>The fully qualified service name (<c>package.Service</c>); required.</summary>
    [ProtoField(1)]
    public string Name { get; set; } = string.Empty;

    /// <summary>Its methods; at least one.</summary>
    [ProtoField(2)]
    public List<string> MethodNames { get; set; } = [];
}
