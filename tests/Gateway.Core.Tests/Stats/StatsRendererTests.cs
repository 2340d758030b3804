using System.Text.RegularExpressions;
using Gateway.Stats;

namespace Gateway.Tests.Stats;

public class StatsRendererTests
{
    private static StatsStore SeedRetryStore()
    {
        var store = new StatsStore();
        store.Counter("cluster.httpbin_service.upstream_rq_total").Add(4);
        store.Counter("cluster.httpbin_service.upstream_rq_retry").Add(3);
        store.Counter("cluster.httpbin_service.upstream_rq_500").Add(1);
        store.Counter("cluster.httpbin_service.upstream_rq_5xx").Add(1);
        store.Counter("cluster.httpbin_service.retry.upstream_rq_500").Add(3);
        store.Counter("http.ingress_http.downstream_rq_5xx").Add(1);
        store.Counter("listener.0.0.0.0_15001.http.ingress_http.downstream_rq_5xx").Add(1);
        store.Counter("listener.0.0.0.0_15001.downstream_cx_total").Add(1);
        store.Counter("listener.admin.downstream_cx_total").Add(2);
        store.Gauge("server.live").Set(1);
        store.Gauge("cluster.httpbin_service.upstream_rq_active");
        return store;
    }

    [Fact]
    public void RenderText_CountersAndGauges_MergedAlphabetically()
    {
        var text = StatsRenderer.RenderText(SeedRetryStore(), StatsQuery.All);

        Assert.Equal("""
            cluster.httpbin_service.retry.upstream_rq_500: 3
            cluster.httpbin_service.upstream_rq_500: 1
            cluster.httpbin_service.upstream_rq_5xx: 1
            cluster.httpbin_service.upstream_rq_active: 0
            cluster.httpbin_service.upstream_rq_retry: 3
            cluster.httpbin_service.upstream_rq_total: 4
            http.ingress_http.downstream_rq_5xx: 1
            listener.0.0.0.0_15001.downstream_cx_total: 1
            listener.0.0.0.0_15001.http.ingress_http.downstream_rq_5xx: 1
            listener.admin.downstream_cx_total: 2
            server.live: 1

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void RenderText_TextReadouts_FirstAndQuotedWithHtmlEscapes()
    {
        var store = new StatsStore();
        store.Counter("cluster_manager.cds.update_success").Add(1);
        store.TextReadout("cluster_manager.cds.version_text").Set("v<1>&\"2\"");
        store.Gauge("cluster_manager.cds.version").Set(unchecked((long)0xEF46DB3751D8E999UL));

        var text = StatsRenderer.RenderText(store, StatsQuery.All);

        // Envoy's phases: text readouts, then counters and gauges; gauges are unsigned.
        Assert.Equal("""
            cluster_manager.cds.version_text: "v&lt;1&gt;&amp;&quot;2&quot;"
            cluster_manager.cds.update_success: 1
            cluster_manager.cds.version: 17241709254077376921

            """.Replace("\r", "", StringComparison.Ordinal), text);
        using var json = System.Text.Json.JsonDocument.Parse(StatsRenderer.RenderJson(store, StatsQuery.All));
        var first = json.RootElement.GetProperty("stats")[0];
        Assert.Equal("cluster_manager.cds.version_text", first.GetProperty("name").GetString());
        Assert.Equal("v<1>&\"2\"", first.GetProperty("value").GetString());
    }

    [Fact]
    public void RemoveScope_RemovedClusterBesideOneWithALongerName_OnlyItsStatsGo()
    {
        var store = new StatsStore();
        store.Counter("cluster.a.upstream_rq_total").Add(1);
        store.Counter("cluster.a.b.upstream_rq_total").Add(1);
        store.TextReadout("cluster.a.version_text").Set("1");

        store.RemoveScope("cluster.a.", ["cluster.a.b."]);

        Assert.Equal(["cluster.a.b.upstream_rq_total"], store.Counters.Select(c => c.Name));
        Assert.Empty(store.TextReadouts);
    }

    [Fact]
    public void RenderText_FilterAndUsedOnly_SelectStats()
    {
        var text = StatsRenderer.RenderText(SeedRetryStore(), new StatsQuery(new Regex("retry|active"), UsedOnly: true, StatTypeFilter.All, HistogramBucketsMode.None));

        Assert.Equal("cluster.httpbin_service.retry.upstream_rq_500: 3\ncluster.httpbin_service.upstream_rq_retry: 3\n", text);
    }

    [Fact]
    public void RenderText_Histogram_PrintsQuantilesAndNanIntervalBeforeFirstFlush()
    {
        var store = new StatsStore();
        store.Histogram("cluster.c.upstream_rq_time").Record(130);
        store.Histogram("cluster.c.upstream_cx_connect_ms");

        var text = StatsRenderer.RenderText(store, new StatsQuery(null, false, StatTypeFilter.Histograms, HistogramBucketsMode.None));

        Assert.Equal(
            "cluster.c.upstream_cx_connect_ms: No recorded values\n" +
            "cluster.c.upstream_rq_time: P0(nan,130) P25(nan,132.5) P50(nan,135) P75(nan,137.5) P90(nan,139) P95(nan,139.5) P99(nan,139.9) P99.5(nan,139.95) P99.9(nan,139.99) P100(nan,140)\n",
            text);
    }

    [Fact]
    public void RenderText_HistogramAfterFlush_ShowsTheClosedInterval()
    {
        var store = new StatsStore();
        var histogram = store.Histogram("h");
        histogram.Record(10);
        store.Flush();
        histogram.Record(20);

        var text = StatsRenderer.RenderText(store, new StatsQuery(null, false, StatTypeFilter.Histograms, HistogramBucketsMode.Cumulative));

        Assert.StartsWith("h: B0.5(0,0) B1(0,0) B5(0,0) B10(1,1) B25(1,2) B50(1,2)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPrometheus_SeedStats_UsesEnvoysTagsAndOrder()
    {
        var text = StatsRenderer.RenderPrometheus(SeedRetryStore(), StatsQuery.All);

        Assert.Equal("""
            # TYPE envoy_cluster_retry_upstream_rq counter
            envoy_cluster_retry_upstream_rq{envoy_response_code="500",envoy_cluster_name="httpbin_service"} 3

            # TYPE envoy_cluster_upstream_rq counter
            envoy_cluster_upstream_rq{envoy_response_code="500",envoy_cluster_name="httpbin_service"} 1

            # TYPE envoy_cluster_upstream_rq_retry counter
            envoy_cluster_upstream_rq_retry{envoy_cluster_name="httpbin_service"} 3

            # TYPE envoy_cluster_upstream_rq_total counter
            envoy_cluster_upstream_rq_total{envoy_cluster_name="httpbin_service"} 4

            # TYPE envoy_cluster_upstream_rq_xx counter
            envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="httpbin_service"} 1

            # TYPE envoy_http_downstream_rq_xx counter
            envoy_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="ingress_http"} 1

            # TYPE envoy_listener_admin_downstream_cx_total counter
            envoy_listener_admin_downstream_cx_total{} 2

            # TYPE envoy_listener_downstream_cx_total counter
            envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15001"} 1

            # TYPE envoy_listener_http_downstream_rq_xx counter
            envoy_listener_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="ingress_http",envoy_listener_address="0.0.0.0_15001"} 1

            # TYPE envoy_cluster_upstream_rq_active gauge
            envoy_cluster_upstream_rq_active{envoy_cluster_name="httpbin_service"} 0

            # TYPE envoy_server_live gauge
            envoy_server_live{} 1


            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void RenderPrometheus_Histogram_HasBucketsSumAndCount()
    {
        var store = new StatsStore();
        var histogram = store.Histogram("cluster.c.upstream_rq_time");
        histogram.Record(3);
        histogram.Record(700);

        var text = StatsRenderer.RenderPrometheus(store, new StatsQuery(null, false, StatTypeFilter.Histograms, HistogramBucketsMode.None));

        var lines = text.Split('\n');
        Assert.Equal("# TYPE envoy_cluster_upstream_rq_time histogram", lines[0]);
        Assert.Equal("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"c\",le=\"0.5\"} 0", lines[1]);
        Assert.Equal("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"c\",le=\"5\"} 1", lines[3]);
        Assert.Equal("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"c\",le=\"1000\"} 2", lines[10]);
        Assert.Equal("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"c\",le=\"+Inf\"} 2", lines[20]);
        Assert.Equal("envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"c\"} 703", lines[21]);
        Assert.Equal("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"c\"} 2", lines[22]);
    }

    [Fact]
    public void RenderJson_StatsAndHistograms_MatchEnvoysShape()
    {
        var store = new StatsStore();
        store.Counter("a.b").Add(2);
        store.Histogram("h").Record(10);

        var json = StatsRenderer.RenderJson(store, StatsQuery.All);

        Assert.StartsWith("{\"stats\":[{\"name\":\"a.b\",\"value\":2},{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],\"computed_quantiles\":[{\"name\":\"h\",\"values\":[{\"interval\":null,\"cumulative\":10}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPrometheus_Output_PassesPromtool()
    {
        var store = SeedRetryStore();
        store.Histogram("cluster.httpbin_service.upstream_rq_time").Record(12);

        Promtool.AssertValid(StatsRenderer.RenderPrometheus(store, StatsQuery.All));
    }
}
