using System.Net;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary><c>examples/simple.yaml</c> with the cluster pointed at a closed port on localhost.</summary>
public sealed class UpstreamDownTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Get_UpstreamPortClosed_Returns503ConnectErrorLocalReply()
    {
        var closedPort = FreePort.Next();
        await using var gateway = await GatewayProcess.StartSeedAsync(SeedConfig.Simple, closedPort, log);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.StartsWith("upstream connect error or disconnect/reset before headers.", body, StringComparison.Ordinal);
        Assert.Equal(["text/plain"], SimpleYamlTests.HeaderValues(response, "content-type"));
        Assert.Equal(["envoy"], SimpleYamlTests.HeaderValues(response, "server"));
    }
}
