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
    public async Task Proxy_LeastRequestWithABusyUpstream_PrefersTheIdleOne()
    {
        await using var busy = await HoldingUpstream.StartAsync();
        await using var idle = await HoldingUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml([(busy.Port, 0), (idle.Port, 0)], "LEAST_REQUEST",
            "  least_request_lb_config: { choice_count: 2, active_request_bias: { default_value: 1.0, runtime_key: lb.bias } }"));

        // Park one request on `busy` (each upstream holds /hold; `idle` is released at once): with no request in flight
        // a pick is an even draw, so a few tries suffice.
        idle.Release();
        Task<HttpResponseMessage>? parked = null;
        for (var i = 0; i < 40 && parked is null; i++)
        {
            var hold = gateway.Client.GetAsync(gateway.ListenerUri("/hold"));
            if (await Task.WhenAny(hold, busy.Holding).WaitAsync(TimeSpan.FromSeconds(10)) == busy.Holding)
            {
                parked = hold;
            }
            else
            {
                (await hold).Dispose();
            }
        }
        Assert.True(parked is not null, "no request reached the busy upstream in 40 tries");

        // One request in flight on `busy`, none on `idle` (requests are sent one at a time): a pick goes to `busy` only
        // when both random draws name it (1 in 4), so about 45 of 60 reach `idle` (binomial standard deviation about
        // 3.4); the bound is 3.5 of them below. Timing does not matter: the in-flight counts are fixed.
        var idleBefore = idle.Requests;
        for (var i = 0; i < 60; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        busy.Release();
        (await parked.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();

        var toIdle = idle.Requests - idleBefore;
        Assert.True(toIdle >= 33, $"idle {toIdle} of 60");
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
    /// <summary>An upstream answering at once, except that <c>/hold</c> waits until <see cref="Release"/>.</summary>
    private sealed class HoldingUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requests;

        private HoldingUpstream(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public int Requests => Volatile.Read(ref _requests);

        /// <summary>Completes when a <c>/hold</c> request first waits here.</summary>
        public Task Holding => _holding.Task;

        public void Release() => _release.TrySetResult();

        public static async Task<HoldingUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var upstream = new HoldingUpstream(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref upstream._requests);
                if (context.Request.Path == "/hold")
                {
                    upstream._holding.TrySetResult();
                    await upstream._release.Task.WaitAsync(context.RequestAborted);
                }
                await context.Response.WriteAsync("ok");
            });
            await app.StartAsync();
            upstream.Port = new Uri(app.Urls.First()).Port;
            return upstream;
        }

        public async ValueTask DisposeAsync()
        {
            Release();
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
