using System.Text.Json;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>
/// <c>Expect: 100-continue</c> with and without <c>proxy_100_continue</c>, over raw HTTP/1.1 against a real Kestrel echo
/// upstream (which sends its own 100 when it reads the body).
/// </summary>
public sealed class Proxy100ContinueTests
{
    private static async Task<(RawResponse Interim, RawResponse Final)> SendExpectingAsync(InProcessGateway gateway)
    {
        await using var connection = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        await connection.WriteAsync("POST /echo HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        // The client sends its body only after the 100.
        var interim = await connection.ReadResponseAsync();
        await connection.WriteAsync("hello");
        var final = await connection.ReadResponseAsync();
        return (interim, final);
    }

    [Fact]
    public async Task Expect_Proxy100Continue_UpstreamSeesExpectAndTheClientItsContinue()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: "proxy_100_continue: true"));

        var (interim, final) = await SendExpectingAsync(gateway);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(final.Body)!;

        Assert.Equal(100, interim.Status);
        Assert.Equal(200, final.Status);
        Assert.Equal("hello", Assert.Single(upstream.Bodies));
        Assert.Equal("100-continue", echoed.Headers.GetValueOrDefault("expect"));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_1xx", 1);
    }

    [Fact]
    public async Task Expect_Default_GatewayAnswersAndTheUpstreamSeesNoExpect()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty));

        var (interim, final) = await SendExpectingAsync(gateway);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(final.Body)!;

        Assert.Equal(100, interim.Status);
        Assert.Equal(200, final.Status);
        Assert.Null(echoed.Headers.GetValueOrDefault("expect"));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_1xx", 1);
    }
}
