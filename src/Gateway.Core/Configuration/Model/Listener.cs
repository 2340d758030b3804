namespace Gateway.Configuration;

/// <summary><c>envoy.config.listener.v3.Listener</c>.</summary>
[EnvoyType("envoy.config.listener.v3.Listener", NotSupported =
[
    "additional_addresses", "filter_chain_matcher", "use_original_dst", "default_filter_chain",
    "per_connection_buffer_limit_bytes", "metadata", "deprecated_v1", "drain_type", "listener_filters",
    "listener_filters_timeout", "continue_on_listener_filters_timeout", "transparent", "freebind",
    "socket_options", "tcp_fast_open_queue_length", "udp_listener_config", "api_listener",
    "connection_balance_config", "reuse_port", "enable_reuse_port", "tcp_backlog_size",
    "max_connections_to_accept_per_socket_event", "bind_to_port", "internal_listener", "enable_mptcp",
    "ignore_global_conn_limit", "bypass_overload_manager", "fcds_config",
])]
public sealed class Listener : EnvoyMessage
{
    /// <summary>Unique name; Envoy generates one when absent.</summary>
    public string? Name { get; set; }

    /// <summary>Where the listener binds.</summary>
    public Address? Address { get; set; }

    /// <summary>Prefix of the listener's stats; default is the address (<c>0.0.0.0_15001</c>).</summary>
    public string? StatPrefix { get; set; }

    /// <summary>Filter chains; exactly one is supported.</summary>
    public List<FilterChain> FilterChains { get; set; } = [];

    /// <summary>Inbound or outbound traffic: an OUTBOUND listener's spans are egress spans.</summary>
    [ProtoField(16)]
    public TrafficDirection TrafficDirection { get; set; }

    /// <summary>Access logs written when each downstream connection closes (a connection-level entry: no request).</summary>
    [ProtoField(22)]
    public List<AccessLogConfig> AccessLog { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.TrafficDirection</c>.</summary>
public enum TrafficDirection
{
    /// <summary>Not said (treated as inbound).</summary>
    Unspecified = 0,

    /// <summary>Traffic into the local service.</summary>
    Inbound = 1,

    /// <summary>Traffic out of the local service.</summary>
    Outbound = 2,
}

/// <summary><c>envoy.config.listener.v3.FilterChain</c>.</summary>
[EnvoyType("envoy.config.listener.v3.FilterChain", NotSupported =
[
    "filter_chain_match", "use_proxy_proto", "metadata", "transport_socket_connect_timeout",
    "on_demand_configuration",
])]
public sealed class FilterChain : EnvoyMessage
{
    /// <summary>Network filters; the HTTP connection manager must be the only one.</summary>
    public List<NetworkFilter> Filters { get; set; } = [];

    /// <summary>Name of the chain (shown in config dumps).</summary>
    public string? Name { get; set; }

    /// <summary>TLS termination (<c>envoy.transport_sockets.tls</c>); plain text when absent.</summary>
    [ProtoField(6)]
    public TransportSocket? TransportSocket { get; set; }
}

/// <summary><c>envoy.config.listener.v3.Filter</c>: a network filter.</summary>
[EnvoyType("envoy.config.listener.v3.Filter", NotSupported = ["config_discovery"])]
public sealed class NetworkFilter : EnvoyMessage
{
    /// <summary>Filter name, e.g. <c>envoy.filters.network.http_connection_manager</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The filter's configuration, typed by its <c>@type</c>.</summary>
    [AnyField(EnvoyTypeCategory.NetworkFilter)]
    public EnvoyMessage? TypedConfig { get; set; }
}
