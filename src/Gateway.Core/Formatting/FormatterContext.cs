using Gateway.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Formatting;

/// <summary>
/// Envoy's <c>AccessLog::AccessLogType</c>: why an entry is written. <c>%ACCESS_LOG_TYPE%</c> prints the member's name,
/// which is Envoy's enum value name.
/// </summary>
internal enum AccessLogType
{
    /// <summary>Not set (a formatter used outside an access log, e.g. for a header value).</summary>
    NotSet,

    /// <summary>A TCP proxy connected upstream.</summary>
    TcpUpstreamConnected,

    /// <summary>A periodic TCP proxy entry.</summary>
    TcpPeriodic,

    /// <summary>A TCP connection ended (listener access logs).</summary>
    TcpConnectionEnd,

    /// <summary>An HTTP request started (<c>flush_access_log_on_new_request</c>).</summary>
    DownstreamStart,

    /// <summary>A periodic HTTP entry (<c>access_log_flush_interval</c>).</summary>
    DownstreamPeriodic,

    /// <summary>An HTTP request ended (the connection manager's access logs).</summary>
    DownstreamEnd,

    /// <summary>An upstream connection pool became ready for the request.</summary>
    UpstreamPoolReady,

    /// <summary>A periodic upstream entry.</summary>
    UpstreamPeriodic,

    /// <summary>An upstream attempt ended (the router's <c>upstream_log</c>).</summary>
    UpstreamEnd,

    /// <summary>A CONNECT tunnel was established.</summary>
    DownstreamTunnelSuccessfullyEstablished,

    /// <summary>A UDP tunnel connected upstream.</summary>
    UdpTunnelUpstreamConnected,

    /// <summary>A periodic UDP entry.</summary>
    UdpPeriodic,

    /// <summary>A UDP session ended.</summary>
    UdpSessionEnd,
}

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
