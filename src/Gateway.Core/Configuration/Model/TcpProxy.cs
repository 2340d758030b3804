namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy</c>: the <c>envoy.filters.network.tcp_proxy</c> network
/// filter, which proxies a connection's bytes to a host of a cluster (the runtime is Gateway.TcpProxy).
/// </summary>
[EnvoyType("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", NotSupported =
[
    "on_demand", "metadata_match", "downstream_idle_timeout", "upstream_idle_timeout", "backoff_options",
    "max_downstream_connection_duration_jitter_percentage", "proxy_protocol_tlvs",
])]
public sealed class TcpProxyConfig : EnvoyMessage
{
    /// <summary>Prefix of the filter's stats (<c>tcp.&lt;stat_prefix&gt;.</c>); required.</summary>
    [ProtoField(1)]
    public string? StatPrefix { get; set; }

    /// <summary>The upstream cluster (one of this and <see cref="WeightedClusters"/>).</summary>
    [ProtoField(2, InOneOf = true)]
    public string? Cluster { get; set; }

    /// <summary>Several clusters, one chosen per connection by weight.</summary>
    [ProtoField(10, InOneOf = true)]
    public TcpProxyWeightedCluster? WeightedClusters { get; set; }

    /// <summary>No bytes either way for this long closes both connections (default 1 h; 0 disables).</summary>
    [ProtoField(8)]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Access logs written when the connection closes.</summary>
    [ProtoField(5)]
    public List<AccessLogConfig> AccessLog { get; set; } = [];

    /// <summary>Connection attempts before giving up (default 1).</summary>
    [ProtoField(7)]
    public uint? MaxConnectAttempts { get; set; }

    /// <summary>The hash of the cluster's consistent-hashing load balancer (at most one policy).</summary>
    [ProtoField(11)]
    public List<TcpProxyHashPolicy> HashPolicy { get; set; } = [];

    /// <summary>A connection is closed this long after it was set up (at least 1 ms; none when absent).</summary>
    [ProtoField(13)]
    public TimeSpan? MaxDownstreamConnectionDuration { get; set; }

    /// <summary>Deprecated form of <see cref="TcpAccessLogOptions.AccessLogFlushInterval"/> (ignored when the options set it).</summary>
    [ProtoField(15)]
    public TimeSpan? AccessLogFlushInterval { get; set; }

    /// <summary>Deprecated form of <see cref="TcpAccessLogOptions.FlushAccessLogOnConnected"/> (ignored when the options set it).</summary>
    [ProtoField(16)]
    public bool FlushAccessLogOnConnected { get; set; }

    /// <summary>When the access logs are written besides the connection's end.</summary>
    [ProtoField(17)]
    public TcpAccessLogOptions? AccessLogOptions { get; set; }

    /// <summary>Carry each connection inside one HTTP stream to the cluster (CONNECT or POST) instead of a TCP connection.</summary>
    [ProtoField(12)]
    public TcpProxyTunnelingConfig? TunnelingConfig { get; set; }
}

/// <summary>
/// <c>envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TunnelingConfig</c>: the HTTP request a tunnelled connection
/// starts with (Envoy's HttpUpstream). <c>request_id_extension</c> is refused: no request id is generated for a tunnel here.
/// </summary>
[EnvoyType("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TunnelingConfig", NotSupported = ["request_id_extension"])]
public sealed class TcpProxyTunnelingConfig : EnvoyMessage
{
    /// <summary>The request's host (<c>:authority</c> / <c>Host</c>, the CONNECT target); a format string; required.</summary>
    [ProtoField(1)]
    public string? Hostname { get; set; }

    /// <summary>POST instead of CONNECT.</summary>
    [ProtoField(2)]
    public bool UsePost { get; set; }

    /// <summary>Headers added to the request (values are formats); pseudo-headers and <c>host</c> cannot be set.</summary>
    [ProtoField(3)]
    public List<HeaderValueOption> HeadersToAdd { get; set; } = [];

    /// <summary>Save the response headers to the connection's filter state (refused when true: the gateway has no filter state).</summary>
    [ProtoField(4)]
    public bool PropagateResponseHeaders { get; set; }

    /// <summary>The POST's path (default <c>/</c>); only with <see cref="UsePost"/>.</summary>
    [ProtoField(5)]
    public string? PostPath { get; set; }

    /// <summary>Save the response trailers to the connection's filter state (refused when true: the gateway has no filter state).</summary>
    [ProtoField(6)]
    public bool PropagateResponseTrailers { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TcpAccessLogOptions</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.TcpAccessLogOptions")]
public sealed class TcpAccessLogOptions : EnvoyMessage
{
    /// <summary>Also write an entry (AccessLogType <c>TcpPeriodic</c>) every interval of the connection's life (at least 1 ms).</summary>
    [ProtoField(1)]
    public TimeSpan? AccessLogFlushInterval { get; set; }

    /// <summary>Also write an entry (AccessLogType <c>TcpUpstreamConnected</c>) when the upstream connection is up.</summary>
    [ProtoField(2)]
    public bool FlushAccessLogOnConnected { get; set; }
}

/// <summary><c>envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster")]
public sealed class TcpProxyWeightedCluster : EnvoyMessage
{
    /// <summary>The clusters and their weights (at least one).</summary>
    [ProtoField(1)]
    public List<TcpProxyClusterWeight> Clusters { get; set; } = [];
}

/// <summary><c>envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight</c>.</summary>
[EnvoyType("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight", NotSupported = ["metadata_match"])]
public sealed class TcpProxyClusterWeight : EnvoyMessage
{
    /// <summary>The cluster's name.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>Its weight (at least 1).</summary>
    [ProtoField(2)]
    public uint Weight { get; set; }
}

/// <summary><c>envoy.type.v3.HashPolicy</c>: what a network filter hashes for a consistent-hashing load balancer.</summary>
[EnvoyType("envoy.type.v3.HashPolicy", NotSupported = ["filter_state"])]
public sealed class TcpProxyHashPolicy : EnvoyMessage
{
    /// <summary>Hash the downstream connection's source IP.</summary>
    [ProtoField(1, InOneOf = true)]
    public TcpProxySourceIp? SourceIp { get; set; }
}

/// <summary><c>envoy.type.v3.HashPolicy.SourceIp</c> (no fields).</summary>
[EnvoyType("envoy.type.v3.HashPolicy.SourceIp")]
public sealed class TcpProxySourceIp : EnvoyMessage
{
}
