using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks <c>upgrade_configs</c> of a connection manager and of a route action, with Envoy's errors for duplicates and a
/// <c>connect_config</c> on a non-CONNECT type. Only the types the gateway can carry are accepted: <c>websocket</c>
/// (YARP proxies it over HTTP/1.1 and RFC 8441) and <c>CONNECT</c>; YARP drops the <c>upgrade</c> header of any other.
/// </summary>
internal static class UpgradeConfigValidator
{
    /// <summary>Envoy's upgrade type of a CONNECT request (the method).</summary>
    public const string Connect = "CONNECT";

    /// <summary>The WebSocket upgrade type.</summary>
    public const string WebSocket = "websocket";

    public static void Validate(ValidationContext context, HttpConnectionManager hcm)
    {
        for (var i = 0; i < hcm.UpgradeConfigs.Count; i++)
        {
            var config = hcm.UpgradeConfigs[i];
            // Envoy's HttpConnectionManagerConfig (findUpgradeCaseInsensitive).
            CheckType(context, config, config.UpgradeType, i, j => hcm.UpgradeConfigs[j].UpgradeType, "Error: multiple upgrade configs with the same name: '{0}'");
        }
    }

    public static void Validate(ValidationContext context, RouteAction action)
    {
        for (var i = 0; i < action.UpgradeConfigs.Count; i++)
        {
            var config = action.UpgradeConfigs[i];
            // Envoy's RouteEntryImplBase (the map is keyed by the lower-cased type).
            if (CheckType(context, config, config.UpgradeType, i, j => action.UpgradeConfigs[j].UpgradeType, "Duplicate upgrade {0}") && config.ConnectConfig is not null
                && !string.Equals(config.UpgradeType, Connect, StringComparison.OrdinalIgnoreCase))
            {
                context.Error(config, "connect_config", $"Non-CONNECT upgrade type {config.UpgradeType} has ConnectConfig");
            }
        }
    }

    /// <summary>
    /// A <c>connect_matcher</c> route that forwards: Envoy would proxy the CONNECT to the upstream as an HTTP CONNECT, which
    /// YARP cannot; only a route that terminates it (a CONNECT entry with <c>connect_config</c>) is accepted.
    /// </summary>
    public static void ValidateConnectRoute(ValidationContext context, Route route, RouteAction action)
    {
        if (route.Match?.ConnectMatcher is null || action.HasBindingError("upgrade_configs"))
        {
            return;
        }
        foreach (var config in action.UpgradeConfigs)
        {
            if (string.Equals(config.UpgradeType, Connect, StringComparison.OrdinalIgnoreCase) && config.ConnectConfig is not null && config.Enabled != false)
            {
                return;
            }
        }
        context.Error(action, "upgrade_configs", "a connect_matcher route must terminate CONNECT (upgrade_configs: [{ upgrade_type: CONNECT, connect_config: {} }]): forwarding a CONNECT to an HTTP upstream is not supported by this gateway");
    }

    /// <summary>
    /// The type is required (Envoy's proto: min_len 1), must be one the gateway carries, and must not repeat an earlier
    /// entry's (<paramref name="earlierType"/> of positions before <paramref name="index"/>, ignoring case). False when it is refused.
    /// </summary>
    private static bool CheckType(ValidationContext context, EnvoyMessage config, string? type, int index, Func<int, string?> earlierType, string duplicateFormat)
    {
        if (string.IsNullOrEmpty(type))
        {
            context.Error(config, "upgrade_type", "'upgrade_type' is required");
            return false;
        }
        if (!string.Equals(type, WebSocket, StringComparison.OrdinalIgnoreCase) && !string.Equals(type, Connect, StringComparison.OrdinalIgnoreCase))
        {
            context.Error(config, "upgrade_type", $"upgrade_type '{type}' is not supported: only 'websocket' and 'CONNECT' upgrades can be proxied by this gateway");
            return false;
        }
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(earlierType(j), type, StringComparison.OrdinalIgnoreCase))
            {
                context.Error(config, "upgrade_type", string.Format(System.Globalization.CultureInfo.InvariantCulture, duplicateFormat, type));
                return false;
            }
        }
        return true;
    }
}
