using System.Net;
using Gateway.Listeners;
using Gateway.Tests.Hosting;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Listeners;

/// <summary>The retry conditions beyond status codes, retry host selection and x-envoy-attempt-count, over real loopback sockets.</summary>
public class RetryConditionTests
{
    private static string Config(int port, string retryPolicy, string vhostExtra = "", string lbPolicy = "ROUND_ROBIN", string extraEndpoint = "")
    {
        var yaml = TestConfigs.Seed("127.0.0.1", port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1",
                routeExtra: "\n                  retry_policy: " + retryPolicy)
            .Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: " + lbPolicy, StringComparison.Ordinal)
            .Replace("                  port_value: " + port, "                  port_value: " + port + extraEndpoint, StringComparison.Ordinal);
        // Virtual-host fields go right after `domains`, at its indentation.
        return vhostExtra.Length == 0 ? yaml : System.Text.RegularExpressions.Regex.Replace(
            yaml, @"^( *)domains: \[""\*""\]$", m => m.Value + string.Concat(vhostExtra.Split(',').Select(f => "\n" + m.Groups[1].Value + f.Trim())),
            System.Text.RegularExpressions.RegexOptions.Multiline);
    }

    private static string Endpoint(int port) => $$"""

                  - endpoint:
                      address:
                        socket_address:
                          address: 127.0.0.1
                          port_value: {{port}}
        """.TrimEnd() ;

    [Fact]
    public async Task RetriableHeaders_MatchingResponseHeader_IsRetried()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                context.Response.Headers["x-upstream-retry"] = "please";
            }
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: retriable-headers, retriable_headers: [ { name: x-upstream-retry, exact_match: please } ] }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-upstream-retry"));
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_success", 1);
    }

    [Theory]
    [InlineData("unavailable", "14", 2)]
    [InlineData("cancelled,deadline-exceeded", "4", 2)]
    [InlineData("resource-exhausted,internal", "14", 1)]
    public async Task GrpcRetryOn_GrpcStatusHeader_RetriesOnlyTheNamedStatuses(string retryOn, string grpcStatus, int expectedRequests)
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            context.Response.ContentType = "application/grpc";
            if (n == 1)
            {
                context.Response.Headers["grpc-status"] = grpcStatus;
            }
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: \"" + retryOn + "\" }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(expectedRequests, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", expectedRequests - 1);
    }

    [Fact]
    public async Task EnvoyRateLimitedResponse_With5xxPolicy_IsNotRetried()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            context.Response.Headers["x-envoy-ratelimited"] = "true";
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: 5xx, num_retries: 2 }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", 0);
    }

    [Fact]
    public async Task EnvoyRateLimitedResponse_WithEnvoyRateLimitedPolicy_IsRetried()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers["x-envoy-ratelimited"] = "true";
            }
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: envoy-ratelimited }"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public async Task RateLimitedBackOff_RetryAfterSeconds_WaitsAtLeastTheIntervalAndCountsRateLimited()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Headers["Retry-After"] = "1";
            }
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: 5xx, rate_limited_retry_back_off: { reset_headers: [ { name: Retry-After } ], max_interval: 5s } }"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1), $"the retry came after {started.Elapsed}, before the 1 s Retry-After");
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_backoff_ratelimited", 1);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_backoff_exponential", 0);
    }

    [Theory]
    [InlineData("Retry-After", "120", null, 120)]
    [InlineData("Retry-After", "601", null, null)]
    [InlineData("X-RateLimit-Reset", "1700000030", "2023-11-14T22:13:20Z", 30)]
    [InlineData("X-RateLimit-Reset", "1699999990", "2023-11-14T22:13:20Z", null)]
    [InlineData("Retry-After", "soon", null, null)]
    public void RateLimitedInterval_ResetHeader_IsParsedAsEnvoyDoes(string header, string value, string? now, int? expectedSeconds)
    {
        var plan = new RateLimitedBackOffPlan(
            [new ResetHeaderPlan("Retry-After", Gateway.Configuration.ResetHeaderFormat.Seconds), new ResetHeaderPlan("X-RateLimit-Reset", Gateway.Configuration.ResetHeaderFormat.UnixTimestamp)],
            TimeSpan.FromSeconds(300));
        var headers = new HeaderDictionary { [header] = value };

        var interval = Gateway.Router.RetryDecisions.RateLimitedInterval(plan, headers, now is null ? DateTimeOffset.UnixEpoch : DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expectedSeconds is null ? null : TimeSpan.FromSeconds(expectedSeconds.Value), interval);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    public async Task RetriableRequestHeaders_OnlyMatchingRequestsAreRetried(bool sendHeader, int expectedRequests)
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            context.Response.StatusCode = n == 1 ? 503 : 200;
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: 5xx, retriable_request_headers: [ { name: x-idempotent, exact_match: \"yes\" } ] }"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        if (sendHeader)
        {
            request.Headers.Add("x-idempotent", "yes");
        }

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(expectedRequests, upstream.Requests);
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry", expectedRequests - 1);
        // A request the policy does not cover has no retry state at all: nothing counts as exceeded.
        await gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_retry_limit_exceeded", 0);
    }

    [Fact]
    public async Task AttemptCount_VirtualHostAsksForIt_UpstreamAndClientSeeTheCount()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var upstream = await ScriptedUpstream.StartAsync((context, n) =>
        {
            seen.Enqueue(context.Request.Headers["x-envoy-attempt-count"].ToString());
            context.Response.StatusCode = n == 1 ? 503 : 200;
            return Task.CompletedTask;
        });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: 5xx }",
            "include_request_attempt_count: true, include_attempt_count_in_response: true"));
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/"));
        request.Headers.Add("x-envoy-attempt-count", "7");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["1", "2"], seen);
        Assert.Equal("2", Assert.Single(response.Headers.GetValues("x-envoy-attempt-count")));
    }

    [Fact]
    public async Task AttemptCount_LocalReplyAfterRetries_CarriesTheCount()
    {
        await using var upstream = await ScriptedUpstream.StartAsync((context, _) => { context.Abort(); return Task.CompletedTask; });
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream.Port, "{ retry_on: reset, num_retries: 2 }",
            "include_attempt_count_in_response: true"));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("3", Assert.Single(response.Headers.GetValues("x-envoy-attempt-count")));
        Assert.StartsWith("upstream connect error or disconnect/reset before headers. retried and the latest reset reason: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, new[] { "a", "b" })]
    [InlineData(false, new[] { "a", "a" })]
    public async Task PreviousHosts_PolicyPicksTheFailedHostAgain_RetryGoesElsewhereOnlyWithThePredicate(bool previousHosts, string[] expectedHosts)
    {
        var served = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var a = await ScriptedUpstream.StartAsync((context, _) => { served.Enqueue("a"); context.Response.StatusCode = 503; return Task.CompletedTask; });
        await using var b = await ScriptedUpstream.StartAsync((context, _) => { served.Enqueue("b"); return Task.CompletedTask; });
        var predicate = previousHosts
            ? ", retry_host_predicate: [ { name: envoy.retry_host_predicates.previous_hosts } ], host_selection_retry_max_attempts: 1"
            : string.Empty;
        // The scripted random picks a, a, b, ...: only a host re-pick (the predicate rejecting a) reaches b on the retry.
        await using var gateway = await InProcessGateway.StartAsync(
            Config(a.Port, "{ retry_on: 5xx" + predicate + " }", lbPolicy: "RANDOM", extraEndpoint: Endpoint(b.Port)));
        Assert.True(gateway.Services.GetRequiredService<Gateway.Clusters.ClusterRegistry>().TryGet("httpbin_service", out var cluster));
        var available = cluster.ProxyCluster!.DestinationsState.AvailableDestinations;
        long IndexOf(int port) => available.Select((d, i) => (d, i)).First(x => x.d.Model.Config.Address.EndsWith(":" + port, StringComparison.Ordinal)).i;
        cluster.PickerRandom = new ScriptedRandom([IndexOf(a.Port), IndexOf(a.Port), IndexOf(b.Port)]);

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/"));

        Assert.Equal(expectedHosts, served);
        Assert.Equal(previousHosts ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    /// <summary>A Random whose draws are a fixed sequence (the RANDOM picker takes a draw modulo the host count), then the last one.</summary>
    private sealed class ScriptedRandom(long[] values) : Random
    {
        private int _next;

        public override long NextInt64(long maxValue) => values[Math.Min(_next++, values.Length - 1)];
    }
}
