namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig</c>: an upgrade type
/// the connection manager allows (or, with <c>enabled: false</c>, lists disabled for routes to enable).
/// </summary>
// filters: a separate HTTP filter chain for the upgrade; the listener has one compiled chain (see docs/compatibility.md).
[EnvoyType("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig", NotSupported = ["filters"])]
public sealed class HcmUpgradeConfig : EnvoyMessage
{
    /// <summary>The case-insensitive upgrade name (<c>websocket</c>, or <c>CONNECT</c> for CONNECT requests).</summary>
    [ProtoField(1)]
    public string? UpgradeType { get; set; }

    /// <summary>Whether the upgrade is allowed by default; default true.</summary>
    [ProtoField(3)]
    public bool? Enabled { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.UpgradeConfig</c>: the route's override of the connection manager's upgrade decision.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.UpgradeConfig")]
public sealed class RouteUpgradeConfig : EnvoyMessage
{
    /// <summary>The case-insensitive upgrade name.</summary>
    [ProtoField(1)]
    public string? UpgradeType { get; set; }

    /// <summary>Whether the upgrade is allowed on this route; default true.</summary>
    [ProtoField(2)]
    public bool? Enabled { get; set; }

    /// <summary>For <c>CONNECT</c>: terminate the CONNECT here and stream its payload over TCP to the cluster's host.</summary>
    [ProtoField(3)]
    public ConnectConfig? ConnectConfig { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig", NotSupported = ["proxy_protocol_config"])]
public sealed class ConnectConfig : EnvoyMessage
{
    /// <summary>Also terminate POST requests as tunnels (their body is the stream), as Envoy's allow_post.</summary>
    [ProtoField(2)]
    public bool AllowPost { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteMatch.ConnectMatcher</c> (no fields): the route matches CONNECT requests only.</summary>
[EnvoyType("envoy.config.route.v3.RouteMatch.ConnectMatcher")]
public sealed class ConnectMatcher : EnvoyMessage;
