using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Validation;

/// <summary><c>upgrade_configs</c> of the connection manager and of routes: what loads, and Envoy's errors for what does not.</summary>
public class UpgradeConfigValidatorTests
{
    private static string Config(IEnumerable<string> hcm, string? routes = null)
        => TestConfigs.Backends("backend", [8080], hcmFields: hcm, routes: routes);

    private static EnvoyConfigException LoadFails(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    [Fact]
    public void Load_UpgradeConfigsOnBothLevels_TranslateToUpgradeMaps()
    {
        var yaml = Config(
            ["upgrade_configs: [{ upgrade_type: websocket }, { upgrade_type: CONNECT, enabled: false }]"],
            "- match: { prefix: \"/\" }\n  route: { cluster: backend, upgrade_configs: [{ upgrade_type: WebSocket, enabled: false }] }");

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

        var hcm = plan.Listeners[0].FilterChains[0].ConnectionManager!;
        Assert.Equal([new UpgradePlan("websocket", true), new UpgradePlan("CONNECT", false)], hcm.Upgrades!);
        Assert.Equal([new UpgradePlan("WebSocket", false)], hcm.Routes[0].Upgrades!);
        Assert.False(UpgradePlan.Allows(hcm.Upgrades, hcm.Routes[0].Upgrades, "websocket"));
        Assert.True(UpgradePlan.Allows(hcm.Upgrades, null, "WEBSOCKET"));
        Assert.False(UpgradePlan.Allows(hcm.Upgrades, null, "CONNECT"));
        Assert.True(UpgradePlan.Allows(null, [new UpgradePlan("CONNECT", true)], "CONNECT"));
        Assert.False(UpgradePlan.Allows(null, null, "websocket"));
    }

    [Fact]
    public void Load_DuplicateConnectionManagerUpgrade_IsEnvoysError()
    {
        var error = Assert.Single(LoadFails(Config(["upgrade_configs: [{ upgrade_type: websocket }, { upgrade_type: WebSocket }]"])).Errors);

        Assert.Equal("Error: multiple upgrade configs with the same name: 'WebSocket'", error.Message);
        Assert.EndsWith("upgrade_configs[1].upgrade_type", error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RouteErrors_AreAllReported()
    {
        var routes = "- match: { prefix: \"/\" }\n  route: { cluster: backend, upgrade_configs: ["
            + "{ upgrade_type: websocket }, { upgrade_type: WEBSOCKET }, { upgrade_type: websocket2 }, { upgrade_type: \"\" }] }\n"
            + "- match: { prefix: \"/c\" }\n  route: { cluster: backend, upgrade_configs: [{ upgrade_type: websocket, connect_config: {} }] }";

        var messages = LoadFails(Config([], routes)).Errors.Select(e => e.Message).ToArray();

        Assert.Equal(
            [
                "Duplicate upgrade WEBSOCKET",
                "upgrade_type 'websocket2' is not supported: only 'websocket' and 'CONNECT' upgrades can be proxied by this gateway",
                "'upgrade_type' is required",
                "Non-CONNECT upgrade type websocket has ConnectConfig",
            ],
            messages);
    }

    [Fact]
    public void Load_UpgradeFilters_AreRefusedByName()
    {
        var yaml = Config(["upgrade_configs:", "- upgrade_type: websocket", "  filters: [{ name: envoy.filters.http.router }]"]);

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Contains("filters", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("upgrade_configs[0].filters", error.Location.Path, StringComparison.Ordinal);
    }
}
