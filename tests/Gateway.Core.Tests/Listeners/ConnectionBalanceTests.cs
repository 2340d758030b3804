using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The listener's <c>connection_balance_config</c>: <c>exact_balance</c>, which Kestrel's one accept loop per socket
/// already is, loads, serves and is dumped; the one-of is required and <c>extend_balance</c> is refused by path.
/// </summary>
public sealed class ConnectionBalanceTests
{
    private static string WithBalance(string yaml, string balance)
        => ListenerYaml.WithListenerFields(yaml, "connection_balance_config: " + balance);

    [Fact]
    public async Task Start_ExactBalance_ServesAndIsDumped()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(WithBalance(ListenerYaml.Build(upstream.Port, string.Empty), "{ exact_balance: {} }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"connection_balance_config\": {\n", dump, StringComparison.Ordinal);
        Assert.Contains("\"exact_balance\": {}", dump, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", ".connection_balance_config.exact_balance", "Proto constraint validation failed (ConnectionBalanceConfigValidationError.BalanceType: value is required)")]
    [InlineData("{ extend_balance: { name: custom } }", ".connection_balance_config.extend_balance", "is not supported by this gateway")]
    public void Load_BalanceWithoutExactBalance_FailsNamingTheField(string balance, string path, string message)
    {
        var yaml = WithBalance(ListenerYaml.Build(1, string.Empty), balance);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith(path, error.Location.Path, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
