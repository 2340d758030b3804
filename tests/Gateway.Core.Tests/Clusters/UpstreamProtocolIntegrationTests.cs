using System.Net;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Gateway.Tests.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Clusters;

/// <summary>
/// The upstream protocol of <c>typed_extension_protocol_options</c> (and the deprecated cluster fields) against real Kestrel
/// upstreams that answer with the protocol they saw: h2c with prior knowledge, h2 over TLS by ALPN, auto_config's ALPN
/// choice, use_downstream_protocol_config.
/// </summary>
public sealed class UpstreamProtocolIntegrationTests
{
    private const string Options = "typed_extension_protocol_options:\n  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n    \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n";

    internal static string Typed(string body) => Options + ListenerYaml.Indent(ListenerYaml.Dedent(body), 4);

    internal const string ExplicitHttp2 = "explicit_http_config: { http2_protocol_options: {} }";

    private static string Yaml(int port, string cluster, string connectionManager = "")
    {
        var yaml = UpstreamTlsIntegrationTests.Yaml(UpstreamTlsIntegrationTests.Endpoint(port), cluster);
        return connectionManager.Length == 0 ? yaml : yaml.Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n          " + connectionManager, StringComparison.Ordinal);
    }

    private static string TlsCluster(string extra) => UpstreamTlsIntegrationTests.TlsCluster(UpstreamTlsIntegrationTests.Context(clientCertificate: false), extra);

    [Fact]
    public async Task ExplicitHttp2_H2cUpstream_SpeaksHttp2WithPriorKnowledge()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http2);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Typed(ExplicitHttp2)));

        var first = await gateway.Client.GetStringAsync(gateway.ListenerUri("/one"));
        var second = await gateway.Client.GetStringAsync(gateway.ListenerUri("/two"));

        Assert.Equal("HTTP/2", first);
        Assert.Equal("HTTP/2", second);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http1_total", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_200", 2);
    }

    [Fact]
    public async Task DeprecatedClusterHttp2ProtocolOptions_H2cUpstream_SpeaksHttp2()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http2);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "http2_protocol_options: {}"));

        Assert.Equal("HTTP/2", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http2_total", 1);
    }

    [Fact]
    public async Task NoProtocolOptions_Http1AndHttp2Upstream_SpeaksHttp1()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http1AndHttp2);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, "common_http_protocol_options: { idle_timeout: 30s }"));

        Assert.Equal("HTTP/1.1", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http1_total", 1);
    }

    [Fact]
    public async Task ExplicitHttp2_TlsUpstream_NegotiatesH2ByAlpn()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http1AndHttp2, tls: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, TlsCluster(Typed(ExplicitHttp2))));

        var debugBody = await GetAsync(gateway, "/");
        Assert.True(debugBody == "HTTP/2 alpn=h2", debugBody);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http2_total", 1);
        await gateway.AssertStatAsync("cluster.backend.ssl.handshake", 1);
    }

    [Fact]
    public async Task AutoConfig_TlsUpstreamWithH2_SpeaksHttp2()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http1AndHttp2, tls: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, TlsCluster(Typed("auto_config: {}"))));

        Assert.Equal("HTTP/2 alpn=h2", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http2_total", 1);
    }

    [Fact]
    public async Task AutoConfig_TlsUpstreamHttp1Only_SpeaksHttp1OnTheSameConnection()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http1, tls: true);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, TlsCluster(Typed("auto_config: {}"))));

        var first = await gateway.Client.GetStringAsync(gateway.ListenerUri("/one"));
        var second = await gateway.Client.GetStringAsync(gateway.ListenerUri("/two"));

        // Kestrel's HTTP/1.1-only endpoint selects http/1.1 of the h2, http/1.1 offered.
        Assert.Equal("HTTP/1.1 alpn=http/1.1", first);
        Assert.Equal("HTTP/1.1 alpn=http/1.1", second);
        // The connection ALPN chose HTTP/1.1 for carries both requests.
        await gateway.AssertStatAsync("cluster.backend.ssl.handshake", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http1_total", 1);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_connect_fail", 0);
        await gateway.AssertStatAsync("cluster.backend.upstream_rq_200", 2);
    }

    [Fact]
    public async Task UseDownstreamProtocolConfig_Http2Downstream_SpeaksHttp2()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http2);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Typed("use_downstream_protocol_config: {}"), connectionManager: "codec_type: HTTP2"));
        using var client = Http2Client();

        var body = await client.GetStringAsync(gateway.ListenerUri("/"));

        Assert.Equal("HTTP/2", body);
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http2_total", 1);
    }

    [Fact]
    public async Task UseDownstreamProtocolConfig_Http1Downstream_SpeaksHttp1()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http1);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, Typed("use_downstream_protocol_config: {}")));

        Assert.Equal("HTTP/1.1", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        await gateway.AssertStatAsync("cluster.backend.upstream_cx_http1_total", 1);
    }

    [Fact]
    public async Task ExplicitHttp2_KeepaliveAndWindow_Loads()
    {
        await using var upstream = await ProtocolUpstream.StartAsync(HttpProtocols.Http2);
        var options = Typed("""
            common_http_protocol_options: { idle_timeout: 0s, max_connection_duration: 60s, max_response_headers_kb: 96 }
            explicit_http_config:
              http2_protocol_options:
                initial_stream_window_size: 1048576
                max_concurrent_streams: 2147483647
                hpack_table_size: 4096
                connection_keepalive: { interval: 30s, timeout: 5s }
            """);
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, options));

        Assert.Equal("HTTP/2", await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
    }

    /// <summary>The body of a GET, whatever its status (a local reply's body says why it failed).</summary>
    private static async Task<string> GetAsync(InProcessGateway gateway, string path)
    {
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A client speaking HTTP/2 with prior knowledge (the listener's codec_type is HTTP2).</summary>
    internal static HttpClient Http2Client()
        => new(new SocketsHttpHandler { UseProxy = false })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
}

/// <summary>A Kestrel upstream on loopback speaking <see cref="HttpProtocols"/> (over TLS when asked) that answers with the protocol it saw.</summary>
internal sealed class ProtocolUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProtocolUpstream(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public static async Task<ProtocolUpstream> StartAsync(HttpProtocols protocols, bool tls = false, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = protocols;
            if (tls)
            {
                listen.UseHttps(TestCertificates.Shared.Client("server"));
            }
        }));
        var app = builder.Build();
        if (map is not null)
        {
            map(app);
        }
        else
        {
            app.Run(context =>
            {
                var alpn = context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ITlsApplicationProtocolFeature>()?.ApplicationProtocol;
                return context.Response.WriteAsync(alpn is { Length: > 0 } protocol
                    ? context.Request.Protocol + " alpn=" + System.Text.Encoding.ASCII.GetString(protocol.Span)
                    : context.Request.Protocol);
            });
        }
        await app.StartAsync();
        return new ProtocolUpstream(app) { Port = new Uri(app.Urls.First()).Port };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
