using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Router;

/// <summary>
/// The router records Envoy's response flags and response code details in the stream info, the one source the access
/// logs, the spans and the filters read: checked through a probe filter on a real gateway and upstream.
/// </summary>
public class ResponseFlagsTests
{
    private const string Routes = """
        - match: { prefix: "/limited" }
          route: { cluster: limited }
        - match: { prefix: "/dead" }
          route: { cluster: dead }
        - match: { prefix: "/slow/" }
          route: { cluster: echo, prefix_rewrite: "/", timeout: 0.2s }
        - match: { prefix: "/retried/" }
          route: { cluster: echo, prefix_rewrite: "/", retry_policy: { retry_on: 5xx, num_retries: 1 } }
        - match: { prefix: "/direct" }
          direct_response: { status: 200, body: { inline_string: hi } }
        - match: { prefix: "/" }
          route: { cluster: echo }
        """;

    [Theory]
    [InlineData("/status/200", 200, ResponseFlags.None, "via_upstream")]
    [InlineData("/status/503", 503, ResponseFlags.None, "via_upstream")]
    [InlineData("/retried/status/503", 503, ResponseFlags.UpstreamRetryLimitExceeded, "via_upstream")]
    [InlineData("/direct", 200, ResponseFlags.None, "direct_response")]
    [InlineData("/slow/delay/5000", 504, ResponseFlags.UpstreamRequestTimeout, "response_timeout")]
    [InlineData("/limited", 503, ResponseFlags.UpstreamOverflow, "upstream_reset_before_response_started{overflow}")]
    [InlineData("/dead", 503, ResponseFlags.UpstreamConnectionFailure, "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}")]
    public async Task Router_Outcome_SetsEnvoysFlagAndDetails(string path, int status, ResponseFlags flags, string details)
    {
        var (gateway, upstream, probe) = await StartAsync();
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri(path));

            Assert.Equal(status, (int)response.StatusCode);
            var completed = Assert.Single(await probe.CompletedAsync(1));
            Assert.Equal(flags, completed.Flags);
            Assert.Equal(details, completed.Details);
        }
    }

    [Fact]
    public async Task Router_NoRoute_SetsNoRouteFound()
    {
        var upstream = await EchoUpstream.StartAsync();
        await using (upstream)
        {
            var probe = new StreamInfoProbeFactory();
            var yaml = ListenerYaml.Build(upstream.Port, StreamInfoProbeFactory.Entry, routes: """
                - match: { path: "/only" }
                  route: { cluster: echo }
                """);
            await using var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter(probe));

            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/other"));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var completed = Assert.Single(await probe.CompletedAsync(1));
            Assert.Equal(ResponseFlags.NoRouteFound, completed.Flags);
            Assert.Equal("route_not_found", completed.Details);
        }
    }

    private static async Task<(InProcessGateway Gateway, EchoUpstream Upstream, StreamInfoProbeFactory Probe)> StartAsync()
    {
        var upstream = await EchoUpstream.StartAsync();
        var probe = new StreamInfoProbeFactory();
        var yaml = ListenerYaml.Build(upstream.Port, StreamInfoProbeFactory.Entry, routes: Routes, clusters: $$"""
            - name: limited
              type: STATIC
              circuit_breakers: { thresholds: [ { max_requests: 0 } ] }
              load_assignment:
                cluster_name: limited
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstream.Port}} } } }
            - name: dead
              type: STATIC
              load_assignment:
                cluster_name: dead
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{ClosedPort()}} } } }
            """);
        var gateway = await InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter(probe));
        return (gateway, upstream, probe);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
