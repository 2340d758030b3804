using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Common;

/// <summary>Envoy's <c>end_stream</c> on headers, as far as ASP.NET Core shows it.</summary>
internal static class StreamEnds
{
    /// <summary>The request has no body (no content-length above 0, not chunked).</summary>
    public static bool RequestHasNoBody(HttpContext context)
        => context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false;

    /// <summary>The response has no body: HEAD, 1xx, 204, 304 or <c>content-length: 0</c>.</summary>
    public static bool ResponseHasNoBody(HttpContext context)
    {
        var response = context.Response;
        var status = response.StatusCode;
        return HttpMethods.IsHead(context.Request.Method) || status is 204 or 304 || status < 200 || response.ContentLength == 0;
    }
}
