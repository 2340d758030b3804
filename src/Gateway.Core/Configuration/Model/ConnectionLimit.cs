namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit</c> (<c>envoy.filters.network.connection_limit</c>):
/// a non-terminal network filter that closes connections beyond <c>max_connections</c> open through its chain.
/// </summary>
[EnvoyType("envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit", NotSupported = ["runtime_enabled"])]
public sealed class ConnectionLimitConfig : EnvoyMessage
{
    /// <summary>The stats' prefix: <c>connection_limit.&lt;stat_prefix&gt;.</c> (required).</summary>
    [ProtoField(1)]
    public string? StatPrefix { get; set; }

    /// <summary>Connections allowed at once (at least 1).</summary>
    [ProtoField(2)]
    public ulong? MaxConnections { get; set; }

    /// <summary>How long a connection over the limit is held before it is closed (default none).</summary>
    [ProtoField(3)]
    public TimeSpan? Delay { get; set; }
}
