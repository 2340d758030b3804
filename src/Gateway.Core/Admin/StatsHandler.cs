using System.Text.RegularExpressions;
using Gateway.Routing;
using Gateway.Stats;

namespace Gateway.Admin;

/// <summary>
/// <c>/stats</c> (text, <c>?format=json</c>, <c>?format=prometheus</c>), <c>/stats/prometheus</c> and
/// <c>/reset_counters</c>. The query is checked as Envoy's StatsParams::parse checks it, with its error
/// texts: a bad <c>filter</c> regex, <c>histogram_buckets</c>, <c>type</c> or <c>format</c> is a 400.
/// </summary>
internal sealed class StatsHandler(StatsStore store)
{
    /// <summary>
    /// The program-size bound on a <c>filter</c>. Envoy's admin has none of its own (only RE2's memory budget), so it is
    /// well above the config bound, enough for long alternations of stat names (see docs/compatibility.md).
    /// </summary>
    public const int MaxFilterProgramSize = 1000;

    /// <summary>
    /// The bound on nested counted repetitions in a <c>filter</c>, e.g. 9 for <c>(\d{1,3}\.){3}</c>: nesting is what
    /// makes .NET's non-backtracking engine slow (<c>((a{1,4}){1,4}){1,4}</c> costs half a second per 200-character
    /// name), while single counted repetitions are cheap.
    /// </summary>
    public const int MaxFilterNestedRepeatProduct = 16;

    /// <summary>Defence in depth behind the program-size bound: .NET checks it between characters, so it is coarse.</summary>
    private static readonly TimeSpan FilterMatchTimeout = TimeSpan.FromSeconds(1);

    public IEnumerable<AdminEndpoint> Endpoints() =>
    [
        new("/stats", "print server stats", false,
        [
            new AdminParam("usedonly", "Only include stats that have been written by system since restart"),
            new AdminParam("filter", "Regular expression (Google re2) for filtering stats"),
            new AdminParam("format", "Format to use", ["text", "json", "prometheus"]),
            new AdminParam("type", "Stat types to include.", ["All", "Counters", "Histograms", "Gauges", "TextReadouts"]),
            new AdminParam("histogram_buckets", "Histogram bucket display mode", ["cumulative", "disjoint", "detailed", "none"]),
        ], request => Stats(request, defaultFormat: "text")),
        new("/stats/prometheus", "print server stats in prometheus format", false,
        [
            new AdminParam("usedonly", "Only include stats that have been written by system since restart"),
            new AdminParam("text_readouts", "Render text_readouts as new gaugues with value 0 (increases Prometheus data size)"),
            new AdminParam("filter", "Regular expression (Google re2) for filtering stats"),
            new AdminParam("histogram_buckets", "Histogram bucket display mode", ["cumulative", "summary"]),
        ], request => Stats(request, defaultFormat: "prometheus")),
        new("/reset_counters", "reset all counters to zero", true, _ =>
        {
            store.ResetCounters();
            return AdminResponse.Ok("OK\n");
        }),
    ];

    private AdminResponse Stats(AdminRequest request, string defaultFormat)
    {
        if (Parse(request, defaultFormat, out var format, out var error) is not { } query)
        {
            return AdminResponse.BadRequest(error!);
        }
        try
        {
            return format switch
            {
                "json" => AdminResponse.Json(StatsRenderer.RenderJson(store, query)),
                "prometheus" => AdminResponse.Ok(StatsRenderer.RenderPrometheus(store, query)),
                _ => AdminResponse.Ok(StatsRenderer.RenderText(store, query)),
            };
        }
        catch (RegexMatchTimeoutException)
        {
            return AdminResponse.BadRequest("Invalid re2 regex");
        }
    }

    /// <summary>The parsed query and format, or null with Envoy's error text (StatsParams::parse).</summary>
    public static StatsQuery? Parse(AdminRequest request, string defaultFormat, out string format, out string? error)
    {
        error = null;
        format = defaultFormat;
        Regex? filter = null;
        if (request.Find("filter") is { } pattern)
        {
            filter = CompileFilter(pattern);
            if (filter is null)
            {
                error = "Invalid re2 regex";
                return null;
            }
        }

        HistogramBucketsMode buckets;
        switch (request.Value("histogram_buckets"))
        {
            case null or "none" or "summary":
                buckets = HistogramBucketsMode.None;
                break;
            case "cumulative":
                buckets = HistogramBucketsMode.Cumulative;
                break;
            case "disjoint":
                buckets = HistogramBucketsMode.Disjoint;
                break;
            case "detailed":
                buckets = HistogramBucketsMode.Detailed;
                break;
            default:
                error = "usage: /stats?histogram_buckets=(cumulative|disjoint|none)\n";
                return null;
        }

        StatTypeFilter type;
        switch (request.Find("type"))
        {
            case null or "All":
                type = StatTypeFilter.All;
                break;
            case "Counters":
                type = StatTypeFilter.Counters;
                break;
            case "Gauges":
                type = StatTypeFilter.Gauges;
                break;
            case "Histograms":
                type = StatTypeFilter.Histograms;
                break;
            case "TextReadouts":
                type = StatTypeFilter.TextReadouts;
                break;
            default:
                error = "invalid &type= param";
                return null;
        }

        format = request.Value("format") ?? defaultFormat;
        switch (format)
        {
            case "text" or "json" or "prometheus":
                break;
            case "html":
                error = "HTML output was disabled by building with --define=admin_html=disabled";
                return null;
            case "active-html":
                error = "Active HTML output was disabled by building with --define=admin_html=disabled";
                return null;
            default:
                error = "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n";
                return null;
        }
        return new StatsQuery(filter, request.Has("usedonly"), type, buckets);
    }

    /// <summary>
    /// An RE2 filter as a .NET regex (partial match, as Envoy's <c>?filter=</c>), or null when it is not RE2 or is over
    /// <see cref="MaxFilterProgramSize"/> or <see cref="MaxFilterNestedRepeatProduct"/>: "Invalid re2 regex", as Envoy
    /// answers for what RE2 refuses.
    /// </summary>
    public static Regex? CompileFilter(string pattern)
        => EnvoyRegex.TryCreate(pattern, fullMatch: false, MaxFilterProgramSize, FilterMatchTimeout, out var regex, out _, out _, MaxFilterNestedRepeatProduct) ? regex : null;
}
