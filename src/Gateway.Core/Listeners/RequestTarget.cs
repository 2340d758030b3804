using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Listeners;

/// <summary>
/// The request target as Envoy's HTTP/1 codec turns it into <c>:path</c> (and <c>:authority</c>), read from the bytes
/// Kestrel received (<see cref="IHttpRequestFeature.RawTarget"/>), never from Kestrel's decoded and dot-segment-removed
/// <see cref="HttpRequest.Path"/>: origin-form (<c>/p?q</c>) is the path as sent; absolute-form (<c>http://host/p?q</c>)
/// gives the authority and the rest, or <c>/</c> when nothing follows the authority (<c>ServerConnectionImpl::handlePath</c>,
/// <c>Utility::Url::initialize</c>); anything else (<c>*</c> of <c>OPTIONS *</c>) is the path as sent, which the
/// connection manager then refuses as not relative.
/// </summary>
internal static class RequestTarget
{
    /// <summary>The <c>:path</c> of the request; <paramref name="authority"/> is set for an absolute-form target.</summary>
    public static string PathAndQuery(HttpContext context, out string? authority, out string? scheme)
    {
        authority = null;
        scheme = null;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            // Not Kestrel (a test server or an embedding host without a raw target): the best we have.
            var request = context.Request;
            return request.QueryString.HasValue ? request.Path.Value + request.QueryString.Value : request.Path.Value ?? "/";
        }
        if (raw[0] == '/')
        {
            return raw;
        }
        var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return raw;
        }
        // Kestrel admits only http and https absolute-form targets; Envoy lower-cases the scheme.
        scheme = raw.AsSpan(0, schemeEnd).Equals("https", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
        var authorityStart = schemeEnd + 3;
        var authorityEnd = raw.AsSpan(authorityStart).IndexOfAny('/', '?', '#');
        authorityEnd = authorityEnd < 0 ? raw.Length : authorityStart + authorityEnd;
        // http_parser keeps user information out of the host.
        var at = raw.AsSpan(authorityStart, authorityEnd - authorityStart).LastIndexOf('@');
        authority = raw[(at < 0 ? authorityStart : authorityStart + at + 1)..authorityEnd];
        return authorityEnd == raw.Length ? "/" : raw[authorityEnd..];
    }
}
