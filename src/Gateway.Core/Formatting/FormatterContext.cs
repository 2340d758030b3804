using Gateway.Configuration;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Formatting;

/// <summary>
/// What a <see cref="SubstitutionFormatter"/> reads for one entry (Envoy's <c>HttpFormatterContext</c> plus the stream
/// info). Every part may be missing: a listener's connection log has no request, so request operators print <c>-</c>.
/// The header maps default to the request's own; the router's upstream log passes the upstream response's instead.
/// </summary>
internal readonly struct FormatterContext
{
    /// <summary>An entry for a request, its headers taken from <paramref name="http"/>.</summary>
    public FormatterContext(HttpContext? http, RequestStreamInfo? streamInfo, AccessLogType accessLogType = AccessLogType.NotSet, string? localReplyBody = null)
    {
        Http = http;
        StreamInfo = streamInfo;
        AccessLogType = accessLogType;
        LocalReplyBody = localReplyBody;
        RequestHeaders = http?.Request.Headers;
        ResponseHeaders = http?.Response.Headers;
        ResponseTrailers = http?.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        Connection = http?.Connection;
    }

    /// <summary>An entry with every part given (upstream logs, connection logs, tests).</summary>
    public FormatterContext(
        HttpContext? http,
        RequestStreamInfo? streamInfo,
        IHeaderDictionary? requestHeaders,
        IHeaderDictionary? responseHeaders,
        IHeaderDictionary? responseTrailers,
        ConnectionInfo? connection,
        AccessLogType accessLogType,
        string? localReplyBody = null)
    {
        Http = http;
        StreamInfo = streamInfo;
        RequestHeaders = requestHeaders;
        ResponseHeaders = responseHeaders;
        ResponseTrailers = responseTrailers;
        Connection = connection;
        AccessLogType = accessLogType;
        LocalReplyBody = localReplyBody;
    }

    /// <summary>The request, or null for a connection-level entry.</summary>
    public HttpContext? Http { get; }

    /// <summary>The request's stream info, or null when there is none.</summary>
    public RequestStreamInfo? StreamInfo { get; }

    /// <summary>The request headers (<c>%REQ(...)%</c>); <c>:method</c>, <c>:path</c>, <c>:authority</c> and <c>:scheme</c> come from <see cref="Http"/>.</summary>
    public IHeaderDictionary? RequestHeaders { get; }

    /// <summary>The response headers (<c>%RESP(...)%</c>).</summary>
    public IHeaderDictionary? ResponseHeaders { get; }

    /// <summary>The response trailers (<c>%TRAILER(...)%</c>).</summary>
    public IHeaderDictionary? ResponseTrailers { get; }

    /// <summary>The downstream connection's addresses (<c>%DOWNSTREAM_*_ADDRESS%</c>).</summary>
    public ConnectionInfo? Connection { get; }

    /// <summary>Why the entry is written (<c>%ACCESS_LOG_TYPE%</c>).</summary>
    public AccessLogType AccessLogType { get; }

    /// <summary>The body of the local reply (<c>%LOCAL_REPLY_BODY%</c>), or null when the gateway did not reply itself.</summary>
    public string? LocalReplyBody { get; }
}
