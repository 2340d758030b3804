using System.Net;
using Gateway.Resilience;
using Gateway.Tests.Hosting;
using Polly.Retry;
using Polly.Testing;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace Gateway.Tests.Resilience;

/// <summary>The Polly pipelines behind the router: composition, and timeouts meeting retries over real loopback sockets.</summary>
public class UpstreamPipelineTests
{
    [Fact]
    public void For_RequestWithRetryPolicy_RouteTimeoutThenRetryThenPerTryTimeout()
    {
        var pipelines = new UpstreamPipeline(TimeProvider.System);
        var state = TestRequests.State(retryPolicy: "{ retry_on: 5xx, per_try_timeout: 1s }");

        var descriptor = pipelines.For(state).GetPipelineDescriptor();

        Assert.Collection(
            descriptor.Strategies,
            s => Assert.Equal(("route-timeout", typeof(TimeoutStrategyOptions)), (s.Options!.Name, s.Options.GetType())),
            s => Assert.Equal(("envoy-retry", typeof(RetryStrategyOptions<AttemptKind>)), (s.Options!.Name, s.Options.GetType())),
            s => Assert.Equal(("per-try-timeout", typeof(TimeoutStrategyOptions)), (s.Options!.Name, s.Options.GetType())));
    }

    [Fact]
    public void For_RequestWithRetryPolicyWithoutPerTryTimeout_RouteTimeoutThenRetry()
    {
        var pipelines = new UpstreamPipeline(TimeProvider.System);

        var descriptor = pipelines.For(TestRequests.State(retryPolicy: "{ retry_on: 5xx }")).GetPipelineDescriptor();

        Assert.Equal(["route-timeout", "envoy-retry"], descriptor.Strategies.Select(s => s.Options!.Name));
    }

    [Fact]
    public void For_RequestWithoutRetryPolicy_OnlyTheRouteTimeout()
    {
        var pipelines = new UpstreamPipeline(TimeProvider.System);

        var descriptor = pipelines.For(TestRequests.State(retryPolicy: null)).GetPipelineDescriptor();

        Assert.Equal("route-timeout", Assert.Single(descriptor.Strategies).Options!.Name);
    }

    [Fact]
    public async Task RouteTimeout_DuringBackOff_Answers504AndGivesTheRetrySlotBack()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1",
                routeExtra: "\n                  timeout: 0.3s\n                  retry_policy: { retry_on: 5xx, num_retries: 1, retry_back_off: { base_interval: 5s, max_interval: 5s } }")
            .Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: { thresholds: [ { max_retries: 1 } ] }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        gateway.Services.GetRequiredService<Gateway.Router.RouterFilter>().Jitter = new AlmostOne();

        for (var i = 1; i <= 2; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"));

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
            // Both requests could schedule their retry: the first gave its slot back when its timeout cut the back-off short.
            await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", i);
        }
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_overflow", 0);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_timeout", 2);
        await gateway.AssertStatAsync("cluster.httpbin_service.circuit_breakers.default.rq_retry_open", 0);
    }

    [Fact]
    public async Task PerTryTimeout_WithoutRetryPolicy_Answers504AndCountsPerTryTimeout()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")
            .Replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          internal_address_config: { cidr_ranges: [ { address_prefix: 127.0.0.1, prefix_len: 32 } ] }", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/delay/2000"));
        request.Headers.Add("x-forwarded-for", "127.0.0.1");
        request.Headers.Add("x-envoy-upstream-rq-per-try-timeout-ms", "200");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_per_try_timeout", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_timeout", 0);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_504", 1);
    }

    [Fact]
    public async Task AttemptThrows_GatewayFault_IsA500NotAnEmptySuccess()
    {
        await using var first = await EchoUpstream.StartAsync();
        await using var second = await EchoUpstream.StartAsync();
        var yaml = TestConfigs.Backends("backend", [first.Port, second.Port]).Replace("lb_policy: ROUND_ROBIN", "lb_policy: RANDOM", StringComparison.Ordinal);
        await using var gateway = await InProcessGateway.StartAsync(yaml);
        // A load balancer that fails stands for any fault inside an attempt (two hosts, so it is asked).
        Assert.True(gateway.Services.GetRequiredService<Gateway.Clusters.ClusterRegistry>().TryGet("backend", out var cluster));
        cluster.PickerRandom = new FailingRandom();

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(0, first.Requests + second.Requests);
    }

    private sealed class FailingRandom : Random
    {
        public override long NextInt64(long maxValue) => throw new InvalidOperationException("load balancer failed");
    }

    private sealed class AlmostOne : Random
    {
        public override double NextDouble() => 0.999;
    }
}

/// <summary>Request states for the seed route, built through the real loader, translator and route table.</summary>
internal static class TestRequests
{
    /// <summary>A registry holding <paramref name="plan"/>'s clusters, as the running gateway has them before it builds listeners.</summary>
    public static Gateway.Clusters.ClusterRegistry Registry(Gateway.Translation.GatewayPlan plan, Gateway.Stats.StatsStore stats)
    {
        var registry = new Gateway.Clusters.ClusterRegistry(stats);
        foreach (var cluster in plan.ClusterPlans)
        {
            registry.GetOrCreate(cluster.Name).Plan = cluster;
        }
        return registry;
    }

    public static Gateway.Router.UpstreamRequest State(string? retryPolicy)
    {
        var yaml = TestConfigs.Seed(routeExtra: retryPolicy is null ? string.Empty : "\n                  retry_policy: " + retryPolicy);
        var plan = Gateway.Translation.EnvoyTranslator.Translate(Gateway.Configuration.EnvoyConfigLoader.LoadYaml(yaml));
        var stats = new Gateway.Stats.StatsStore();
        var listener = Gateway.Listeners.ListenerRuntime.Build(plan.Listeners[0], plan.Listeners[0].FilterChains[0], Registry(plan, stats), stats);
        var route = listener.Routes.Match("example", "GET", "http", "/", new Microsoft.AspNetCore.Http.HeaderDictionary())!;
        var info = new Gateway.Listeners.RequestStreamInfo(new Microsoft.AspNetCore.Http.DefaultHttpContext(), TimeProvider.System, 0);
        return new Gateway.Router.UpstreamRequest(info, listener, route, 0) { Retry = route.Retry };
    }
}
