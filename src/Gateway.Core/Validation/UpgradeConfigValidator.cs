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
            var type = config.UpgradeType ?? string.Empty;
            if (!CheckType(context, config, type))
            {
                continue;
            }
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(hcm.UpgradeConfigs[j].UpgradeType, type, StringComparison.OrdinalIgnoreCase))
                {
                    // Envoy's HttpConnectionManagerConfig (findUpgradeCaseInsensitive).
                    context.Error(config, "upgrade_type", $"Error: multiple upgrade configs with the same name: '{type}'");
                    break;
                }
            }
        }
    }

    public static void Validate(ValidationContext context, RouteAction action)
    {
        for (var i = 0; i < action.UpgradeConfigs.Count; i++)
        {
            var config = action.UpgradeConfigs[i];
            var type = config.UpgradeType ?? string.Empty;
            if (!CheckType(context, config, type))
            {
                continue;
            }
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(action.UpgradeConfigs[j].UpgradeType, type, StringComparison.OrdinalIgnoreCase))
                {
                    // Envoy's RouteEntryImplBase (the map is keyed by the lower-cased type).
                    context.Error(config, "upgrade_type", $"Duplicate upgrade {type}");
                    break;
                }
            }
            if (config.ConnectConfig is not null)
            {
                if (!string.Equals(type, Connect, StringComparison.OrdinalIgnoreCase))
                {
                    context.Error(config, "connect_config", $"Non-CONNECT upgrade type {type} has ConnectConfig");
                }
                else
                {
                    context.Error(config, "connect_config", "'connect_config' (terminating CONNECT into a TCP stream) is not supported by this gateway yet");
                }
            }
        }
    }

    /// <summary>The type is required (Envoy's proto: min_len 1, well-known HTTP header value) and must be one the gateway carries.</summary>
    private static bool CheckType(ValidationContext context, EnvoyMessage config, string type)
    {
        if (type.Length == 0)
        {
            context.Error(config, "upgrade_type", "'upgrade_type' is required");
            return false;
        }
        if (!string.Equals(type, WebSocket, StringComparison.OrdinalIgnoreCase) && !string.Equals(type, Connect, StringComparison.OrdinalIgnoreCase))
        {
            context.Error(config, "upgrade_type", $"upgrade_type '{type}' is not supported: only 'websocket' and 'CONNECT' upgrades can be proxied by this gateway");
            return false;
        }
        return true;
    }
}
