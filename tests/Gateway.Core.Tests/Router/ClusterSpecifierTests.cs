using System.Net;
using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Router;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Router;

/// <summary><c>weighted_clusters</c>, <c>cluster_header</c> and <c>cluster_not_found_response_code</c>: the pick, and end to end over real Kestrel upstreams.</summary>
public sealed class ClusterSpecifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cluster-specifier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Cluster(string name, int port)
        => ListenerYaml.Dedent($$"""
            - name: {{name}}
              type: STATIC
              load_assignment:
                cluster_name: {{name}}
                endpoints:
                - lb_endpoints:
                  - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } } }
            """);

    private string WithAccessLog(string yaml, string path)
        => yaml.Replace("          stat_prefix: ingress_http", "          stat_prefix: ingress_http\n" + ListenerYaml.Indent(ListenerYaml.Dedent($$"""
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: {{path}}
                log_format: { text_format: "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER%\n" }
            """), 10), StringComparison.Ordinal);

    [Fact]
    public void PickIndex_Weights80And20Over10000SeededDraws_SplitWithinBound()
    {
        var random = new Random(20261202);
        var picks = new int[2];

        for (var i = 0; i < 10_000; i++)
        {
            picks[ClusterSpecifier.PickIndex([80, 20], 100, (ulong)random.NextInt64())]++;
        }

        // Binomial(10000, 0.8): standard deviation 40; 5 of them is 200.
        Assert.InRange(picks[0], 7_800, 8_200);
        Assert.Equal(10_000, picks[0] + picks[1]);
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(2UL, 0)]
    [InlineData(3UL, 2)]
    [InlineData(7UL, 2)]
    [InlineData(8UL, 0)]
    [InlineData(11UL, 2)]
    public void PickIndex_RandomValueModuloTotal_WalksRangesAndSkipsZeroWeight(ulong random, int expected)
        => Assert.Equal(expected, ClusterSpecifier.PickIndex([3, 0, 5], 8, random));

    [Fact]
    public async Task Send_WeightedClusters_BothClustersReachedAndCounted()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        var routes = """
            - match: { prefix: "/" }
              route:
                weighted_clusters:
                  runtime_key_prefix: routing.split
                  clusters:
                  - { name: echo, weight: 1 }
                  - { name: other, weight: 1 }
            """;
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(a.Port, "", routes: routes, clusters: Cluster("other", b.Port)),
            s => s.AddSingleton(new Random(7)));

        for (var i = 0; i < 40; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/w/" + i));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(a.Requests > 0 && b.Requests > 0, $"echo {a.Requests}, other {b.Requests}");
        Assert.Equal(40, a.Requests + b.Requests);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_total", a.Requests);
        await gateway.AssertStatAsync("cluster.other.upstream_rq_total", b.Requests);
    }

    [Fact]
    public async Task Send_WeightedClustersHeaderName_HeaderValuePicks()
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        var routes = """
            - match: { prefix: "/" }
              route:
                weighted_clusters:
                  header_name: x-pick
                  clusters:
                  - { name: echo, weight: 30 }
                  - { name: other, weight: 70 }
            """;
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(a.Port, "", routes: routes, clusters: Cluster("other", b.Port)));

        foreach (var (value, count) in new[] { ("29", 3), ("30", 2), ("129", 1) })
        {
            for (var i = 0; i < count; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/h"));
                request.Headers.Add("x-pick", value);
                using var response = await gateway.Client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        // 29 and 129 fall in echo's [0, 30); 30 in other's [30, 100).
        Assert.Equal(4, a.Requests);
        Assert.Equal(2, b.Requests);
    }

    [Theory]
    [InlineData("", 503)]
    [InlineData("cluster_not_found_response_code: NOT_FOUND", 404)]
    [InlineData("cluster_not_found_response_code: INTERNAL_SERVER_ERROR", 500)]
    [InlineData("cluster_not_found_response_code: SERVICE_UNAVAILABLE", 503)]
    public async Task Send_ClusterHeader_FoundMissingUnknown(string notFound, int expected)
    {
        await using var a = await EchoUpstream.StartAsync();
        await using var b = await EchoUpstream.StartAsync();
        var path = Path.Combine(_dir, "access.log");
        var routes = $$"""
            - match: { prefix: "/" }
              route:
                cluster_header: x-cluster
                {{notFound}}
            """;
        await using var gateway = await InProcessGateway.StartAsync(WithAccessLog(ListenerYaml.Build(a.Port, "", routes: routes, clusters: Cluster("other", b.Port)), path));

        async Task<HttpStatusCode> SendAsync(string p, string? cluster)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri(p));
            if (cluster is not null)
            {
                request.Headers.Add("x-cluster", cluster);
            }
            using var response = await gateway.Client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await SendAsync("/found", "other"));
        Assert.Equal((HttpStatusCode)expected, await SendAsync("/missing", null));
        Assert.Equal((HttpStatusCode)expected, await SendAsync("/unknown", "nope"));

        Assert.Equal(0, a.Requests);
        Assert.Equal(1, b.Requests);
        await gateway.AssertStatAsync("http.ingress_http.no_cluster", 2);
        await gateway.AssertStatAsync("cluster.other.upstream_rq_total", 1);
        var lines = await AccessLogLines.ReadAsync(gateway, path, 3);
        Assert.Equal(["/found 200 - via_upstream other", $"/missing {expected} NC cluster_not_found -", $"/unknown {expected} NC cluster_not_found -"], lines);
    }

    private static EnvoyConfigException LoadFails(string route)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(ListenerYaml.Build(1, "", routes: route), "envoy.yaml"));

    [Fact]
    public void Load_WeightsSumZero_IsRejectedWithEnvoysMessage()
    {
        var error = Assert.Single(LoadFails("""
            - match: { prefix: "/" }
              route: { weighted_clusters: { clusters: [{ name: echo, weight: 0 }] } }
            """).Errors);

        Assert.Equal("Sum of weights in the weighted_cluster must be greater than 0.", error.Message);
    }

    [Fact]
    public void Load_UnknownWeightedClusterAndBadHeader_AllReported()
    {
        var errors = LoadFails("""
            - match: { prefix: "/" }
              route: { weighted_clusters: { header_name: "bad header", clusters: [{ name: echo, weight: 1 }, { name: nope, weight: 1 }] } }
            """).Errors;

        Assert.Contains(errors, e => e.Message == "route: unknown weighted cluster 'nope'" && e.Location.Path.EndsWith("clusters[1].name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.Path.EndsWith("header_name", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ClusterAndClusterHeader_OneOfRejected()
    {
        var error = Assert.Single(LoadFails("""
            - match: { prefix: "/" }
              route: { cluster: echo, cluster_header: x-cluster }
            """).Errors);

        Assert.Contains("one-of", error.Message, StringComparison.Ordinal);
    }
}
