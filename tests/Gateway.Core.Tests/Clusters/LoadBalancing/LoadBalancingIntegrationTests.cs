using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>ROUND_ROBIN, LEAST_REQUEST and RANDOM end to end: real Kestrel upstreams behind the gateway.</summary>
public class LoadBalancingIntegrationTests
{
    private static string Yaml((int Port, int Weight)[] endpoints, string lbPolicy, string extra = "")
    {
        var lbEndpoints = string.Join("\n", endpoints.Select(e =>
            $"      - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {e.Port} }} }} }}"
            + (e.Weight > 0 ? $"\n        load_balancing_weight: {e.Weight}" : "")));
        var clusters = $"""
            - name: balanced
              type: STATIC
              lb_policy: {lbPolicy}
            {extra}
              load_assignment:
                cluster_name: balanced
                endpoints:
                - lb_endpoints:
            {lbEndpoints}
            """;
        return ListenerYaml.Build(endpoints[0].Port, "", routes: """
            - match: { prefix: "/" }
              route: { cluster: balanced }
            """, clusters: clusters);
    }

    [Fact]
    public async Task Proxy_RoundRobinWeights3To1_SplitsExactlyByWeight()
    {
        await using var heavy = await EchoUpstream.StartAsync();
        await using var light = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(heavy.Port, 3), (light.Port, 1)], "ROUND_ROBIN"));

        for (var i = 0; i < 400; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // EDF over weights 3 and 1: every four consecutive picks are three and one (the random start shifts by at most one).
        Assert.InRange(heavy.Requests, 299, 301);
        Assert.Equal(400, heavy.Requests + light.Requests);
    }

    [Fact]
    public async Task Proxy_RoundRobinEqualWeights_Alternates()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(a.Port, 0), (b.Port, 0)], "ROUND_ROBIN"));

        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(5, a.Requests);
        Assert.Equal(5, b.Requests);
    }

    [Fact]
    public async Task Proxy_LeastRequestWithASlowUpstream_PrefersTheIdleOne()
    {
        await using var slow = await DelayedUpstream.StartAsync(TimeSpan.FromMilliseconds(300));
        await using var fast = await DelayedUpstream.StartAsync(TimeSpan.Zero);
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(slow.Port, 0), (fast.Port, 0)], "LEAST_REQUEST",
            "  least_request_lb_config: { choice_count: 2, active_request_bias: { default_value: 1.0, runtime_key: lb.bias } }"));

        // Four concurrent senders share 60 requests: a pick goes to the one of two random draws with fewer requests in
        // flight, so while the slow host is busy only a pick drawing it twice (1 in 4) goes there: about 45 to the fast
        // one (binomial standard deviation about 3.4); the bound is 3.5 of them below.
        var sent = 0;
        var senders = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (Interlocked.Increment(ref sent) <= 60)
            {
                using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(60, slow.Requests + fast.Requests);
        Assert.True(fast.Requests >= 33, $"fast {fast.Requests}, slow {slow.Requests}");
    }

    [Fact]
    public async Task Proxy_Random_ReachesEveryUpstream()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(a.Port, 0), (b.Port, 0)], "RANDOM"));

        for (var i = 0; i < 40; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(40, a.Requests + b.Requests);
        Assert.True(a.Requests > 0 && b.Requests > 0, $"a {a.Requests}, b {b.Requests}");
    }

    [Fact]
    public async Task ConfigDump_WeightAndLeastRequestConfig_Shown()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(a.Port, 7)], "LEAST_REQUEST", "  least_request_lb_config: { choice_count: 3 }"));

        var dump = string.Concat((await gateway.Client.GetStringAsync(gateway.AdminUri("/config_dump"))).Where(c => !char.IsWhiteSpace(c)));

        Assert.Contains("\"load_balancing_weight\":7", dump, StringComparison.Ordinal);
        Assert.Contains("\"least_request_lb_config\":{\"choice_count\":3}", dump, StringComparison.Ordinal);
    }

    /// <summary>A Kestrel upstream that answers 200 after a fixed delay and counts its requests.</summary>
    private sealed class DelayedUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private DelayedUpstream(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<DelayedUpstream> StartAsync(TimeSpan delay)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var upstream = new DelayedUpstream(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref upstream._requests);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, context.RequestAborted);
                }
                await context.Response.WriteAsync("ok");
            });
            await app.StartAsync();
            upstream.Port = new Uri(app.Urls.First()).Port;
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Envoy's checks of endpoint weights and of <c>least_request_lb_config</c>, at load.</summary>
public class LoadBalancingValidationTests
{
    /// <summary>A listener and the cluster <c>httpbin</c> with one endpoint, with the given fields.</summary>
    internal static string Yaml(string clusterFields, string endpointFields = "")
        => ListenerYaml.Build(8080, "", clusters: $$"""
            - name: httpbin
              type: STATIC
            {{clusterFields}}
              load_assignment:
                cluster_name: httpbin
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8081 } } }
            {{endpointFields}}
            """);

    /// <summary>The load errors of <see cref="Yaml"/>, empty when it loads.</summary>
    internal static List<string> Errors(string clusterFields, string endpointFields = "")
    {
        try
        {
            EnvoyConfigLoader.LoadYaml(Yaml(clusterFields, endpointFields));
            return [];
        }
        catch (EnvoyConfigException e)
        {
            return e.Errors.Select(x => x.ToString()).ToList();
        }
    }

    [Fact]
    public void Load_WeightZero_EnvoysMessageWithPath()
    {
        var error = Assert.Single(Errors("  lb_policy: ROUND_ROBIN", "        load_balancing_weight: 0"));
        Assert.Contains("LbEndpointValidationError.LoadBalancingWeight: value must be greater than or equal to 1", error, StringComparison.Ordinal);
        Assert.Contains("load_balancing_weight", error[..error.IndexOf("Proto", StringComparison.Ordinal)], StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WeightsSummingAboveUint32_Refused()
    {
        var error = Assert.Single(Errors("  lb_policy: ROUND_ROBIN", """
                    load_balancing_weight: 4294967295
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8082 } } }
                    load_balancing_weight: 1
            """));
        Assert.Contains("The sum of weights of all upstream hosts in a locality exceeds 4294967295", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ValidWeightAndLeastRequestConfig_Accepted()
    {
        Assert.Empty(Errors("  lb_policy: LEAST_REQUEST\n  least_request_lb_config: { choice_count: 5, active_request_bias: { default_value: 0.5, runtime_key: k } }", "        load_balancing_weight: 10"));
    }

    [Fact]
    public void Load_LeastRequestConfigErrors_AllReported()
    {
        var errors = Errors("  lb_policy: LEAST_REQUEST\n  least_request_lb_config: { choice_count: 1, active_request_bias: { default_value: -1 } }");
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("LeastRequestLbConfigValidationError.ChoiceCount: value must be greater than or equal to 2", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'runtime_key' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'active_request_bias' must be a non-negative number", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_LeastRequestConfigOnRoundRobin_Refused()
    {
        var error = Assert.Single(Errors("  lb_policy: ROUND_ROBIN\n  least_request_lb_config: { choice_count: 3 }"));
        Assert.Contains("'least_request_lb_config' applies only to lb_policy LEAST_REQUEST", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RefusedLbFields_NamedWithTheirPath()
    {
        Assert.Contains(Errors("  lb_policy: ROUND_ROBIN\n  round_robin_lb_config: { locality_lb_config: { } }"), e => e.Contains("round_robin_lb_config.locality_lb_config", StringComparison.Ordinal));
    }
}
