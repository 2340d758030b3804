using Microsoft.AspNetCore.Http;

namespace Gateway.Routing;

/// <summary>
/// The parts of a request route selection reads, with the path and query boundaries found once per request so that
/// every matcher works on spans of the original strings.
/// </summary>
internal readonly struct RequestView
{
    private readonly int _pathLength;
    private readonly int _queryStart;

    /// <summary>Creates the view.</summary>
    /// <param name="host">The <c>:authority</c>/Host value as received, or null when the request has none.</param>
    /// <param name="method">The <c>:method</c>.</param>
    /// <param name="scheme">The <c>:scheme</c>.</param>
    /// <param name="pathAndQuery">The raw <c>:path</c>, query string included.</param>
    /// <param name="headers">The request headers.</param>
    public RequestView(string? host, string method, string scheme, string pathAndQuery, IHeaderDictionary headers)
    {
        Host = host;
        Method = method;
        Scheme = scheme;
        PathAndQuery = pathAndQuery;
        Headers = headers;

        // Envoy's PathUtil::removeQueryAndFragment: the path ends at the first '?' or '#'.
        var pathEnd = pathAndQuery.AsSpan().IndexOfAny('?', '#');
        _pathLength = pathEnd < 0 ? pathAndQuery.Length : pathEnd;

        // Envoy's QueryParamsMulti::parseQueryString: the query starts after the first '?', wherever it is.
        var question = pathEnd >= 0 && pathAndQuery[pathEnd] == '?' ? pathEnd : pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        _queryStart = question < 0 ? -1 : question + 1;
    }

    /// <summary>The <c>:authority</c>, or null when absent.</summary>
    public string? Host { get; }

    /// <summary>The <c>:method</c>.</summary>
    public string Method { get; }

    /// <summary>The <c>:scheme</c>.</summary>
    public string Scheme { get; }

    /// <summary>The raw <c>:path</c>.</summary>
    public string PathAndQuery { get; }

    /// <summary>The request headers.</summary>
    public IHeaderDictionary Headers { get; }

    /// <summary>The stream's dynamic metadata by namespace, or null when there is none (what <c>dynamic_metadata</c> route matches read).</summary>
    public IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject>? DynamicMetadata { get; init; }

    /// <summary>The stream's random value (Envoy's stream id), which <c>runtime_fraction</c> matches decide on: every match of one stream decides the same.</summary>
    public ulong RandomValue { get; init; }

    /// <summary>The path without query string and fragment.</summary>
    public ReadOnlySpan<char> Path => PathAndQuery.AsSpan(0, _pathLength);

    /// <summary>The text after the first '?', or empty when there is none.</summary>
    public ReadOnlySpan<char> Query => _queryStart < 0 ? default : PathAndQuery.AsSpan(_queryStart);
}
