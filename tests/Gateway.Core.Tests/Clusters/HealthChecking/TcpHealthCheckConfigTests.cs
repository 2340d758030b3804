using System.Text;
using Gateway.Clusters.HealthChecking;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Clusters.HealthChecking;

public class TcpHealthCheckConfigTests
{
    private const string Common = """
              - timeout: 1s
                interval: 5s
                unhealthy_threshold: 3
                healthy_threshold: 2
        """;

    private const string CheckPath = "static_resources.clusters[0].health_checks[0]";

    private static string WithTcpCheck(string tcp) => TestConfigs.Seed() + "\n      health_checks:\n" + Common + "\n        tcp_health_check:" + tcp;

    private static EnvoyConfigException LoadFails(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    private static HealthCheckPlan Translate(string yaml) => Assert.Single(EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml)).ClusterPlans).HealthCheck!;

    [Fact]
    public void Translate_EmptyTcpHealthCheck_IsConnectOnly()
    {
        var check = Translate(WithTcpCheck(" {}"));

        Assert.Equal(HealthCheckKind.Tcp, check.Kind);
        var tcp = Assert.IsType<TcpHealthCheckPlan>(check.Tcp);
        Assert.True(tcp.ConnectOnly);
        Assert.Empty(tcp.Send);
        Assert.Empty(tcp.Receive);
        Assert.True(check.ReuseConnection);
        Assert.Equal(TimeSpan.FromSeconds(1), check.Timeout);
        Assert.Equal(3, check.UnhealthyThreshold);
    }

    [Fact]
    public void Translate_SendAndReceive_DecodesHexAndBase64()
    {
        var check = Translate(WithTcpCheck("""

                  send: { text: "70696E67" }
                  receive: [{ text: "706f" }, { binary: "bmc=" }]
        """));

        var tcp = check.Tcp!;
        Assert.False(tcp.ConnectOnly);
        Assert.Equal("ping"u8.ToArray(), tcp.Send);
        Assert.Equal(["po", "ng"], tcp.Receive.Select(b => Encoding.ASCII.GetString(b)));
    }

    [Fact]
    public void Translate_HttpHealthCheck_IsHttpKind()
    {
        var yaml = TestConfigs.Seed() + "\n      health_checks:\n" + Common + "\n        http_health_check: { path: /healthz }";

        var check = Translate(yaml);

        Assert.Equal(HealthCheckKind.Http, check.Kind);
        Assert.Null(check.Tcp);
    }

    [Theory]
    [InlineData("send: { text: \"zz\" }", ".tcp_health_check.send.text", "invalid hex string 'zz'")]
    [InlineData("send: { text: \"\" }", ".tcp_health_check.send.text", "invalid hex string ''")]
    [InlineData("receive: [{ text: \"00\" }, { text: \"abc\" }]", ".tcp_health_check.receive[1].text", "invalid hex string 'abc'")]
    [InlineData("receive: [{ binary: \"%%%\" }]", ".tcp_health_check.receive[0].binary", "'binary' must be base64")]
    [InlineData("receive: [{}]", ".tcp_health_check.receive[0]", "a health check payload needs exactly one of text, binary")]
    [InlineData("send: { text: \"00\", binary: \"AA==\" }", ".tcp_health_check.send", "a health check payload needs exactly one of text, binary")]
    public void Load_BadPayload_IsRejectedNamingThePath(string tcp, string path, string message)
    {
        var error = Assert.Single(LoadFails(WithTcpCheck("\n          " + tcp)).Errors);

        Assert.Equal(CheckPath + path, error.Location.Path);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Load_HttpAndTcpHealthCheck_IsRejected()
    {
        var yaml = WithTcpCheck(" {}") + "\n        http_health_check: { path: /healthz }";

        var error = Assert.Single(LoadFails(yaml).Errors);

        Assert.Equal(CheckPath, error.Location.Path);
        Assert.Contains("only one of http_health_check, tcp_health_check", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ProxyProtocolConfig_IsNotSupported()
    {
        var error = Assert.Single(LoadFails(WithTcpCheck("\n          proxy_protocol_config: { version: V1 }")).Errors);

        Assert.Equal(CheckPath + ".tcp_health_check.proxy_protocol_config", error.Location.Path);
        Assert.Equal("field 'proxy_protocol_config' of envoy.config.core.v3.HealthCheck.TcpHealthCheck is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Same_TcpPlansWithEqualBytes_AreSameAndDifferentBytesAreNot()
    {
        var a = Translate(WithTcpCheck("\n          send: { text: \"00\" }\n          receive: [{ text: \"01\" }]"));
        var b = Translate(WithTcpCheck("\n          send: { text: \"00\" }\n          receive: [{ text: \"01\" }]"));
        var c = Translate(WithTcpCheck("\n          send: { text: \"00\" }\n          receive: [{ text: \"02\" }]"));

        Assert.True(HealthCheckPlanComparer.Same(a, b));
        Assert.False(HealthCheckPlanComparer.Same(a, c));
    }

    [Theory]
    [InlineData("pong", new[] { "pong" }, true)]
    [InlineData("xxpoyyngzz", new[] { "po", "ng" }, true)]
    [InlineData("ngpo", new[] { "po", "ng" }, false)]
    [InlineData("pong", new[] { "pong", "pong" }, false)]
    [InlineData("", new string[0], true)]
    [InlineData("pon", new[] { "pong" }, false)]
    public void Matches_ReceiveBlocks_MustAppearInOrder(string data, string[] blocks, bool expected)
        => Assert.Equal(expected, TcpHealthCheckProbe.Matches(blocks.Select(Encoding.ASCII.GetBytes).ToList(), Encoding.ASCII.GetBytes(data)));
}
