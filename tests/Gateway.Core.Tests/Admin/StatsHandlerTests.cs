using System.Net;

namespace Gateway.Tests.Admin;

/// <summary><c>/stats</c>, <c>/stats/prometheus</c>, <c>/reset_counters</c>: Envoy's query parsing and errors (stats_params.cc).</summary>
public class StatsHandlerTests
{
    [Theory]
    [InlineData("/stats?filter=(", "Invalid re2 regex")]
    [InlineData("/stats?filter=(a)%5C1", "Invalid re2 regex")]
    [InlineData("/stats/prometheus?filter=%5B", "Invalid re2 regex")]
    [InlineData("/stats?format=xml", "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n")]
    [InlineData("/stats?format=html", "HTML output was disabled by building with --define=admin_html=disabled")]
    [InlineData("/stats?type=counters", "invalid &type= param")]
    [InlineData("/stats?type", "invalid &type= param")]
    [InlineData("/stats?histogram_buckets=linear", "usage: /stats?histogram_buckets=(cumulative|disjoint|none)\n")]
    public async Task Stats_BadQuery_Answers400WithEnvoysMessage(string path, string expected)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.Equal("LIVE\n", await server.GetStringAsync("/ready"));
    }

    [Theory]
    [InlineData("/stats?filter=((a{1,10}){1,10}){1,10}$")]
    [InlineData("/stats/prometheus?filter=((a{1,10}){1,10}){1,10}$")]
    [InlineData("/stats?format=json&filter=(a{1,10}){1,10}")]
    [InlineData("/stats?filter=a{1001}")]
    [InlineData("/stats?filter=((a{1,4}){1,4}){1,4}$")]
    public async Task Stats_FilterOverTheProgramSizeBound_Answers400Quickly(string path)
    {
        // Before: the non-backtracking engine spent ~20 s on the expanded pattern. Now the program-size bound refuses it.
        await using var server = await AdminTestServer.StartAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var response = await server.GetAsync(path.Replace("{", "%7B", StringComparison.Ordinal).Replace("}", "%7D", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid re2 regex", await response.Content.ReadAsStringAsync());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Stats_CountedRepetitionFilterUnderTheBound_Filters()
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal("server.live: 1\n", await server.GetStringAsync("/stats?filter=" + Uri.EscapeDataString(@"^server\.l[a-z]{1,3}e$")));
    }

    [Fact]
    public async Task Stats_AnchoredFilter_PrintsOnlyTheMatchingStats()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/stats?filter=^server\\.(live|state)$");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("server.live: 1\nserver.state: 0\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Stats_UnanchoredFilter_MatchesAnywhereInTheName()
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal("http.ingress_http.rq_direct_response: 0\n", await server.GetStringAsync("/stats?filter=ingress_http.rq_direct_resp"));
    }

    [Fact]
    public async Task Stats_UsedOnly_PrintsOnlyStatsThatWereWritten()
    {
        await using var server = await AdminTestServer.StartAsync();
        Assert.Equal(200, await server.ProxyAsync("/get"));
        await server.Gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_completed", 1);

        var used = await server.GetStringAsync("/stats?usedonly&filter=^cluster\\.httpbin_service\\.upstream_rq_(total|completed|2xx|200|active|timeout|retry)$");

        Assert.Equal("""
            cluster.httpbin_service.upstream_rq_200: 1
            cluster.httpbin_service.upstream_rq_2xx: 1
            cluster.httpbin_service.upstream_rq_active: 0
            cluster.httpbin_service.upstream_rq_completed: 1
            cluster.httpbin_service.upstream_rq_total: 1

            """, used);
    }

    [Theory]
    [InlineData("Gauges", "server.live: 1\n")]
    [InlineData("Counters", "")]
    [InlineData("All", "server.live: 1\n")]
    public async Task Stats_Type_KeepsOnlyThatType(string type, string expected)
    {
        await using var server = await AdminTestServer.StartAsync();

        Assert.Equal(expected, await server.GetStringAsync($"/stats?type={type}&filter=^server\\.live$"));
    }

    [Fact]
    public async Task StatsJson_Filter_IsEnvoysCompactJson()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/stats?format=json&filter=^server\\.(live|state)$");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("{\"stats\":[{\"name\":\"server.live\",\"value\":1},{\"name\":\"server.state\",\"value\":0}]}", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/stats/prometheus?filter=^server\\.live$")]
    [InlineData("/stats?format=prometheus&filter=^server\\.live$")]
    public async Task Prometheus_Filter_IsPrometheusText(string path)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ResetCounters_Post_ZeroesCountersAndKeepsGauges()
    {
        await using var server = await AdminTestServer.StartAsync();
        Assert.Equal(200, await server.ProxyAsync("/get"));
        await server.Gateway.AssertStatAsync("cluster.httpbin_service.upstream_rq_total", 1);

        using var response = await server.PostAsync("/reset_counters");

        Assert.Equal("OK\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(
            "cluster.httpbin_service.upstream_rq_total: 0\nserver.live: 1\n",
            await server.GetStringAsync("/stats?filter=^(cluster\\.httpbin_service\\.upstream_rq_total|server\\.live)$"));
    }
}
