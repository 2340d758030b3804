using System.Net;
using Gateway.Listeners;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners;

/// <summary>Envoy's retry semantics over real loopback sockets.</summary>
public class RetryTests
{
    private static string Config(EchoUpstream upstream, string retryPolicy, string extraEndpoint = "")
        => TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1",
            routeExtra: "\n                  retry_policy: " + retryPolicy)
            .Replace("                  port_value: " + upstream.Port, "                  port_value: " + upstream.Port + extraEndpoint, StringComparison.Ordinal);

    [Fact]
    public async Task Retry_FlappingUpstream_SucceedsAndCountsRetrySuccess()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 3 }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/flaky/2/503"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_success", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.retry.upstream_rq_503", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_200", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 3);
        Assert.Null(await gateway.StatAsync("cluster.httpbin_service.upstream_rq_503"));
    }

    [Fact]
    public async Task Retry_NotARetriableStatus_IsReturnedAtOnce()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: gateway-error, num_retries: 3 }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/500"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
    }

    [Fact]
    public async Task Retry_PerTryTimeout_RetriesAndSucceeds()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 2, per_try_timeout: 0.3s }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/slow-once/3000"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_per_try_timeout", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_success", 1);
    }

    [Fact]
    public async Task Retry_PerTryTimeoutEveryTime_Answers504()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 1, per_try_timeout: 0.2s }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/delay/2000"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_per_try_timeout", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_limit_exceeded", 1);
    }

    [Fact]
    public async Task Retry_PostWithBody_ReplaysTheIdenticalBody()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 2 }"));
        var payload = new string('x', 100_000) + "end";

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/flaky/1/503"), new StringContent(payload));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([payload, payload], upstream.Bodies);
    }

    [Fact]
    public async Task Retry_BodyOverBufferLimit_IsNotRetried()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 2 }"));
        var payload = new string('y', Gateway.Router.RouterFilter.RetryBufferLimit + 1);

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/flaky/1/503"), new StringContent(payload));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.retry_or_shadow_abandoned", 1);
    }

    [Fact]
    public async Task Retry_ChunkedBodyOfUnknownLength_ReplaysTheIdenticalBody()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 2 }"));
        var payload = new string('c', 70_000) + "end";

        // No content-length: the body is chunked, as Envoy's router still buffers it for a retry.
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(payload)));
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/flaky/1/503")) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([payload, payload], upstream.Bodies);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_success", 1);
    }

    [Fact]
    public async Task Retry_ChunkedBodyOverBufferLimit_StreamsOnceAndIsNotRetried()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream, "{ retry_on: 5xx, num_retries: 2 }"));
        var payload = new string('z', Gateway.Router.RouterFilter.RetryBufferLimit + 1);

        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(payload)));
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/flaky/1/503")) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await gateway.Client.SendAsync(request);

        // The whole body still reached the upstream; only the replay was given up.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(payload, Assert.Single(upstream.Bodies));
        await gateway.AssertStatAsync("cluster.httpbin_service.retry_or_shadow_abandoned", 1);
    }

    [Theory]
    [InlineData(4096, 5000, false)]
    [InlineData(8192, 5000, true)]
    [InlineData(0, 2_000_000, true)]
    public async Task Retry_ListenerBufferLimit_DecidesWhatIsReplayed(int limit, int size, bool retried)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = ListenerYaml.WithListenerFields(Config(upstream, "{ retry_on: 5xx, num_retries: 2 }"), $"per_connection_buffer_limit_bytes: {limit}");
        Assert.Contains("per_connection_buffer_limit_bytes", yaml, StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        var payload = new string('b', size);

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/flaky/1/503"), new StringContent(payload));

        // The listener's per_connection_buffer_limit_bytes is the retry buffer (0: none), as Envoy's decoder buffer limit.
        Assert.Equal(retried ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(retried ? 2 : 1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.retry_or_shadow_abandoned", retried ? 0 : 1);
    }

    [Fact]
    public async Task Retry_ConnectFailure_GoesToTheNextHost()
    {
        int closedPort;
        await using (var closed = await EchoUpstream.StartAsync())
        {
            closedPort = closed.Port;
        }
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = Config(upstream, "{ retry_on: connect-failure, num_retries: 1 }",
            extraEndpoint: $"\n          - endpoint:\n              address:\n                socket_address:\n                  address: 127.0.0.1\n                  port_value: {closedPort}");

        await using var gateway = await InProcessGateway.StartAsync(yaml);
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Every pick of the dead host failed to connect and was retried onto the live one (round robin decides how often).
        var retries = await gateway.StatAsync("cluster.httpbin_service.upstream_rq_retry");
        Assert.InRange(retries ?? 0, 1, 4);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_cx_connect_fail", retries!.Value);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_success", retries.Value);
        Assert.Equal(4, upstream.Requests);
    }

    [Fact]
    public async Task Retry_BackOff_WaitsTheJitteredExponentialInterval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(
            Config(upstream, "{ retry_on: 5xx, num_retries: 3, retry_back_off: { base_interval: 1s, max_interval: 10s } }"),
            services => services.AddSingleton<TimeProvider>(time));
        gateway.Services.GetRequiredService<Gateway.Router.RouterFilter>().Jitter = new FixedRandom(0.5);

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/flaky/2/503"));
        await WaitUntilAsync(() => upstream.Requests == 1);
        // Let the gateway reach its back-off wait before moving the clock (the wait starts at the fake "now").
        await Task.Delay(300);
        // First retry: half of [0, 1 s) = 500 ms.
        time.Advance(TimeSpan.FromMilliseconds(490));
        await Task.Delay(200);
        Assert.Equal(1, upstream.Requests);
        time.Advance(TimeSpan.FromMilliseconds(20));
        await WaitUntilAsync(() => upstream.Requests == 2);
        await Task.Delay(300);
        // Second retry: half of [0, 2 s) = 1 s.
        time.Advance(TimeSpan.FromMilliseconds(990));
        await Task.Delay(200);
        Assert.Equal(2, upstream.Requests);
        time.Advance(TimeSpan.FromMilliseconds(20));

        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.Requests);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 5 s");
            await Task.Delay(10);
        }
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}

public class RetryTimeoutHeaderTests
{
    private static readonly System.Text.Json.JsonSerializerOptions EchoJson = new() { PropertyNameCaseInsensitive = true };

    [Fact]
    public async Task Retry_ExpectedTimeoutHeader_IsTheTimeLeftOnRetries()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1",
            routeExtra: "\n                  timeout: 2s\n                  retry_policy: { retry_on: 5xx, num_retries: 1, retry_back_off: { base_interval: 0.4s, max_interval: 0.4s } }");
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        gateway.Services.GetRequiredService<Gateway.Router.RouterFilter>().Jitter = new OneRandom();

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/flaky/1/503"));
        var echoed = System.Text.Json.JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;

        // The retry waited at least the 0.4 s back-off of the 2 s route timeout, so it announces what is left, not 2000
        // (on a loaded machine the first attempt can take long too: only the upper bound is the behaviour).
        var sent = long.Parse(echoed.Headers["x-envoy-expected-rq-timeout-ms"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(sent, 1, 1650);
    }

    private sealed class OneRandom : Random
    {
        public override double NextDouble() => 0.999;
    }
}
