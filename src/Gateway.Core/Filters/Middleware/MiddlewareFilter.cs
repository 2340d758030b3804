using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.Middleware;

/// <summary>
/// Runs an ASP.NET middleware pipeline as a decoder that wraps the rest of the request: the pipeline's last
/// <c>next</c> runs the filters after it, the router and the response, so middleware sees the upstream's response
/// after <c>next</c> (output caching stores it); a middleware that answers itself (a 401 challenge, a cached response)
/// stops the chain there, and the encoders of the filters before it see the answer if it has not started.
/// </summary>
internal sealed class MiddlewareFilter(RequestDelegate pipeline) : IHttpFilter
{
    /// <summary>
    /// The pipeline's terminal delegate: the last <c>next</c> runs the rest of the request (the filters after this one,
    /// the router, the response) inside the pipeline, so middleware after <c>next</c> sees the upstream's response.
    /// </summary>
    public static readonly RequestDelegate RunRest = static context => context.Features.Get<Listeners.RequestStreamInfo>()!.Filters!.RunRestAsync();

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

    /// <summary>
    /// Either way the request has been dealt with when the pipeline returns: it ran the rest of the chain, or a
    /// middleware answered itself (a challenge, a cached response).
    /// </summary>
    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var task = pipeline(context.HttpContext);
        return task.IsCompletedSuccessfully ? new(FilterStatus.StopIteration) : AwaitAsync(task);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<FilterStatus> AwaitAsync(Task task)
    {
        await task.ConfigureAwait(false);
        return FilterStatus.StopIteration;
    }
}
