using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.Middleware;

/// <summary>
/// Runs an ASP.NET middleware pipeline as a decoder: when the pipeline reaches its end (every middleware called
/// <c>next</c>) the chain continues; when a middleware answered the request itself (a 401 challenge, a cached
/// response) the chain stops there, and the encoders of the filters before it see the answer if it has not started.
/// </summary>
internal sealed class MiddlewareFilter(RequestDelegate pipeline) : IHttpFilter
{
    /// <summary>The pipeline's terminal delegate: marks the request's stream, so nothing is allocated to learn it.</summary>
    public static readonly RequestDelegate ReachedNext = static context =>
    {
        if (context.Features.Get<FilterChainStream>() is { } stream)
        {
            stream.MiddlewareReachedNext = true;
        }
        return Task.CompletedTask;
    };

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var stream = (FilterChainStream)context;
        // The flag is per request and shared by every middleware filter of the chain: clear what an earlier one left.
        stream.MiddlewareReachedNext = false;
        var task = pipeline(context.HttpContext);
        return task.IsCompletedSuccessfully ? new(Status(stream)) : AwaitAsync(task, stream);
    }

    private static FilterStatus Status(FilterChainStream stream)
        => stream.MiddlewareReachedNext ? FilterStatus.Continue : FilterStatus.StopIteration;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<FilterStatus> AwaitAsync(Task task, FilterChainStream stream)
    {
        await task.ConfigureAwait(false);
        return Status(stream);
    }
}
