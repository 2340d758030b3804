using System.Diagnostics.Metrics;
using Gateway.Stats;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Stats;

/// <summary>The Envoy stats as OpenTelemetry metrics, read with a <see cref="MeterListener"/> as an SDK would.</summary>
public class StatsMeterTests
{
    private sealed record Observed(string Instrument, Type Kind, double Value, Dictionary<string, string?> Tags);

    /// <summary>One collection of every instrument of <paramref name="meter"/>.</summary>
    private static List<Observed> Collect(Meter meter)
    {
        var observed = new List<Observed>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => observed.Add(new(instrument.Name, instrument.GetType(), value, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => observed.Add(new(instrument.Name, instrument.GetType(), value, ToDictionary(tags))));
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    private static Dictionary<string, string?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value?.ToString();
        }
        return result;
    }

    private static Observed Single(List<Observed> observed, string instrument, params (string Key, string Value)[] tags)
        => Assert.Single(observed, o => o.Instrument == instrument && o.Tags.Count == tags.Length && tags.All(t => o.Tags.GetValueOrDefault(t.Key) == t.Value));

    [Fact]
    public void Collect_CountersGaugesHistograms_EnvoyNamesTagsAndValues()
    {
        var store = new StatsStore();
        store.Counter("cluster.c.upstream_rq_503").Add(2);
        store.Counter("http.ingress_http.downstream_rq_total").Add(5);
        store.Gauge("server.live").Set(1);
        store.Gauge("cluster.c.upstream_cx_active").Set(3);
        var histogram = store.Histogram("cluster.c.upstream_rq_time");
        histogram.Record(7);
        histogram.Record(70);
        using var meter = new StatsMeter(store, TimeProvider.System);

        var observed = Collect(meter.Meter);

        var codes = Single(observed, "envoy.cluster.upstream_rq", ("envoy_response_code", "503"), ("envoy_cluster_name", "c"));
        Assert.Equal(2, codes.Value);
        Assert.Equal(typeof(ObservableCounter<long>), codes.Kind);
        Assert.Equal(5, Single(observed, "envoy.http.downstream_rq_total", ("envoy_http_conn_manager_prefix", "ingress_http")).Value);
        var live = Single(observed, "envoy.server.live");
        Assert.Equal(1, live.Value);
        Assert.Equal(typeof(ObservableGauge<long>), live.Kind);
        Assert.Equal(3, Single(observed, "envoy.cluster.upstream_cx_active", ("envoy_cluster_name", "c")).Value);
        Assert.Equal(0, Single(observed, "envoy.cluster.upstream_rq_time.bucket", ("envoy_cluster_name", "c"), ("le", "5")).Value);
        Assert.Equal(1, Single(observed, "envoy.cluster.upstream_rq_time.bucket", ("envoy_cluster_name", "c"), ("le", "10")).Value);
        Assert.Equal(2, Single(observed, "envoy.cluster.upstream_rq_time.bucket", ("envoy_cluster_name", "c"), ("le", "100")).Value);
        Assert.Equal(2, Single(observed, "envoy.cluster.upstream_rq_time.bucket", ("envoy_cluster_name", "c"), ("le", "+Inf")).Value);
        Assert.Equal(Histogram.PrometheusBuckets.Length + 1, observed.Count(o => o.Instrument == "envoy.cluster.upstream_rq_time.bucket"));
        Assert.Equal(77, Single(observed, "envoy.cluster.upstream_rq_time.sum", ("envoy_cluster_name", "c")).Value);
        Assert.Equal(2, Single(observed, "envoy.cluster.upstream_rq_time.count", ("envoy_cluster_name", "c")).Value);
    }

    [Fact]
    public void Collect_StatsCreatedAfterTheMeter_JoinTheirFamilyOrMakeANewInstrument()
    {
        var store = new StatsStore();
        store.Counter("cluster.a.upstream_rq_total").Add(1);
        using var meter = new StatsMeter(store, TimeProvider.System);

        store.Counter("cluster.b.upstream_rq_total").Add(4);
        store.Gauge("cluster.b.membership_total").Set(2);
        var observed = Collect(meter.Meter);

        Assert.Equal(1, Single(observed, "envoy.cluster.upstream_rq_total", ("envoy_cluster_name", "a")).Value);
        Assert.Equal(4, Single(observed, "envoy.cluster.upstream_rq_total", ("envoy_cluster_name", "b")).Value);
        Assert.Equal(2, Single(observed, "envoy.cluster.membership_total", ("envoy_cluster_name", "b")).Value);
    }

    [Fact]
    public void Collect_ValuesChange_EachCollectionReadsTheStoreNow()
    {
        var store = new StatsStore();
        var counter = store.Counter("cluster.a.upstream_rq_total");
        var sampled = store.Gauge("server.uptime");
        var uptime = 10L;
        store.OnBeforeRead(() => sampled.Set(uptime));
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var meter = new StatsMeter(store, time);

        counter.Add(2);
        var first = Collect(meter.Meter);
        counter.Add(3);
        uptime = 11;
        time.Advance(TimeSpan.FromSeconds(1));
        var second = Collect(meter.Meter);

        Assert.Equal(2, Single(first, "envoy.cluster.upstream_rq_total", ("envoy_cluster_name", "a")).Value);
        Assert.Equal(10, Single(first, "envoy.server.uptime").Value);
        Assert.Equal(5, Single(second, "envoy.cluster.upstream_rq_total", ("envoy_cluster_name", "a")).Value);
        Assert.Equal(11, Single(second, "envoy.server.uptime").Value);
    }

    [Theory]
    [InlineData("cluster.echo.upstream_rq_total")]
    [InlineData("cluster.echo.upstream_rq_2xx")]
    [InlineData("cluster.echo.circuit_breakers.default.rq_open")]
    [InlineData("http.ingress_http.downstream_rq_5xx")]
    [InlineData("listener.127.0.0.1_10000.http.ingress_http.downstream_rq_completed")]
    [InlineData("vhost.main.vcluster.other.upstream_rq_200")]
    [InlineData("server.memory_allocated")]
    public void InstrumentName_AnyStat_IsThePrometheusNameWithDots(string stat)
    {
        var (remaining, tags) = PrometheusNames.ExtractTagsKeepingDots(stat);
        var (metric, prometheusTags) = PrometheusNames.ExtractTags(stat);

        var instrument = StatsMeter.InstrumentName(remaining);

        Assert.StartsWith("envoy.", instrument, StringComparison.Ordinal);
        Assert.Equal(metric, instrument.Replace('.', '_'));
        Assert.Equal(prometheusTags, tags);
    }

    [Fact]
    public async Task EmbeddedGateway_ProxiedRequests_AppearOnTheGatewaysMeter()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(ListenerYaml.Build(upstream.Port, string.Empty));
        var meter = gateway.Services.GetRequiredService<StatsMeter>().Meter;
        Assert.Equal(EnvoyMetrics.MeterName, meter.Name);

        using (await gateway.Client.GetAsync(gateway.ListenerUri("/"))) { }
        using (await gateway.Client.GetAsync(gateway.ListenerUri("/status/503"))) { }
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_total", 2);
        var observed = Collect(meter);

        Assert.Equal(2, Single(observed, "envoy.cluster.upstream_rq_total", ("envoy_cluster_name", "echo")).Value);
        Assert.Equal(1, Single(observed, "envoy.cluster.upstream_rq", ("envoy_response_code", "503"), ("envoy_cluster_name", "echo")).Value);
        Assert.Equal(1, Single(observed, "envoy.cluster.upstream_rq_xx", ("envoy_response_code_class", "2"), ("envoy_cluster_name", "echo")).Value);
        Assert.Equal(1, Single(observed, "envoy.server.live").Value);
        Assert.Equal(2, Single(observed, "envoy.cluster.upstream_rq_time.count", ("envoy_cluster_name", "echo")).Value);
    }
}
