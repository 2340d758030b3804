using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Stats;

/// <summary>
/// Envoy's default tag extraction (source/common/config/well_known_names.cc) for the stats this gateway
/// has: each regex is matched against the full name, its first group is cut from the name and its
/// second group (or first, if there is one group) becomes the tag's value; tags keep extraction order.
/// The remaining name, sanitized, prefixed with <c>envoy_</c>, is the Prometheus metric name.
/// </summary>
internal static partial class PrometheusNames
{
    private sealed record Extractor(string Tag, Regex Regex, string? Substring);

    // In Envoy's order.
    private static readonly Extractor[] Extractors =
    [
        new("envoy_response_code", ResponseCode(), "_rq_"),
        new("envoy_response_code_class", ResponseCodeClass(), "_rq_"),
        new("envoy_virtual_cluster", VirtualCluster(), ".vcluster."),
        new("envoy_ssl_cipher", SslCipher(), ".ssl.ciphers."),
        new("envoy_ssl_curve", SslCurve(), ".ssl.curves."),
        new("envoy_ssl_sigalg", SslSigalg(), ".ssl.sigalgs."),
        new("envoy_ssl_version", SslVersion(), ".ssl.versions."),
        new("envoy_cluster_name", ClusterName(), null),
        new("envoy_http_conn_manager_prefix", ListenerHttpPrefix(), ".http."),
        new("envoy_http_conn_manager_prefix", HttpPrefix(), null),
        new("envoy_listener_address", ListenerAddress(), null),
        new("envoy_virtual_host", VirtualHost(), null),
        new("envoy_worker_id", WorkerId(), "listener_manager.worker_"),
    ];

    /// <summary>The metric name and the rendered label list (<c>a="x",b="y"</c>, possibly empty) of one stat.</summary>
    public static (string Metric, string Labels) Extract(string statName)
    {
        var (metric, tags) = ExtractTags(statName);
        var labels = new StringBuilder();
        foreach (var (name, value) in tags)
        {
            if (labels.Length > 0)
            {
                labels.Append(',');
            }
            labels.Append(name).Append("=\"");
            AppendEscaped(labels, value);
            labels.Append('"');
        }
        return (metric, labels.ToString());
    }

    /// <summary>The metric name and the tags (label name, value) of one stat, in extraction order.</summary>
    public static (string Metric, List<KeyValuePair<string, string>> Tags) ExtractTags(string statName)
    {
        var (remaining, tags) = ExtractTagsKeepingDots(statName);
        return ("envoy_" + Sanitize(remaining), tags);
    }

    /// <summary>
    /// The tag-extracted name as Envoy leaves it (dots kept, nothing sanitized: <c>cluster.upstream_rq_total</c>) and the
    /// tags; <see cref="ExtractTags"/> and the OpenTelemetry names (<see cref="StatsMeter"/>) are both made from it.
    /// </summary>
    public static (string Remaining, List<KeyValuePair<string, string>> Tags) ExtractTagsKeepingDots(string statName)
    {
        var remove = new List<(int Start, int Length)>();
        var tags = new List<KeyValuePair<string, string>>();
        foreach (var extractor in Extractors)
        {
            if (extractor.Substring is not null && !statName.Contains(extractor.Substring, StringComparison.Ordinal))
            {
                continue;
            }
            var match = extractor.Regex.Match(statName);
            if (!match.Success)
            {
                continue;
            }
            var cut = match.Groups[1];
            if (Overlaps(remove, cut.Index, cut.Length))
            {
                continue;
            }
            var value = match.Groups.Count > 2 && match.Groups[2].Success ? match.Groups[2].Value : cut.Value;
            remove.Add((cut.Index, cut.Length));
            tags.Add(new(extractor.Tag, value));
        }

        remove.Sort();
        var remaining = new StringBuilder(statName.Length);
        var position = 0;
        foreach (var (start, length) in remove)
        {
            remaining.Append(statName, position, start - position);
            position = start + length;
        }
        remaining.Append(statName, position, statName.Length - position);
        return (remaining.ToString(), tags);
    }

    private static bool Overlaps(List<(int Start, int Length)> ranges, int start, int length)
    {
        foreach (var (s, l) in ranges)
        {
            if (start < s + l && s < start + length)
            {
                return true;
            }
        }
        return false;
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_')
            {
                chars[i] = '_';
            }
        }
        return new string(chars);
    }

    private static void AppendEscaped(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
    }

    [GeneratedRegex(@"_rq(_(\d{3}))$", RegexOptions.CultureInvariant)]
    private static partial Regex ResponseCode();

    [GeneratedRegex(@"_rq_(\d)xx$", RegexOptions.CultureInvariant)]
    private static partial Regex ResponseCodeClass();

    [GeneratedRegex(@"^vhost(?=\.).*?\.vcluster\.((.*?)\.)\w+?$", RegexOptions.CultureInvariant)]
    private static partial Regex VirtualCluster();

    [GeneratedRegex(@"^listener\..*?\.ssl\.ciphers(\.([\w-]+))$", RegexOptions.CultureInvariant)]
    private static partial Regex SslCipher();

    [GeneratedRegex(@"^(?:listener|cluster)\..*?\.ssl\.curves(\.([\w-]+))$", RegexOptions.CultureInvariant)]
    private static partial Regex SslCurve();

    [GeneratedRegex(@"^(?:listener|cluster)\..*?\.ssl\.sigalgs(\.([\w-]+))$", RegexOptions.CultureInvariant)]
    private static partial Regex SslSigalg();

    [GeneratedRegex(@"^(?:listener|cluster)\..*?\.ssl\.versions(\.(TLSv\d\.\d))$", RegexOptions.CultureInvariant)]
    private static partial Regex SslVersion();

    [GeneratedRegex(@"^cluster\.(([^\.]+)\.).*", RegexOptions.CultureInvariant)]
    private static partial Regex ClusterName();

    [GeneratedRegex(@"^listener(?=\.).*?\.http\.((.*?)\.)", RegexOptions.CultureInvariant)]
    private static partial Regex ListenerHttpPrefix();

    [GeneratedRegex(@"^http\.((.*?)\.)", RegexOptions.CultureInvariant)]
    private static partial Regex HttpPrefix();

    [GeneratedRegex(@"^listener\.(((?:[_.0-9]*|[_\[\]aAbBcCdDeEfF0-9]*))\.)", RegexOptions.CultureInvariant)]
    private static partial Regex ListenerAddress();

    [GeneratedRegex(@"^vhost\.((.*?)\.)", RegexOptions.CultureInvariant)]
    private static partial Regex VirtualHost();

    [GeneratedRegex(@"^listener_manager\.((worker_\d+)\.)", RegexOptions.CultureInvariant)]
    private static partial Regex WorkerId();
}
