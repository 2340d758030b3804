using System.Buffers.Binary;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Listeners;

/// <summary>
/// The connection manager's <c>http2_protocol_options</c>: Kestrel's server-wide HTTP/2 limits (seen in the SETTINGS frame
/// the listener sends), their agreement across connection managers, the proto constraints, and <c>allow_connect</c>.
/// </summary>
public class DownstreamHttp2OptionsTests
{
    private const int HeaderTableSize = 0x1;
    private const int MaxConcurrentStreams = 0x3;
    private const int InitialWindowSize = 0x4;

    private static string Yaml(EchoUpstream upstream, string options)
        => ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: "codec_type: HTTP2\nhttp2_protocol_options: " + options);

    [Fact]
    public async Task Start_Http2Options_InTheListenersSettingsFrame()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ max_concurrent_streams: 7, initial_stream_window_size: 131072, initial_connection_window_size: 1048576, hpack_table_size: 8192 }"));

        var settings = await ServerSettingsAsync(gateway);

        Assert.Equal(7u, settings[MaxConcurrentStreams]);
        Assert.Equal(131072u, settings[InitialWindowSize]);
        Assert.Equal(8192u, settings[HeaderTableSize]);
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;
        Assert.Equal(1048576, limits.InitialConnectionWindowSize);
    }

    [Fact]
    public async Task Start_NoHttp2Options_EnvoysDefaults()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty, connectionManager: "codec_type: HTTP2"));

        var settings = await ServerSettingsAsync(gateway);

        Assert.Equal(1024u, settings[MaxConcurrentStreams]);
        Assert.Equal(16u * 1024 * 1024, settings[InitialWindowSize]);
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;
        Assert.Equal(24 * 1024 * 1024, limits.InitialConnectionWindowSize);
        Assert.Equal(TimeSpan.MaxValue, limits.KeepAlivePingDelay);
    }

    [Fact]
    public async Task Start_ConnectionKeepalive_KestrelsPingDelayAndTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream, "{ connection_keepalive: { interval: 30s, timeout: 5s } }"));
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;

        Assert.Equal(TimeSpan.FromSeconds(30), limits.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.KeepAlivePingTimeout);
    }

    [Theory]
    [InlineData("{ max_concurrent_streams: 0 }", ".max_concurrent_streams", "Http2ProtocolOptionsValidationError.MaxConcurrentStreams: value must be inside range [1, 2147483647]")]
    [InlineData("{ initial_stream_window_size: 100 }", ".initial_stream_window_size", "Http2ProtocolOptionsValidationError.InitialStreamWindowSize: value must be inside range [65535, 2147483647]")]
    [InlineData("{ initial_connection_window_size: 2147483648 }", ".initial_connection_window_size", "Http2ProtocolOptionsValidationError.InitialConnectionWindowSize: value must be inside range [65535, 2147483647]")]
    [InlineData("{ connection_keepalive: { interval: 30s } }", ".connection_keepalive.timeout", "KeepaliveSettingsValidationError.Timeout: value is required")]
    [InlineData("{ connection_keepalive: { interval: 0.5s, timeout: 5s } }", ".connection_keepalive.interval", "'interval' below 1s is not supported by this gateway downstream: Kestrel's HTTP/2 keep-alive runs on its 1 s heartbeat")]
    [InlineData("{ allow_metadata: true }", ".allow_metadata", "field 'allow_metadata' of envoy.config.core.v3.Http2ProtocolOptions is not supported by this gateway yet")]
    public void Load_InvalidHttp2Options_ErrorAtTheField(string options, string path, string message)
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "http2_protocol_options: " + options);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("typed_config.http2_protocol_options" + path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TwoListenersDisagreeOnMaxConcurrentStreams_FailsAsKestrelHasOne()
    {
        var yaml = ListenerYaml.Build(1, string.Empty, connectionManager: "http2_protocol_options: { max_concurrent_streams: 100 }");
        var second = yaml[yaml.IndexOf("  - name: httpbin-demo", StringComparison.Ordinal)..yaml.IndexOf("  clusters:", StringComparison.Ordinal)]
            .Replace("name: httpbin-demo", "name: second", StringComparison.Ordinal)
            .Replace("http2_protocol_options: { max_concurrent_streams: 100 }", "http2_protocol_options: { allow_connect: true }", StringComparison.Ordinal);
        yaml = yaml.Replace("  clusters:", second + "  clusters:", StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains("'http2_protocol_options.max_concurrent_streams' is 1024 here but 100 at", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AllowConnectOnACluster_RefusedUpstream()
    {
        var yaml = ListenerYaml.Build(1, string.Empty, clusters: """
            - name: h2
              http2_protocol_options: { allow_connect: true }
              load_assignment: { cluster_name: h2 }
            """);

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.EndsWith("http2_protocol_options.allow_connect", error.Location.Path, StringComparison.Ordinal);
        Assert.Contains("is not supported by this gateway upstream", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Opens an HTTP/2 connection by hand and returns the parameters of the listener's first SETTINGS frame.</summary>
    private static async Task<Dictionary<int, uint>> ServerSettingsAsync(InProcessGateway gateway)
    {
        var uri = gateway.ListenerUri("/");
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(uri.Host, uri.Port, timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        // The client preface, then an empty SETTINGS frame.
        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), timeout.Token);
        await stream.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }, timeout.Token);
        var header = new byte[9];
        await stream.ReadExactlyAsync(header, timeout.Token);
        Assert.Equal(4, header[3]);
        var length = (header[0] << 16) | (header[1] << 8) | header[2];
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, timeout.Token);
        var settings = new Dictionary<int, uint>();
        for (var i = 0; i + 6 <= length; i += 6)
        {
            settings[BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2));
        }
        return settings;
    }
}
