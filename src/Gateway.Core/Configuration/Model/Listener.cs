namespace Gateway.Configuration;

/// <summary><c>envoy.config.listener.v3.Listener</c>.</summary>
[EnvoyType("envoy.config.listener.v3.Listener", NotSupported =
[
    "additional_addresses", "filter_chain_matcher", "use_original_dst",
    "metadata", "deprecated_v1", "drain_type", "transparent", "freebind",
    "tcp_fast_open_queue_length", "udp_listener_config", "api_listener",
    "reuse_port", "enable_reuse_port",
    "max_connections_to_accept_per_socket_event", "bind_to_port", "internal_listener", "enable_mptcp",
    "ignore_global_conn_limit", "bypass_overload_manager", "fcds_config",
])]
public sealed class Listener : EnvoyMessage
{
    /// <summary>Unique name; Envoy generates one when absent.</summary>
    public string? Name { get; set; }

    /// <summary>Where the listener binds.</summary>
    public Address? Address { get; set; }

    /// <summary>The buffer limit of a stream's bodies (filters, retries, mirrors; default 1 MiB; 0: none).</summary>
    [ProtoField(5)]
    public uint? PerConnectionBufferLimitBytes { get; set; }

    /// <summary>The accept queue's length (<c>listen()</c>'s backlog; default <c>net.core.somaxconn</c> on Linux).</summary>
    [ProtoField(24)]
    public uint? TcpBacklogSize { get; set; }

    /// <summary>Socket options set on the listening socket, before or after it is bound.</summary>
    [ProtoField(13)]
    public List<SocketOption> SocketOptions { get; set; } = [];

    /// <summary>
    /// How accepted connections are spread over the workers. Only <c>exact_balance</c>, which Kestrel's model already
    /// is: one accept loop per socket hands every connection to the shared thread pool, with no per-worker queues.
    /// </summary>
    [ProtoField(20)]
    public ConnectionBalanceConfig? ConnectionBalanceConfig { get; set; }

    /// <summary>Prefix of the listener's stats; default is the address (<c>0.0.0.0_15001</c>).</summary>
    public string? StatPrefix { get; set; }

    /// <summary>Filter chains, one chosen per connection by its <c>filter_chain_match</c>.</summary>
    public List<FilterChain> FilterChains { get; set; } = [];

    /// <summary>The chain of a connection no <c>filter_chain_match</c> matches (without it such a connection is closed).</summary>
    [ProtoField(25)]
    public FilterChain? DefaultFilterChain { get; set; }

    /// <summary>Filters run on a new connection before its filter chain is chosen (only the TLS inspector).</summary>
    [ProtoField(9)]
    public List<ListenerFilter> ListenerFilters { get; set; } = [];

    /// <summary>How long the listener filters may wait for data (default 15 s; 0 = no limit).</summary>
    [ProtoField(15)]
    public TimeSpan? ListenerFiltersTimeout { get; set; }

    /// <summary>On <see cref="ListenerFiltersTimeout"/>, choose a chain with what is known instead of closing the connection.</summary>
    [ProtoField(17)]
    public bool ContinueOnListenerFiltersTimeout { get; set; }

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
    "use_proxy_proto", "metadata", "transport_socket_connect_timeout", "on_demand_configuration",
])]
public sealed class FilterChain : EnvoyMessage
{
    /// <summary>Which connections this chain takes (absent: every connection).</summary>
    [ProtoField(1)]
    public FilterChainMatch? FilterChainMatch { get; set; }

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

/// <summary><c>envoy.config.listener.v3.FilterChainMatch</c>: empty fields match anything.</summary>
[EnvoyType("envoy.config.listener.v3.FilterChainMatch", NotSupported = ["address_suffix", "suffix_len"])]
public sealed class FilterChainMatch : EnvoyMessage
{
    /// <summary>The connection's destination port (the listener's own, unless the connection was redirected).</summary>
    [ProtoField(8)]
    public uint? DestinationPort { get; set; }

    /// <summary>The connection's destination address is in one of these ranges.</summary>
    [ProtoField(3)]
    public List<CidrRange> PrefixRanges { get; set; } = [];

    /// <summary>Local (loopback or the listener's own address) or external clients.</summary>
    [ProtoField(12)]
    public ConnectionSourceType SourceType { get; set; }

    /// <summary>The client's address (after proxy protocol) is in one of these ranges.</summary>
    [ProtoField(6)]
    public List<CidrRange> SourcePrefixRanges { get; set; } = [];

    /// <summary>The peer's address on the socket is in one of these ranges.</summary>
    [ProtoField(13)]
    public List<CidrRange> DirectSourcePrefixRanges { get; set; } = [];

    /// <summary>The client's port is one of these.</summary>
    [ProtoField(7)]
    public List<uint> SourcePorts { get; set; } = [];

    /// <summary>The SNI (from the TLS inspector) is one of these; <c>*.example.com</c> matches any subdomain.</summary>
    [ProtoField(11)]
    public List<string> ServerNames { get; set; } = [];

    /// <summary><c>tls</c> or <c>raw_buffer</c> (what the TLS inspector found; <c>raw_buffer</c> without one).</summary>
    [ProtoField(9)]
    public string? TransportProtocol { get; set; }

    /// <summary>One of the ALPN protocols the client offers (from the TLS inspector).</summary>
    [ProtoField(10)]
    public List<string> ApplicationProtocols { get; set; } = [];
}

/// <summary><c>FilterChainMatch.ConnectionSourceType</c>.</summary>
public enum ConnectionSourceType
{
    /// <summary>Any connection.</summary>
    Any = 0,

    /// <summary>The client is on loopback or has the listener's own address.</summary>
    SameIpOrLoopback = 1,

    /// <summary>Any other client.</summary>
    External = 2,
}

/// <summary><c>envoy.config.listener.v3.ListenerFilter</c>.</summary>
[EnvoyType("envoy.config.listener.v3.ListenerFilter", NotSupported = ["config_discovery", "filter_disabled"])]
public sealed class ListenerFilter : EnvoyMessage
{
    /// <summary>The filter's name, e.g. <c>envoy.filters.listener.tls_inspector</c>.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The filter's configuration, typed by its <c>@type</c>.</summary>
    [AnyField(EnvoyTypeCategory.ListenerFilter)]
    [ProtoField(3, InOneOf = true)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector</c>: reads the ClientHello's SNI and ALPN without consuming it.</summary>
[EnvoyType("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")]
public sealed class TlsInspector : EnvoyMessage
{
    /// <summary>The JA3 fingerprint of the ClientHello (not supported: only false).</summary>
    [ProtoField(1)]
    public bool? EnableJa3Fingerprinting { get; set; }

    /// <summary>The first read's size; the ClientHello may still be up to 64 KiB.</summary>
    [ProtoField(2)]
    public uint? InitialReadBufferSize { get; set; }
}

/// <summary><c>envoy.config.listener.v3.Listener.ConnectionBalanceConfig</c>; one of its balancers is required.</summary>
[EnvoyType("envoy.config.listener.v3.Listener.ConnectionBalanceConfig", NotSupported = ["extend_balance"])]
public sealed class ConnectionBalanceConfig : EnvoyMessage
{
    /// <summary>Exact balancing of connections between the workers.</summary>
    [ProtoField(1)]
    public ExactBalance? ExactBalance { get; set; }
}

/// <summary><c>envoy.config.listener.v3.Listener.ConnectionBalanceConfig.ExactBalance</c> (no fields).</summary>
[EnvoyType("envoy.config.listener.v3.Listener.ConnectionBalanceConfig.ExactBalance")]
public sealed class ExactBalance : EnvoyMessage;
