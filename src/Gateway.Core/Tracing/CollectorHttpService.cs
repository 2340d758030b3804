using Gateway.Configuration;
using Gateway.Validation;

namespace Gateway.Tracing;

/// <summary>
/// The checks of an <c>envoy.config.core.v3.HttpService</c> a tracer sends its spans with (the OpenTelemetry
/// tracer's <c>http_service</c>, the Zipkin tracer's <c>collector_service</c>): the proto's constraints on
/// <c>http_uri</c> (<c>uri</c>, <c>cluster</c>, <c>timeout</c> required) and <c>request_headers_to_add</c>, and
/// that the cluster exists.
/// </summary>
internal static class CollectorHttpService
{
    /// <summary>
    /// Reports every error of <paramref name="http"/> (the tracer's field <paramref name="field"/>).
    /// <paramref name="requireAbsoluteUri"/>: the URI must be an absolute http(s) URI (else a path alone is taken);
    /// <paramref name="unknownClusterPrefix"/> starts the unknown-cluster message, as the tracer's Envoy message does.
    /// </summary>
    public static void Validate(HttpService http, ValidationContext context, string field, bool requireAbsoluteUri, string unknownClusterPrefix)
    {
        if (http.HttpUri is not { } httpUri)
        {
            context.Error(http, $"{field}: 'http_uri' is required");
        }
        else
        {
            if (string.IsNullOrEmpty(httpUri.Uri))
            {
                context.Error(httpUri, "uri", "'uri' is required");
            }
            else if (requireAbsoluteUri && (!Uri.TryCreate(httpUri.Uri, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            {
                context.Error(httpUri, "uri", $"'uri' must be an absolute http or https URI, got '{httpUri.Uri}'");
            }
            if (string.IsNullOrEmpty(httpUri.Cluster))
            {
                context.Error(httpUri, "cluster", "'cluster' is required");
            }
            else if (!context.ClusterNames.Contains(httpUri.Cluster) && context.ClusterNamesComplete)
            {
                context.Error(httpUri, "cluster", $"{unknownClusterPrefix}unknown cluster '{httpUri.Cluster}'");
            }
            if (httpUri.Timeout is null)
            {
                context.Error(httpUri, "timeout", "'timeout' is required");
            }
            else if (httpUri.Timeout < TimeSpan.Zero)
            {
                context.Error(httpUri, "timeout", "'timeout' must not be negative");
            }
        }
        if (http.RequestHeadersToAdd.Count > 1000)
        {
            context.Error(http, "request_headers_to_add", "at most 1000 'request_headers_to_add'");
        }
        foreach (var option in http.RequestHeadersToAdd)
        {
            if (option.Header is null)
            {
                context.Error(option, "header", "'header' is required");
            }
            else
            {
                HeaderNames.Validate([option.Header], context);
            }
        }
    }

    /// <summary>The headers of <c>request_headers_to_add</c> (keys lowercased), set on each request replacing any of the same name, as Envoy's tracers do.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(HttpService http)
    {
        var headers = new List<HeaderValue?>(http.RequestHeadersToAdd.Count);
        foreach (var option in http.RequestHeadersToAdd)
        {
            headers.Add(option.Header);
        }
        return OpenTelemetry.ClusterHandler.HeadersOf(headers);
    }

    /// <summary>
    /// Sets <paramref name="headers"/> on a report, each replacing a header of the same name (Envoy's setCopy), the
    /// content headers (<c>content-type</c>, ...) on its content.
    /// </summary>
    public static void Apply(HttpRequestMessage request, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            System.Net.Http.Headers.HttpHeaders target = request.Content is { } content && IsContentHeader(name) ? content.Headers : request.Headers;
            target.Remove(name);
            target.TryAddWithoutValidation(name, value);
        }
    }

    // The names .NET keeps on HttpContent rather than on the request (keys here are lowercase).
    private static bool IsContentHeader(string name)
        => name.StartsWith("content-", StringComparison.Ordinal) || name is "allow" or "expires" or "last-modified";
}
