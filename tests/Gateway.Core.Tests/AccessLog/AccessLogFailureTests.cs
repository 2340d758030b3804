using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gateway.AccessLog;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

/// <summary>
/// Envoy's default access log line, field by field, for the router's failure outcomes (retry limit, timeout, overflow,
/// connect failure), and the upstream and byte operators, on a real gateway and upstream.
/// </summary>
public sealed partial class AccessLogFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accesslog-failures-").FullName;

    private readonly int _deadPort = ClosedPort();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // [START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM_TIME "XFF" "UA" "REQUEST_ID" "AUTHORITY" "UPSTREAM_HOST"
    [GeneratedRegex("^\\[(?<start>[^\\]]+)\\] \"(?<method>\\S+) (?<path>\\S+) (?<protocol>\\S+)\" (?<code>\\d+) (?<flags>\\S+) (?<received>\\d+) (?<sent>\\d+) (?<duration>\\d+) (?<serviceTime>\\S+) \"(?<xff>[^\"]*)\" \"(?<ua>[^\"]*)\" \"(?<id>[^\"]*)\" \"(?<authority>[^\"]*)\" \"(?<host>[^\"]*)\"$")]
    private static partial Regex DefaultLine();

    private const string Routes = """
        - match: { prefix: "/limited" }
          route: { cluster: limited }
        - match: { prefix: "/pending/" }
          route: { cluster: pending, prefix_rewrite: "/" }
        - match: { prefix: "/dead" }
          route: { cluster: dead }
        - match: { prefix: "/slow/" }
          route: { cluster: echo, prefix_rewrite: "/", timeout: 0.2s }
        - match: { prefix: "/retried/" }
          route: { cluster: echo, prefix_rewrite: "/", retry_policy: { retry_on: 5xx, num_retries: 1 } }
        - match: { prefix: "/" }
          route: { cluster: echo }
        """;

    private string Yaml(int upstreamPort, string path, string logFormat = "")
    {
        var accessLog = $$"""
                      access_log:
                      - name: envoy.access_loggers.file
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                          path: {{path}}
            {{logFormat}}
            """;
        return ListenerYaml.Build(upstreamPort, httpFilters: "", routes: Routes, clusters: $$"""
            - name: limited
              type: STATIC
              circuit_breakers: { thresholds: [ { max_requests: 0 } ] }
              load_assignment:
                cluster_name: limited
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } }
            - name: pending
              type: STATIC
              circuit_breakers: { thresholds: [ { max_connections: 1, max_pending_requests: 0 } ] }
              load_assignment:
                cluster_name: pending
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } }
            - name: dead
              type: STATIC
              load_assignment:
                cluster_name: dead
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{_deadPort}} } } }
            """).Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + accessLog.TrimEnd(), StringComparison.Ordinal);
    }


    [Theory]
    [InlineData("/retried/status/500", 500, "URX", true, true)]
    [InlineData("/slow/delay/5000", 504, "UT", false, true)]
    [InlineData("/limited", 503, "UO", false, false)]
    [InlineData("/dead", 503, "UF", false, false)]
    public async Task DefaultFormat_RouterFailure_LineHasEnvoysFields(string requestPath, int status, string flags, bool serviceTime, bool upstreamHost)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "access.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri(requestPath));
        var body = await response.Content.ReadAsByteArrayAsync();
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));

        Assert.Equal(status, (int)response.StatusCode);
        var fields = DefaultLine().Match(line);
        Assert.True(fields.Success, line);
        Assert.Equal("GET", fields.Groups["method"].Value);
        Assert.Equal(requestPath, fields.Groups["path"].Value);
        Assert.Equal("HTTP/1.1", fields.Groups["protocol"].Value);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), fields.Groups["code"].Value);
        Assert.Equal(flags, fields.Groups["flags"].Value);
        Assert.Equal("0", fields.Groups["received"].Value);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), fields.Groups["sent"].Value);
        // x-envoy-upstream-service-time is on proxied responses only, not on the router's local replies.
        Assert.Equal(serviceTime, fields.Groups["serviceTime"].Value != "-");
        Assert.Equal(response.Headers.TryGetValues("x-envoy-upstream-service-time", out var time) ? time.Single() : "-", fields.Groups["serviceTime"].Value);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", fields.Groups["id"].Value);
        Assert.Equal("-", fields.Groups["xff"].Value);
        Assert.Equal($"127.0.0.1:{gateway.ListenerUri("/").Port}", fields.Groups["authority"].Value);
        if (upstreamHost)
        {
            Assert.Equal($"127.0.0.1:{upstream.Port}", fields.Groups["host"].Value);
        }
        else if (flags == "UF")
        {
            // The pool failed on the host it was given: Envoy's onPoolFailure records it, so the line names it.
            Assert.Equal($"127.0.0.1:{_deadPort}", fields.Groups["host"].Value);
        }
        else
        {
            // max_requests refuses the stream on a connection of the host already picked: Envoy's onPoolFailure names it.
            Assert.Equal($"127.0.0.1:{upstream.Port}", fields.Groups["host"].Value);
            Assert.Equal(0, upstream.Requests);
        }
        if (flags == "URX")
        {
            Assert.Equal(2, upstream.Requests);
        }
        if (flags == "UT")
        {
            Assert.InRange(int.Parse(fields.Groups["duration"].Value, System.Globalization.CultureInfo.InvariantCulture), 150, 4900);
        }
    }

    [Fact]
    public async Task DefaultFormat_PendingOverflow_HasNoUpstreamHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "pending.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path));

        // The one connection max_connections allows is busy, and max_pending_requests: 0 lets nothing wait for it.
        var busy = gateway.Client.GetAsync(gateway.ListenerUri("/pending/delay/1000"));
        for (var i = 0; i < 500 && upstream.Requests == 0; i++)
        {
            await Task.Delay(10);
        }
        using var refused = await gateway.Client.GetAsync(gateway.ListenerUri("/pending/status/200"));
        using var served = await busy;
        var lines = await AccessLogLines.ReadAsync(gateway, path);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var line = DefaultLine().Match(Assert.Single(lines, l => l.Contains("/pending/status/200", StringComparison.Ordinal)));
        Assert.True(line.Success);
        Assert.Equal("UO", line.Groups["flags"].Value);
        // Envoy's pool fails a stream that may not wait before it has a connection: onPoolFailure without a host.
        Assert.Equal("-", line.Groups["host"].Value);
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task UpstreamOperators_ConnectFailure_NameTheClusterHostDetailsAndReason()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "upstream.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path, """
                          log_format: { text_format: "%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %RESPONSE_CODE_DETAILS% %UPSTREAM_TRANSPORT_FAILURE_REASON%\n" }
            """));

        using var dead = await gateway.Client.GetAsync(gateway.ListenerUri("/dead"));
        using var ok = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
        var lines = await AccessLogLines.ReadAsync(gateway, path, 2);

        Assert.Equal(2, lines.Length);
        var failed = lines[0].Split(' ');
        Assert.Equal("dead", failed[0]);
        Assert.Matches("^127\\.0\\.0\\.1:\\d+$", failed[1]);
        Assert.Equal("upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}", failed[2]);
        Assert.Equal("delayed_connect_error:_111", failed[3]);
        Assert.Equal($"echo 127.0.0.1:{upstream.Port} via_upstream -", lines[1]);
    }

    [Fact]
    public async Task ByteOperators_PostWithBody_CountRequestAndResponseBodies()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "bytes.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path, """
                          log_format: { text_format: "%BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_CODE%\n" }
            """));
        var payload = new string('p', 1234);

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/bytes/777"), new StringContent(payload));
        var body = await response.Content.ReadAsByteArrayAsync();
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));

        Assert.Equal(777, body.Length);
        Assert.Equal("1234 777 200", line);
        Assert.Equal([payload], upstream.Bodies);
    }

    [Fact]
    public async Task TimeOperators_FakeTimeProvider_FollowTheGatewaysClock()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "time.log");
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, 123, TimeSpan.Zero));
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path, """
                          log_format: { text_format: "%START_TIME% %EMIT_TIME(%Y-%m-%d)%\n" }
            """), configureServices: s => s.AddSingleton<TimeProvider>(clock));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2031-05-06T07:08:09.123Z 2031-05-06", line);
    }

    [Fact]
    public async Task UniqueId_InjectedRandom_ComesFromTheGatewaysRandom()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "id.log");
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, path, """
                          log_format: { text_format: "%UNIQUE_ID%\n" }
            """), configureServices: s => s.AddSingleton<Random>(new ConstantBytes()));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/200"));
        var line = Assert.Single(await AccessLogLines.ReadAsync(gateway, path));

        // Every byte 0xab, with the version 4 and variant bits set.
        Assert.Equal("abababab-abab-4bab-abab-abababababab", line);
    }

    /// <summary>A random source whose bytes are all 0xab (and whose numbers are all 0).</summary>
    private sealed class ConstantBytes : Random
    {
        public override void NextBytes(Span<byte> buffer) => buffer.Fill(0xab);

        public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

        public override int Next() => 0;

        public override int Next(int maxValue) => 0;

        public override int Next(int minValue, int maxValue) => minValue;

        public override long NextInt64() => 0;

        public override long NextInt64(long maxValue) => 0;

        public override long NextInt64(long minValue, long maxValue) => minValue;

        public override double NextDouble() => 0;

        protected override double Sample() => 0;
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
