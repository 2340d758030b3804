using Gateway.Configuration;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;

namespace Gateway.AccessLog;

/// <summary>
/// What one access log entry is about (Envoy's Formatter::Context plus the StreamInfo): the request's stream info
/// (null for a listener's connection entry, whose request operators print <c>-</c>), its headers and trailers, and
/// why the entry is written.
/// </summary>
internal readonly struct AccessLogContext
{
    /// <summary>Creates the context.</summary>
    public AccessLogContext(RequestStreamInfo? info, AccessLogType type, IHeaderDictionary? requestHeaders, IHeaderDictionary? responseHeaders, IHeaderDictionary? responseTrailers)
    {
        StreamInfo = info;
        Type = type;
        RequestHeaders = requestHeaders;
        ResponseHeaders = responseHeaders;
        ResponseTrailers = responseTrailers;
    }

    /// <summary>
    /// The context of a closed downstream connection (a listener's access log): the connection's stream info and
    /// addresses, no headers (Envoy's emitLogs logs with an empty formatter context, type NotSet).
    /// </summary>
    public AccessLogContext(RequestStreamInfo connectionInfo, ConnectionInfo connection)
        : this(connectionInfo, connection, AccessLogType.NotSet)
    {
    }

    /// <summary>A connection entry of another type (a TCP proxy's: <c>TcpUpstreamConnected</c>, <c>TcpPeriodic</c>, <c>TcpConnectionEnd</c>).</summary>
    public AccessLogContext(RequestStreamInfo connectionInfo, ConnectionInfo connection, AccessLogType type)
        : this(connectionInfo, type, null, null, null)
    {
        Connection = connection;
    }

    /// <summary>The context of a finished downstream request (<see cref="AccessLogType.DownstreamEnd"/>).</summary>
    public static AccessLogContext ForRequest(RequestStreamInfo info, AccessLogType type)
    {
        var http = info.HttpContext;
        var trailers = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        return new AccessLogContext(info, type, http.Request.Headers, http.Response.Headers, trailers);
    }

    /// <summary>The downstream connection's addresses of a connection entry (a request's come from its HttpContext), or null.</summary>
    public ConnectionInfo? Connection { get; }

    /// <summary>The request's stream info, or null.</summary>
    public RequestStreamInfo? StreamInfo { get; }

    /// <summary>Why the entry is written.</summary>
    public AccessLogType Type { get; }

    /// <summary>The request headers, or null.</summary>
    public IHeaderDictionary? RequestHeaders { get; }

    /// <summary>The response headers, or null.</summary>
    public IHeaderDictionary? ResponseHeaders { get; }

    /// <summary>The response trailers, or null.</summary>
    public IHeaderDictionary? ResponseTrailers { get; }
}

/// <summary>Formats one access log entry (the substitution formatter, compiled from the logger's format).</summary>
internal interface IAccessLogFormatter
{
    /// <summary>Appends the entry's text (the line, with its newline when the format has one) to <paramref name="output"/>.</summary>
    void Format(in AccessLogContext context, System.Text.StringBuilder output);

    /// <summary>True when the format prints <c>%BYTES_RECEIVED%</c> or <c>%BYTES_SENT%</c>.</summary>
    bool NeedsBodyBytes { get; }
}
