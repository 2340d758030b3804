using System.Net;
using Gateway.Filters;
using Gateway.Tests.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Fault;

/// <summary>envoy.filters.http.fault through the in-process gateway, against an echo upstream, with delays on a fake clock.</summary>
public class FaultFilterTests
{
    private const string Type = "envoy.extensions.filters.http.fault.v3.HTTPFault";
    private const string Stats = "http.ingress_http.fault.";

    private readonly StreamInfoProbeFactory _probe = new();

    private Task<(InProcessGateway Gateway, FakeTimeProvider Time)> StartAsync(EchoUpstream upstream, string filter, string limitedRoute = "")
        => SingleFilterConfig.StartAsync(upstream, _probe, "envoy.filters.http.fault", Type, filter, limitedRoute);

    private static async Task AssertStatsAsync(InProcessGateway gateway, long delays, long aborts, long overflow, long active)
    {
        Assert.Equal(delays, await gateway.StatAsync(Stats + "delays_injected"));
        Assert.Equal(aborts, await gateway.StatAsync(Stats + "aborts_injected"));
        Assert.Equal(overflow, await gateway.StatAsync(Stats + "faults_overflow"));
        await gateway.AssertStatAsync(Stats + "active_faults", active);
    }

    /// <summary>Waits (bounded) until the gateway has started <paramref name="count"/> delays, so that advancing the clock reaches their timers.</summary>
    private static async Task WaitForDelaysAsync(InProcessGateway gateway, long count) => await gateway.AssertStatAsync(Stats + "delays_injected", count);

    [Fact]
    public async Task Abort_FixedStatusAllRequests_FaultFilterAbortReply()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { http_status: 503, percentage: { numerator: 100 } }");
        await using var _ = gateway;

        using var response = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("fault filter abort", await response.Content.ReadAsStringAsync());
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        Assert.Equal(0, upstream.Requests);
        await AssertStatsAsync(gateway, delays: 0, aborts: 1, overflow: 0, active: 0);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
        Assert.Equal((ResponseFlags.FaultInjected, "fault_filter_abort"), Assert.Single(await _probe.CompletedAsync(1)));
    }

    [Theory]
    [InlineData("abort: { http_status: 503 }")]
    [InlineData("abort: { http_status: 503, percentage: { numerator: 0 } }")]
    [InlineData("delay: { fixed_delay: 5s }")]
    public async Task Request_NoPercentage_NoFault(string filter)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, filter);
        await using var _ = gateway;

        using var response = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertStatsAsync(gateway, delays: 0, aborts: 0, overflow: 0, active: 0);
    }

    [Fact]
    public async Task Delay_FixedDelay_ForwardedWhenTheGatewayClockHasAdvanced()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, "delay: { fixed_delay: 2s, percentage: { numerator: 100 } }");
        await using var _ = gateway;

        var pending = SingleFilterConfig.GetAsync(gateway, "/get");
        await WaitForDelaysAsync(gateway, 1);
        Assert.Equal(1, await gateway.StatAsync(Stats + "active_faults"));
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(pending.IsCompleted);
        Assert.Equal(0, upstream.Requests);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await AssertStatsAsync(gateway, delays: 1, aborts: 0, overflow: 0, active: 0);
        Assert.Equal(ResponseFlags.DelayInjected, Assert.Single(await _probe.CompletedAsync(1)).Flags);
    }

    [Fact]
    public async Task Delay_ThenAbort_AbortsAfterTheDelay()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, """
            delay: { fixed_delay: 1s, percentage: { numerator: 100 } }
            abort: { http_status: 418, percentage: { numerator: 10000, denominator: TEN_THOUSAND } }
            """);
        await using var _ = gateway;

        var pending = SingleFilterConfig.GetAsync(gateway, "/get");
        await WaitForDelaysAsync(gateway, 1);
        Assert.Equal(0, await gateway.StatAsync(Stats + "aborts_injected"));
        time.Advance(TimeSpan.FromSeconds(1));
        using var response = await pending;

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal(0, upstream.Requests);
        await AssertStatsAsync(gateway, delays: 1, aborts: 1, overflow: 0, active: 0);
        Assert.Equal(ResponseFlags.DelayInjected | ResponseFlags.FaultInjected, Assert.Single(await _probe.CompletedAsync(1)).Flags);
    }

    [Theory]
    [InlineData(null, null, HttpStatusCode.OK)]
    [InlineData("429", null, HttpStatusCode.TooManyRequests)]
    [InlineData("429", "0", HttpStatusCode.OK)]
    [InlineData("429", "100", HttpStatusCode.TooManyRequests)]
    [InlineData("600", null, HttpStatusCode.OK)]
    [InlineData("abc", null, HttpStatusCode.OK)]
    public async Task Abort_HeaderAbort_StatusAndPercentageFromTheRequest(string? status, string? percent, HttpStatusCode expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { header_abort: {}, percentage: { numerator: 100 } }");
        await using var _ = gateway;
        var headers = new List<string>();
        if (status is not null)
        {
            headers.AddRange(["x-envoy-fault-abort-request", status]);
        }
        if (percent is not null)
        {
            headers.AddRange(["x-envoy-fault-abort-request-percentage", percent]);
        }

        using var response = await SingleFilterConfig.GetAsync(gateway, "/get", [.. headers]);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 0 : 1, await gateway.StatAsync(Stats + "aborts_injected"));
    }

    [Fact]
    public async Task Abort_GrpcStatusOnGrpcRequest_TrailersOnlyReplyWithThatStatus()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { grpc_status: 8, percentage: { numerator: 100 } }");
        await using var _ = gateway;

        using var response = await GrpcPostAsync(gateway);

        // Envoy's abortStatus: HTTP 200 with the gRPC status; the gRPC local reply carries the body as grpc-message.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("8", Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Equal("fault filter abort", Assert.Single(response.Headers.GetValues("grpc-message")));
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, upstream.Requests);
        await AssertStatsAsync(gateway, delays: 0, aborts: 1, overflow: 0, active: 0);
    }

    /// <summary>A POST with <c>content-type: application/grpc</c> (and an empty message frame) and the given headers.</summary>
    private static async Task<HttpResponseMessage> GrpcPostAsync(InProcessGateway gateway, params string[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/svc/Method")) { Content = new ByteArrayContent(new byte[5]) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        for (var i = 0; i + 1 < headers.Length; i += 2)
        {
            request.Headers.TryAddWithoutValidation(headers[i], headers[i + 1]);
        }
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Abort_GrpcStatusOnPlainRequest_Http200WithTheBody()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { grpc_status: 8, percentage: { numerator: 100 } }");
        await using var _ = gateway;

        using var response = await SingleFilterConfig.GetAsync(gateway, "/get");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("grpc-status"));
        Assert.Equal("fault filter abort", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Requests);
    }

    [Theory]
    [InlineData(null, "14", "14")]
    [InlineData("503", "14", null)]
    [InlineData("600", "4", "4")]
    [InlineData(null, "x", null)]
    public async Task Abort_HeaderAbortGrpcHeader_HttpHeaderFirstThenTheGrpcStatus(string? http, string grpc, string? expectedGrpcStatus)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { header_abort: {}, percentage: { numerator: 100 } }");
        await using var _ = gateway;
        List<string> headers = ["x-envoy-fault-abort-grpc-request", grpc];
        if (http is not null)
        {
            headers.AddRange(["x-envoy-fault-abort-request", http]);
        }

        using var response = await GrpcPostAsync(gateway, [.. headers]);

        var aborted = http is "503" || expectedGrpcStatus is not null;
        Assert.Equal(aborted ? 1 : 0, await gateway.StatAsync(Stats + "aborts_injected"));
        if (aborted)
        {
            // A gRPC request's local reply is always HTTP 200; an HTTP abort status maps through httpToGrpcStatus (503 → 14).
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expectedGrpcStatus ?? "14", Assert.Single(response.Headers.GetValues("grpc-status")));
        }
        else
        {
            Assert.Equal(1, upstream.Requests);
        }
    }

    [Fact]
    public async Task Delay_HeaderDelay_MillisecondsFromTheRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, "delay: { header_delay: {}, percentage: { numerator: 100 } }");
        await using var _ = gateway;

        using (var undelayed = await SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-fault-delay-request-percentage", "0", "x-envoy-fault-delay-request", "500"))
        {
            Assert.Equal(HttpStatusCode.OK, undelayed.StatusCode);
        }
        var pending = SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-fault-delay-request", "500");
        await WaitForDelaysAsync(gateway, 1);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertStatsAsync(gateway, delays: 1, aborts: 0, overflow: 0, active: 0);
    }

    [Fact]
    public async Task Abort_UpstreamClusterDownstreamNodesAndHeaders_OnlyMatchingRequests()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, """
            abort: { http_status: 503, percentage: { numerator: 100 } }
            upstream_cluster: echo
            downstream_nodes: [node-a, node-b]
            headers: [{ name: x-fault, string_match: { exact: "on" } }]
            """);
        await using var _ = gateway;

        using var matching = await SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-downstream-service-node", "node-b", "x-fault", "on");
        using var otherNode = await SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-downstream-service-node", "node-c", "x-fault", "on");
        using var noNode = await SingleFilterConfig.GetAsync(gateway, "/get", "x-fault", "on");
        using var noHeader = await SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-downstream-service-node", "node-a");
        using var direct = await SingleFilterConfig.GetAsync(gateway, "/direct", "x-envoy-downstream-service-node", "node-a", "x-fault", "on");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, matching.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherNode.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noNode.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noHeader.StatusCode);
        Assert.Equal("direct", await direct.Content.ReadAsStringAsync());
        await AssertStatsAsync(gateway, delays: 0, aborts: 1, overflow: 0, active: 0);
    }

    [Fact]
    public async Task Delay_MaxActiveFaultsReached_OverflowPassesThrough()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, time) = await StartAsync(upstream, """
            delay: { fixed_delay: 1s, percentage: { numerator: 100 } }
            max_active_faults: 1
            """);
        await using var _ = gateway;

        var delayed = SingleFilterConfig.GetAsync(gateway, "/get");
        await WaitForDelaysAsync(gateway, 1);
        using (var overflowed = await SingleFilterConfig.GetAsync(gateway, "/get"))
        {
            Assert.Equal(HttpStatusCode.OK, overflowed.StatusCode);
        }
        Assert.False(delayed.IsCompleted);
        Assert.Equal(1, await gateway.StatAsync(Stats + "faults_overflow"));
        time.Advance(TimeSpan.FromSeconds(1));
        using var response = await delayed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.Requests);
        await AssertStatsAsync(gateway, delays: 1, aborts: 0, overflow: 1, active: 0);
    }

    [Fact]
    public async Task Abort_PerRouteHttpFault_ReplacesTheFilterSettings()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, "abort: { http_status: 503, percentage: { numerator: 0 } }", $$"""
            typed_per_filter_config:
              envoy.filters.http.fault:
                "@type": type.googleapis.com/{{Type}}
                abort: { http_status: 502, percentage: { numerator: 100 } }
            """);
        await using var _ = gateway;

        using var limited = await SingleFilterConfig.GetAsync(gateway, "/limited");
        using var other = await SingleFilterConfig.GetAsync(gateway, "/other");

        Assert.Equal(HttpStatusCode.BadGateway, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await AssertStatsAsync(gateway, delays: 0, aborts: 1, overflow: 0, active: 0);
    }

    [Theory]
    [InlineData(false, 1L)]
    [InlineData(true, null)]
    public async Task Abort_DownstreamClusterHeader_PerClusterStatsUnlessDisabled(bool disabled, long? expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, $"abort: {{ http_status: 503, percentage: {{ numerator: 100 }} }}\ndisable_downstream_cluster_stats: {(disabled ? "true" : "false")}");
        await using var _ = gateway;

        using var response = await SingleFilterConfig.GetAsync(gateway, "/get", "x-envoy-downstream-service-cluster", "frontend");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(expected, await gateway.StatAsync(Stats + "frontend.aborts_injected"));
        Assert.Equal(1, await gateway.StatAsync(Stats + "aborts_injected"));
    }

    [Fact]
    public async Task ConfigDump_FaultFilter_PrintedAsEnvoyDoes()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var (gateway, _) = await StartAsync(upstream, """
            delay: { fixed_delay: 1.5s, percentage: { numerator: 5, denominator: TEN_THOUSAND } }
            abort: { header_abort: {}, percentage: { numerator: 100 } }
            downstream_nodes: [a]
            max_active_faults: 3
            """);
        await using var _ = gateway;

        var dump = await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"));

        Assert.Contains("\"@type\": \"type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"fixed_delay\": \"1.500s\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"denominator\": \"TEN_THOUSAND\"", dump, StringComparison.Ordinal);
        Assert.Contains("\"header_abort\": {}", dump, StringComparison.Ordinal);
        Assert.Contains("\"max_active_faults\": 3", dump, StringComparison.Ordinal);
    }
}
