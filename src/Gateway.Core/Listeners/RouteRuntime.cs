using System.Globalization;
using Gateway.Clusters;
using Gateway.Routing;
using Gateway.Translation;

namespace Gateway.Listeners;

/// <summary>A matched route, ready for the request path: plan, cluster and precomputed header values.</summary>
internal sealed class RouteRuntime
{
    public RouteRuntime(RoutePlan plan, ClusterRuntime? cluster, string? matchedPrefix)
    {
        Plan = plan;
        Cluster = cluster;
        MatchedPrefix = matchedPrefix;
        HasTimeout = plan.Timeout > TimeSpan.Zero;
        Retry = plan.Retry;
        // Envoy sends the per-try timeout when it is set and shorter than the route timeout.
        var perTry = plan.Retry?.PerTryTimeout ?? TimeSpan.Zero;
        PerTryTimeout = perTry > TimeSpan.Zero && (!HasTimeout || perTry < plan.Timeout) ? perTry : TimeSpan.Zero;
        var expected = PerTryTimeout > TimeSpan.Zero ? PerTryTimeout : plan.Timeout;
        ExpectedTimeoutHeader = expected > TimeSpan.Zero
            ? ((long)expected.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)
            : null;
        if (plan.DirectResponse is { } direct)
        {
            DirectResponseBody = direct.Body;
        }
        if (plan.Retry is { } retry)
        {
            var where = $"route '{plan.RouteName ?? plan.RouteIndex.ToString(CultureInfo.InvariantCulture)}' retry_policy";
            RetriableHeaders = retry.RetriableHeaders.Select(h => HeaderPredicate.FromConfig(h, where + ".retriable_headers")).ToArray();
            RetriableRequestHeaders = retry.RetriableRequestHeaders.Select(h => HeaderPredicate.FromConfig(h, where + ".retriable_request_headers")).ToArray();
        }
    }

    /// <summary>Compiled <c>retriable_headers</c> (matched against upstream response headers).</summary>
    public IReadOnlyList<HeaderPredicate> RetriableHeaders { get; } = [];

    /// <summary>Compiled <c>retriable_request_headers</c>; when there are any, one must match for the request to be retried.</summary>
    public IReadOnlyList<HeaderPredicate> RetriableRequestHeaders { get; } = [];

    public RoutePlan Plan { get; }

    /// <summary>The target cluster; null for direct responses.</summary>
    public ClusterRuntime? Cluster { get; }

    /// <summary>The <c>prefix</c> (or <c>path</c>) the route matched on, which <c>prefix_rewrite</c> replaces.</summary>
    public string? MatchedPrefix { get; }

    public bool HasTimeout { get; }

    /// <summary>The retry policy, or null.</summary>
    public RetryPlan? Retry { get; }

    /// <summary>The per-try timeout in force (zero: none, or not shorter than the route timeout).</summary>
    public TimeSpan PerTryTimeout { get; }

    /// <summary><c>x-envoy-expected-rq-timeout-ms</c>, or null when the route has no timeout.</summary>
    public string? ExpectedTimeoutHeader { get; }

    public byte[]? DirectResponseBody { get; }
}
