namespace Gateway.Filters;

/// <summary>What a filter hook asks of the chain.</summary>
public enum FilterStatus
{
    /// <summary>Go on with the next filter.</summary>
    Continue,

    /// <summary>
    /// Stop: the filter answered the request (normally with <see cref="HttpFilterContext.SendLocalReply"/>). On the
    /// request path the remaining decoders and the router are skipped; the encoders of the filters that already
    /// ran still see the reply.
    /// </summary>
    StopIteration,
}

/// <summary>The hooks a filter implements; the chain calls only these, and buffers a body only for a filter that asks for it.</summary>
[Flags]
public enum HttpFilterHooks
{
    /// <summary>No hook (a filter that only needs <see cref="IHttpFilter.OnComplete"/> still sets <see cref="Complete"/>).</summary>
    None = 0,

    /// <summary><see cref="IHttpFilter.OnRequestHeadersAsync"/>.</summary>
    RequestHeaders = 1,

    /// <summary><see cref="IHttpFilter.OnRequestBodyAsync"/>: the whole request body is buffered first (Envoy's buffer limit: 413 beyond it).</summary>
    RequestBody = 2,

    /// <summary><see cref="IHttpFilter.OnResponseHeadersAsync"/>, on the final response before its headers are sent.</summary>
    ResponseHeaders = 4,

    /// <summary><see cref="IHttpFilter.OnResponseBodyAsync"/>: the whole response body is buffered first (500 beyond the limit).</summary>
    ResponseBody = 8,

    /// <summary><see cref="IHttpFilter.OnComplete"/>, once the response is done (or the request was abandoned).</summary>
    Complete = 16,
}

/// <summary>
/// An HTTP filter as it serves one listener: created once per configuration load by its <see cref="IHttpFilterFactory"/>
/// and shared by every request, so it must be immutable and thread-safe; per-request data lives on the
/// <see cref="HttpFilterContext"/>. Decoder hooks run in <c>http_filters</c> order, encoder hooks in reverse order,
/// once, on the final response (proxied or local). A hook returns synchronously when it can; the chain does not allocate for it.
/// </summary>
public interface IHttpFilter
{
    /// <summary>The hooks this filter implements.</summary>
    HttpFilterHooks Hooks { get; }

    /// <summary>The request headers (<see cref="HttpFilterContext.HttpContext"/>'s request), before the router.</summary>
    ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context) => new(FilterStatus.Continue);

    /// <summary>The whole request body, in <see cref="HttpFilterContext.RequestBody"/> (which the filter may replace).</summary>
    ValueTask<FilterStatus> OnRequestBodyAsync(HttpFilterContext context) => new(FilterStatus.Continue);

    /// <summary>The final response's status and headers (<see cref="HttpFilterContext.HttpContext"/>'s response), before they are sent.</summary>
    ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context) => new(FilterStatus.Continue);

    /// <summary>The whole response body, in <see cref="HttpFilterContext.ResponseBody"/> (which the filter may replace).</summary>
    ValueTask<FilterStatus> OnResponseBodyAsync(HttpFilterContext context) => new(FilterStatus.Continue);

    /// <summary>The stream is over (Envoy's onDestroy / log point): release per-request resources, record outcomes.</summary>
    void OnComplete(HttpFilterContext context)
    {
    }
}
