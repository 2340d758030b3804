namespace Gateway.Translation;

/// <summary>
/// One entry of an upgrade map (Envoy's UpgradeMap): an upgrade type, compared ignoring ASCII case, and whether it is
/// allowed. The connection manager's entries are its <c>upgrade_configs</c>; a route's override them per type.
/// </summary>
/// <param name="UpgradeType">The <c>upgrade_type</c> as configured (<c>websocket</c>, <c>CONNECT</c>).</param>
/// <param name="Enabled"><c>enabled</c> (default true).</param>
/// <param name="Connect">A route's <c>CONNECT</c> entry with <c>connect_config</c>: the gateway terminates the CONNECT; null otherwise.</param>
public sealed record UpgradePlan(string UpgradeType, bool Enabled, ConnectTerminationPlan? Connect = null)
{
    /// <summary>The entry for <paramref name="upgradeType"/> in <paramref name="map"/>, or null (a linear scan: maps hold one or two entries, and only upgrades ask).</summary>
    public static UpgradePlan? Find(IReadOnlyList<UpgradePlan>? map, string upgradeType)
    {
        if (map is null)
        {
            return null;
        }
        for (var i = 0; i < map.Count; i++)
        {
            if (string.Equals(map[i].UpgradeType, upgradeType, StringComparison.OrdinalIgnoreCase))
            {
                return map[i];
            }
        }
        return null;
    }

    /// <summary>
    /// Envoy's createUpgradeFilterChain: the route's entry for the type decides when it has one (disabled refuses even what
    /// the connection manager allows; enabled allows even what it does not list); otherwise the connection manager's entry
    /// must be there and enabled.
    /// </summary>
    public static bool Allows(IReadOnlyList<UpgradePlan>? connectionManager, IReadOnlyList<UpgradePlan>? route, string upgradeType)
    {
        if (Find(route, upgradeType) is { } routeEntry)
        {
            return routeEntry.Enabled;
        }
        return Find(connectionManager, upgradeType)?.Enabled == true;
    }
}

/// <summary>A route's <c>connect_config</c>: CONNECT (and, with <c>allow_post</c>, POST) requests become a TCP stream to the cluster's host.</summary>
/// <param name="AllowPost"><c>allow_post</c>.</param>
public sealed record ConnectTerminationPlan(bool AllowPost);

/// <summary>Translates <c>upgrade_configs</c> (connection manager and route) into upgrade maps.</summary>
internal static class UpgradeTranslation
{
    /// <summary>The connection manager's map; null when it lists none.</summary>
    public static IReadOnlyList<UpgradePlan>? ForConnectionManager(Configuration.HttpConnectionManager hcm)
    {
        if (hcm.UpgradeConfigs.Count == 0)
        {
            return null;
        }
        var map = new UpgradePlan[hcm.UpgradeConfigs.Count];
        for (var i = 0; i < map.Length; i++)
        {
            var config = hcm.UpgradeConfigs[i];
            map[i] = new UpgradePlan(config.UpgradeType ?? string.Empty, config.Enabled ?? true);
        }
        return map;
    }

    /// <summary>A route's map; null when its action lists none.</summary>
    public static IReadOnlyList<UpgradePlan>? ForRoute(Configuration.RouteAction? action)
    {
        if (action is null || action.UpgradeConfigs.Count == 0)
        {
            return null;
        }
        var map = new UpgradePlan[action.UpgradeConfigs.Count];
        for (var i = 0; i < map.Length; i++)
        {
            var config = action.UpgradeConfigs[i];
            map[i] = new UpgradePlan(config.UpgradeType ?? string.Empty, config.Enabled ?? true,
                config.ConnectConfig is { } connect ? new ConnectTerminationPlan(connect.AllowPost) : null);
        }
        return map;
    }
}
