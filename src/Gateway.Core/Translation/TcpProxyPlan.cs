using Gateway.Configuration;

namespace Gateway.Translation;

/// <summary>A filter chain's <c>envoy.filters.network.tcp_proxy</c>, translated: what a connection given that chain runs.</summary>
internal sealed record TcpProxyPlan(string StatPrefix, IReadOnlyList<TcpProxyClusterPlan> Clusters)
{
    /// <summary>Envoy's default <c>idle_timeout</c>.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// The connection manager of a TCP proxy chain, which has none: nothing of it runs (the connection never reaches HTTP),
    /// it only keeps <see cref="FilterChainPlan.ConnectionManager"/> non-null for the code that walks every chain.
    /// </summary>
    public static readonly ConnectionManagerPlan NoConnectionManager = new(
        StatPrefix: string.Empty, ServerName: "envoy", ServerHeaderTransformation: default, GenerateRequestId: false,
        PreserveExternalRequestId: false, AlwaysSetRequestIdInResponse: false, SuppressEnvoyHeaders: true, RouteConfigName: string.Empty, Routes: []);

    /// <summary><c>idle_timeout</c>: null when disabled (0).</summary>
    public TimeSpan? IdleTimeout { get; init; } = DefaultIdleTimeout;

    /// <summary><c>max_connect_attempts</c> (default 1).</summary>
    public int MaxConnectAttempts { get; init; } = 1;

    /// <summary><c>max_downstream_connection_duration</c>, or null for no limit.</summary>
    public TimeSpan? MaxDownstreamConnectionDuration { get; init; }

    /// <summary>True when <c>hash_policy</c> hashes the source IP.</summary>
    public bool HashSourceIp { get; init; }

    /// <summary><c>access_log_flush_interval</c>: also an entry (TcpPeriodic) every interval; null: none.</summary>
    public TimeSpan? AccessLogFlushInterval { get; init; }

    /// <summary><c>flush_access_log_on_connected</c>: also an entry (TcpUpstreamConnected) when the upstream is up.</summary>
    public bool FlushAccessLogOnConnected { get; init; }

    /// <summary>The filter's <c>access_log</c>, written when the connection closes.</summary>
    public IReadOnlyList<AccessLog.AccessLogPlan> AccessLogs { get; init; } = [];

    /// <summary><c>tunneling_config</c>: each connection goes inside one HTTP stream to the cluster; null: a TCP connection.</summary>
    public TcpProxyTunnelPlan? Tunnel { get; init; }

    /// <summary>Translates a validated configuration; <paramref name="clusterNames"/> are the bootstrap's clusters.</summary>
    public static TcpProxyPlan Translate(TcpProxyConfig config, IReadOnlySet<string> clusterNames)
    {
        var clusters = new List<TcpProxyClusterPlan>();
        if (!string.IsNullOrEmpty(config.Cluster))
        {
            clusters.Add(new TcpProxyClusterPlan(config.Cluster, 1, clusterNames.Contains(config.Cluster)));
        }
        else
        {
            foreach (var entry in config.WeightedClusters!.Clusters)
            {
                clusters.Add(new TcpProxyClusterPlan(entry.Name!, entry.Weight, clusterNames.Contains(entry.Name!)));
            }
        }
        var idle = config.IdleTimeout ?? DefaultIdleTimeout;
        var logs = AccessLog.AccessLogCompiler.Compile(config.AccessLog);
        return new TcpProxyPlan(config.StatPrefix!, clusters)
        {
            // Envoy keeps whole milliseconds; under 1 ms is 0, which disables the timeout.
            IdleTimeout = idle.TotalMilliseconds >= 1 ? TimeSpan.FromMilliseconds(Math.Floor(idle.TotalMilliseconds)) : null,
            MaxConnectAttempts = (int)Math.Min(config.MaxConnectAttempts ?? 1, int.MaxValue),
            MaxDownstreamConnectionDuration = config.MaxDownstreamConnectionDuration,
            HashSourceIp = config.HashPolicy.Count == 1 && config.HashPolicy[0].SourceIp is not null,
            AccessLogs = logs,
            // The options' fields win over the deprecated ones (Envoy ignores those when both are set).
            AccessLogFlushInterval = logs.Count == 0 ? null : config.AccessLogOptions is { } options ? options.AccessLogFlushInterval ?? config.AccessLogFlushInterval : config.AccessLogFlushInterval,
            FlushAccessLogOnConnected = logs.Count != 0 && (config.AccessLogOptions?.FlushAccessLogOnConnected ?? config.FlushAccessLogOnConnected),
            Tunnel = config.TunnelingConfig is { } tunneling
                ? new TcpProxyTunnelPlan(tunneling.Hostname!, tunneling.UsePost, string.IsNullOrEmpty(tunneling.PostPath) ? "/" : tunneling.PostPath, tunneling.HeadersToAdd)
                : null,
        };
    }
}

/// <summary>One cluster a TCP proxy may connect to: its weight (1 for a single cluster) and whether the bootstrap has it.</summary>
internal sealed record TcpProxyClusterPlan(string Name, uint Weight, bool Known);

/// <summary>
/// A TCP proxy's <c>tunneling_config</c>, translated: the request each connection's tunnel starts with (Envoy's
/// HttpUpstream). <paramref name="Hostname"/> and the values of <paramref name="HeadersToAdd"/> are validated formats;
/// <paramref name="PostPath"/> is <c>/</c> when not given (Envoy's default).
/// </summary>
internal sealed record TcpProxyTunnelPlan(string Hostname, bool UsePost, string PostPath, List<HeaderValueOption> HeadersToAdd);
