using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary><c>envoy.config.bootstrap.v3.Bootstrap</c>: the root of an Envoy configuration.</summary>
[EnvoyType("envoy.config.bootstrap.v3.Bootstrap", NotSupported =
[
    "node_context_params", "hds_config", "flags_path",
    "stats_sinks", "deferred_stat_options", "stats_config", "stats_flush_interval", "stats_flush_on_admin",
    "watchdog", "watchdogs", "layered_runtime", "overload_manager", "enable_dispatcher_stats",
    "header_prefix", "stats_server_version_override", "use_tcp_for_dns_lookups", "dns_resolution_config",
    "typed_dns_resolver_config", "bootstrap_extensions", "fatal_actions", "config_sources",
    "default_config_source", "default_socket_interface", "certificate_provider_instances", "inline_headers",
    "perf_tracing_file_path", "default_regex_engine", "xds_delegate_extension", "xds_config_tracker_extension",
    "listener_manager", "application_log_config", "grpc_async_client_manager_config", "memory_allocator_manager",
    "stats_eviction_interval",
])]
public sealed class Bootstrap : EnvoyMessage
{
    /// <summary>Who this gateway is: shown by the admin <c>/server_info</c> and <c>/config_dump</c>.</summary>
    public Node? Node { get; set; }

    /// <summary>The admin listener; absent means no admin API, as in Envoy.</summary>
    public Admin? Admin { get; set; }

    /// <summary>Listeners and clusters given in the file.</summary>
    public StaticResources? StaticResources { get; set; }

    /// <summary>Where listeners and clusters beyond the static ones come from (LDS, CDS).</summary>
    [ProtoField(3)]
    public DynamicResources? DynamicResources { get; set; }

    /// <summary>The server-wide tracer (legacy): used by connection managers whose <c>tracing</c> names no provider.</summary>
    [ProtoField(9)]
    public BootstrapTracing? Tracing { get; set; }

    /// <summary>Cluster manager settings: the local cluster zone-aware routing compares against.</summary>
    [ProtoField(4)]
    public ClusterManager? ClusterManager { get; set; }
}

/// <summary><c>envoy.config.bootstrap.v3.ClusterManager</c>.</summary>
[EnvoyType("envoy.config.bootstrap.v3.ClusterManager", NotSupported =
[
    "outlier_detection", "upstream_bind_config", "load_stats_config", "enable_deferred_cluster_creation",
])]
public sealed class ClusterManager : EnvoyMessage
{
    /// <summary>
    /// The cluster this gateway belongs to (a static cluster): zone-aware routing spreads requests over the upstream
    /// zones in proportion to this cluster's hosts per zone.
    /// </summary>
    [ProtoField(1)]
    public string? LocalClusterName { get; set; }
}

/// <summary><c>envoy.config.bootstrap.v3.Admin</c>.</summary>
[EnvoyType("envoy.config.bootstrap.v3.Admin", NotSupported =
[
    "profile_path", "socket_options", "ignore_global_conn_limit", "allow_paths",
])]
public sealed class Admin : EnvoyMessage
{
    /// <summary>Where the admin API listens.</summary>
    public Address? Address { get; set; }

    /// <summary>Access logs of the admin requests.</summary>
    [ProtoField(5)]
    public List<AccessLogConfig> AccessLog { get; set; } = [];

    /// <summary>Deprecated: a file logger of the admin requests in Envoy's default format, after those of <see cref="AccessLog"/>.</summary>
    [ProtoField(1)]
    public string? AccessLogPath { get; set; }
}

/// <summary><c>envoy.config.bootstrap.v3.Bootstrap.StaticResources</c>.</summary>
[EnvoyType("envoy.config.bootstrap.v3.Bootstrap.StaticResources")]
public sealed class StaticResources : EnvoyMessage
{
    /// <summary>Static listeners.</summary>
    public List<Listener> Listeners { get; set; } = [];

    /// <summary>Static clusters.</summary>
    public List<Cluster> Clusters { get; set; } = [];

    /// <summary>Static secrets, which TLS contexts refer to by name.</summary>
    public List<Secret> Secrets { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.Node</c>: the identity of this gateway.</summary>
[EnvoyType("envoy.config.core.v3.Node", NotSupported =
[
    // The user_agent fields and extensions are Envoy's own to set.
    "dynamic_parameters", "user_agent_name", "user_agent_version", "user_agent_build_version",
    "extensions", "client_features", "listening_addresses",
])]
public sealed class Node : EnvoyMessage
{
    /// <summary>An opaque node identifier.</summary>
    public string? Id { get; set; }

    /// <summary>The local service cluster name.</summary>
    public string? Cluster { get; set; }

    /// <summary>Opaque metadata about this gateway (a <c>google.protobuf.Struct</c>: any keys, as Istio's bootstraps have them).</summary>
    public JsonObject? Metadata { get; set; }

    /// <summary>Where this gateway runs.</summary>
    public Locality? Locality { get; set; }
}

/// <summary><c>envoy.config.core.v3.Locality</c>.</summary>
[EnvoyType("envoy.config.core.v3.Locality")]
public sealed class Locality : EnvoyMessage
{
    /// <summary>The region.</summary>
    public string? Region { get; set; }

    /// <summary>The zone within the region.</summary>
    public string? Zone { get; set; }

    /// <summary>The sub-zone within the zone.</summary>
    public string? SubZone { get; set; }
}
