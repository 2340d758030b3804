using System.Text;
using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// The connection manager's <c>local_reply_config</c> (Envoy's LocalReplyImpl::rewrite): the first mapper whose filter
/// matches a local reply may replace its body, add headers and change its status; then the mapper's
/// <c>body_format_override</c>, else <c>body_format</c>, else the body as it is (<c>%LOCAL_REPLY_BODY%</c> as text/plain)
/// makes the body sent.
/// </summary>
internal sealed class LocalReplyRewriter
{
    private readonly Mapper[] _mappers;
    private readonly SubstitutionFormatter? _bodyFormat;

    private LocalReplyRewriter(Mapper[] mappers, SubstitutionFormatter? bodyFormat)
    {
        _mappers = mappers;
        _bodyFormat = bodyFormat;
    }

    /// <summary>Compiles a validated configuration (its errors were reported when it loaded).</summary>
    public static LocalReplyRewriter Compile(LocalReplyConfig config)
    {
        var scratch = AccessLogFormats.Scratch();
        var mappers = new Mapper[config.Mappers.Count];
        for (var i = 0; i < mappers.Length; i++)
        {
            var mapper = config.Mappers[i];
            mappers[i] = new Mapper(
                LogFilter.Compile(mapper.Filter!),
                mapper.StatusCode is { } status ? (int)status : null,
                mapper.Body is { } body ? Encoding.UTF8.GetString(Translation.EnvoyTranslator.ReadDataSource(body)) : null,
                mapper.HeadersToAdd.Count == 0 ? null : HeaderParser.Compile(mapper.HeadersToAdd, [], FormatterOptions.Default),
                mapper.BodyFormatOverride is { } format ? SubstitutionFormatter.Compile(format, DefaultFormat, scratch) : null);
        }
        return new LocalReplyRewriter(mappers, config.BodyFormat is { } bodyFormat ? SubstitutionFormatter.Compile(bodyFormat, DefaultFormat, scratch) : null);
    }

    /// <summary>Envoy's default body formatter.</summary>
    public const string DefaultFormat = "%LOCAL_REPLY_BODY%";

    /// <summary>
    /// Rewrites a local reply whose status is already on the response: <paramref name="statusCode"/>, <paramref name="body"/>
    /// and <paramref name="contentType"/> come back as they are to be sent, and the response carries the mapper's headers.
    /// </summary>
    public void Rewrite(HttpContext context, RequestStreamInfo? info, ref int statusCode, ref byte[]? body, ref string contentType, Random random)
    {
        var response = context.Response;
        info?.LocalReplyCodeSet();
        var text = body is null ? string.Empty : Encoding.UTF8.GetString(body);
        var filterContext = new AccessLogContext(info, AccessLogType.NotSet, context.Request.Headers, response.Headers, null);
        SubstitutionFormatter? formatter = null;
        foreach (var mapper in _mappers)
        {
            if (!mapper.Filter.Evaluate(filterContext, random))
            {
                continue;
            }
            if (mapper.Body is { } replacement)
            {
                text = replacement;
            }
            mapper.Headers?.Evaluate(response.Headers, new FormatterContext(context, info, AccessLogType.NotSet, text));
            if (mapper.StatusCode is { } status && status != statusCode)
            {
                statusCode = status;
                response.StatusCode = status;
            }
            formatter = mapper.BodyFormat;
            break;
        }
        formatter ??= _bodyFormat;
        if (formatter is null)
        {
            // The default formatter: the body as it is, as text.
            body = text.Length == 0 ? null : Encoding.UTF8.GetBytes(text);
            contentType = SubstitutionFormatter.TextContentType;
            return;
        }
        var formatted = formatter.Format(new FormatterContext(context, info, AccessLogType.NotSet, text));
        body = formatted.Length == 0 ? null : Encoding.UTF8.GetBytes(formatted);
        contentType = formatter.ContentType;
    }

    private sealed record Mapper(LogFilter Filter, int? StatusCode, string? Body, HeaderParser? Headers, SubstitutionFormatter? BodyFormat);
}
