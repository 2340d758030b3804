using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Gateway.Stats;

/// <summary>The admin API's renderings of the store: Envoy's text, JSON and Prometheus formats.</summary>
public static class StatsRenderer
{
    /// <summary>
    /// <c>/stats</c>: counters and gauges merged alphabetically as <c>name: value</c>, then histograms
    /// alphabetically as <c>name: P0(interval,cumulative) … P100(…)</c> or <c>No recorded values</c>.
    /// </summary>
    public static string RenderText(StatsStore store, StatsQuery query)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        store.Refresh();
        var builder = new StringBuilder();
        // Envoy's phases: text readouts, then counters and gauges, then histograms.
        foreach (var text in TextReadouts(store, query))
        {
            builder.Append(text.Name).Append(": \"").Append(SanitizeText(text.Value)).Append("\"\n");
        }
        foreach (var (name, value) in Scalars(store, query))
        {
            builder.Append(name).Append(": ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var histogram in Histograms(store, query))
        {
            builder.Append(histogram.Name).Append(": ");
            if (!histogram.Used)
            {
                builder.Append("No recorded values\n");
                continue;
            }
            if (query.Buckets == HistogramBucketsMode.None)
            {
                var interval = histogram.IntervalQuantiles();
                var cumulative = histogram.CumulativeQuantiles();
                for (var i = 0; i < Histogram.SupportedQuantiles.Length; i++)
                {
                    builder.Append(i == 0 ? "P" : " P").Append(Histogram.Format(Histogram.SupportedQuantiles[i]))
                        .Append('(').Append(Histogram.Format(interval[i])).Append(',').Append(Histogram.Format(cumulative[i])).Append(')');
                }
            }
            else
            {
                var counts = query.Buckets == HistogramBucketsMode.Cumulative ? histogram.CumulativeBucketCounts() : histogram.DisjointBucketCounts();
                var intervalCounts = query.Buckets == HistogramBucketsMode.Cumulative ? histogram.IntervalCumulativeBucketCounts() : histogram.IntervalDisjointBucketCounts();
                for (var i = 0; i < Histogram.PrometheusBuckets.Length; i++)
                {
                    builder.Append(i == 0 ? "B" : " B").Append(Histogram.Format(Histogram.PrometheusBuckets[i]))
                        .Append('(').Append(intervalCounts[i]).Append(',').Append(counts[i]).Append(')');
                }
            }
            builder.Append('\n');
        }
        return builder.ToString();
    }

    /// <summary><c>/stats?format=json</c>: <c>{"stats":[{"name":…,"value":…},…,{"histograms":{…}}]}</c>.</summary>
    public static string RenderJson(StatsStore store, StatsQuery query)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        store.Refresh();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("stats");
            foreach (var text in TextReadouts(store, query))
            {
                json.WriteStartObject();
                json.WriteString("name", text.Name);
                json.WriteString("value", text.Value);
                json.WriteEndObject();
            }
            foreach (var (name, value) in Scalars(store, query))
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteNumber("value", value);
                json.WriteEndObject();
            }
            var histograms = Histograms(store, query).ToList();
            if (histograms.Count > 0)
            {
                json.WriteStartObject();
                json.WriteStartObject("histograms");
                json.WriteStartArray("supported_quantiles");
                foreach (var q in Histogram.SupportedQuantiles)
                {
                    json.WriteNumberValue(q);
                }
                json.WriteEndArray();
                json.WriteStartArray("computed_quantiles");
                foreach (var histogram in histograms)
                {
                    json.WriteStartObject();
                    json.WriteString("name", histogram.Name);
                    json.WriteStartArray("values");
                    var interval = histogram.IntervalQuantiles();
                    var cumulative = histogram.CumulativeQuantiles();
                    for (var i = 0; i < interval.Length; i++)
                    {
                        json.WriteStartObject();
                        WriteNumberOrNull(json, "interval", interval[i]);
                        WriteNumberOrNull(json, "cumulative", cumulative[i]);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// <c>/stats/prometheus</c>: metric families named by Envoy's tag extraction, <c># TYPE</c> lines,
    /// counters then gauges then histograms, families sorted by name, a blank line after each.
    /// </summary>
    public static string RenderPrometheus(StatsStore store, StatsQuery query)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        store.Refresh();
        var builder = new StringBuilder();
        if (query.Type is StatTypeFilter.All or StatTypeFilter.Counters)
        {
            WriteFamilies(builder, "counter", store.Counters.Where(c => query.Includes(c.Name, c.Used)).Select(c => (c.Name, unchecked((ulong)c.Value))));
        }
        if (query.Type is StatTypeFilter.All or StatTypeFilter.Gauges)
        {
            WriteFamilies(builder, "gauge", store.Gauges.Where(g => query.Includes(g.Name, g.Used)).Select(g => (g.Name, unchecked((ulong)g.Value))));
        }
        if (query.Type is StatTypeFilter.All or StatTypeFilter.Histograms)
        {
            var families = new SortedDictionary<string, List<(string Labels, Histogram Histogram)>>(StringComparer.Ordinal);
            foreach (var histogram in store.Histograms)
            {
                if (!query.Includes(histogram.Name, histogram.Used))
                {
                    continue;
                }
                var (metric, labels) = PrometheusNames.Extract(histogram.Name);
                if (!families.TryGetValue(metric, out var series))
                {
                    families[metric] = series = [];
                }
                series.Add((labels, histogram));
            }
            foreach (var (metric, series) in families)
            {
                builder.Append("# TYPE ").Append(metric).Append(" histogram\n");
                series.Sort(static (a, b) => string.CompareOrdinal(a.Labels, b.Labels));
                foreach (var (labels, histogram) in series)
                {
                    var counts = histogram.CumulativeBucketCounts();
                    for (var i = 0; i < counts.Length; i++)
                    {
                        builder.Append(metric).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : string.Empty)
                            .Append("le=\"").Append(Histogram.Format(Histogram.PrometheusBuckets[i])).Append("\"} ").Append(counts[i]).Append('\n');
                    }
                    builder.Append(metric).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : string.Empty)
                        .Append("le=\"+Inf\"} ").Append(histogram.Count).Append('\n');
                    builder.Append(metric).Append("_sum{").Append(labels).Append("} ").Append(histogram.Sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    builder.Append(metric).Append("_count{").Append(labels).Append("} ").Append(histogram.Count).Append('\n');
                }
                builder.Append('\n');
            }
        }
        return builder.ToString();
    }

    private static void WriteFamilies(StringBuilder builder, string type, IEnumerable<(string Name, ulong Value)> stats)
    {
        var families = new SortedDictionary<string, List<(string Labels, ulong Value)>>(StringComparer.Ordinal);
        foreach (var (name, value) in stats)
        {
            var (metric, labels) = PrometheusNames.Extract(name);
            if (!families.TryGetValue(metric, out var series))
            {
                families[metric] = series = [];
            }
            series.Add((labels, value));
        }
        foreach (var (metric, series) in families)
        {
            builder.Append("# TYPE ").Append(metric).Append(' ').Append(type).Append('\n');
            series.Sort(static (a, b) => string.CompareOrdinal(a.Labels, b.Labels));
            foreach (var (labels, value) in series)
            {
                builder.Append(metric).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            builder.Append('\n');
        }
    }

    private static List<TextReadout> TextReadouts(StatsStore store, StatsQuery query)
    {
        var list = new List<TextReadout>();
        if (query.Type is StatTypeFilter.All or StatTypeFilter.TextReadouts)
        {
            foreach (var text in store.TextReadouts)
            {
                if (query.Includes(text.Name, text.Used))
                {
                    list.Add(text);
                }
            }
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>Envoy's Html::Utility::sanitize of a text readout's value: the characters HTML escapes.</summary>
    private static string SanitizeText(string value)
    {
        if (value.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return value;
        }
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }

    // Envoy's counters and gauges are unsigned 64-bit values (a subscription's version gauge is a hash).
    private static List<(string Name, ulong Value)> Scalars(StatsStore store, StatsQuery query)
    {
        var list = new List<(string Name, ulong Value)>();
        if (query.Type is StatTypeFilter.All or StatTypeFilter.Counters)
        {
            foreach (var counter in store.Counters)
            {
                if (query.Includes(counter.Name, counter.Used))
                {
                    list.Add((counter.Name, unchecked((ulong)counter.Value)));
                }
            }
        }
        if (query.Type is StatTypeFilter.All or StatTypeFilter.Gauges)
        {
            foreach (var gauge in store.Gauges)
            {
                if (query.Includes(gauge.Name, gauge.Used))
                {
                    list.Add((gauge.Name, unchecked((ulong)gauge.Value)));
                }
            }
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    private static IEnumerable<Histogram> Histograms(StatsStore store, StatsQuery query)
    {
        if (query.Type is not (StatTypeFilter.All or StatTypeFilter.Histograms))
        {
            return [];
        }
        return store.Histograms.Where(h => query.Includes(h.Name, h.Used)).OrderBy(h => h.Name, StringComparer.Ordinal);
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsNaN(value))
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteNumber(name, value);
        }
    }
}
