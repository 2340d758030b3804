using Gateway.Admin;
using Gateway.Clusters;
using Gateway.Filters.Common;
using Gateway.Hosting;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Filters.HealthCheck;

/// <summary>
/// <c>envoy.filters.http.health_check</c>: requests its <c>headers</c> match are health checks (left out of response-code
/// stats). Without pass-through they are answered here: 503 while the server fails health checks (admin
/// <c>/healthcheck/fail</c>) or a listed cluster has too few healthy hosts, else 200. With pass-through they go
/// upstream unless the server fails health checks. While it does, every other response carries
/// <c>x-envoy-immediate-health-check-fail: true</c>; a health check's response carries
/// <c>x-envoy-upstream-healthchecked-cluster</c> (the node's cluster). With <c>cache_time</c>, a health check's
/// answer is reused for the rest of the cache period.
/// </summary>
public sealed class HealthCheckFilterFactory : HttpFilterFactory<HealthCheckConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.health_check";

    /// <inheritdoc />
    protected override void Validate(HealthCheckConfig config, HttpFilterValidationContext context)
    {
        if (config.PassThroughMode is null && !config.HasField("pass_through_mode"))
        {
            context.Error(config.Location, "'pass_through_mode' is required");
        }
        if (config.PassThroughMode == false && config.CacheTime is { } cache && cache.TotalMilliseconds >= 1)
        {
            // Envoy's message, typo included.
            context.Error(config.LocationOf("cache_time"), "cache_time_ms must not be set when path_through_mode is disabled");
        }
        foreach (var (cluster, percent) in config.ClusterMinHealthyPercentages)
        {
            if (percent.Value is < 0 or > 100 || double.IsNaN(percent.Value))
            {
                context.Error(percent.LocationOf("value"), $"cluster_min_healthy_percentages['{cluster}']: value must be inside range [0, 100]");
            }
        }
        FilterConfigChecks.ValidateHeaderMatchers(config.Headers, context);
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(HealthCheckConfig config, HttpFilterFactoryContext context)
    {
        var server = context.Services.GetRequiredService<ServerState>();
        var clusters = context.Services.GetRequiredService<ClusterRegistry>();
        // Envoy's local cluster name: the bootstrap's node.cluster (the header is sent empty without one).
        var localCluster = context.Services.GetService<GatewaySetup>()?.Bootstrap.Node?.Cluster ?? string.Empty;
        var passThrough = config.PassThroughMode!.Value;
        var minimums = new List<ClusterMinimum>();
        if (!passThrough)
        {
            // Envoy keeps them in a std::map: checked in name order, the first failure decides.
            var names = new List<string>(config.ClusterMinHealthyPercentages.Keys);
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                // The percentage is truncated to an integer, as Envoy does.
                // Clusters are static: resolved once here (null: no such cluster, always a failed check).
                var cluster = clusters.TryGet(name, out var found) && found.Plan is not null ? found : null;
                minimums.Add(new ClusterMinimum(cluster, (long)config.ClusterMinHealthyPercentages[name].Value));
            }
        }
        // Envoy counts cache_time in whole milliseconds; under 1 ms means no cache.
        var cacheMs = (long)(config.CacheTime?.TotalMilliseconds ?? 0);
        var cache = cacheMs > 0 ? new ResponseCache(context.TimeProvider, TimeSpan.FromMilliseconds(cacheMs)) : null;
        return new HealthCheckFilter(passThrough, RequestHeaderMatchers.Compile(config.Headers), [.. minimums], cache, server, localCluster, new HealthCheckStats(context.Stats));
    }

    private sealed record ClusterMinimum(ClusterRuntime? Cluster, long Percent);

    /// <summary>
    /// Envoy's HealthCheckCacheManager: a timer clears the cached answer every period, and each health check's response
    /// sets it. Here the periods are counted from the filter's creation on the gateway's clock, so no timer is needed: an
    /// answer is in use while it was stored in the current period.
    /// </summary>
    private sealed class ResponseCache(TimeProvider time, TimeSpan period)
    {
        private readonly long _start = time.GetTimestamp();
        private long _storedPeriod = -1;
        private int _status;
        private int _degraded;

        public bool InUse => Volatile.Read(ref _storedPeriod) == CurrentPeriod();

        public (int Status, bool Degraded) Answer => (Volatile.Read(ref _status), Volatile.Read(ref _degraded) != 0);

        public void Store(int status, bool degraded)
        {
            Volatile.Write(ref _status, status);
            Volatile.Write(ref _degraded, degraded ? 1 : 0);
            Volatile.Write(ref _storedPeriod, CurrentPeriod());
        }

        private long CurrentPeriod() => time.GetElapsedTime(_start).Ticks / period.Ticks;
    }

    /// <summary><c>http.&lt;stat_prefix&gt;.health_check.*</c>.</summary>
    private sealed class HealthCheckStats(HttpFilterStatsScope scope)
    {
        public Counter RequestTotal { get; } = scope.Counter("health_check.request_total");
        public Counter Failed { get; } = scope.Counter("health_check.failed");
        public Counter Ok { get; } = scope.Counter("health_check.ok");
        public Counter CachedResponse { get; } = scope.Counter("health_check.cached_response");
        public Counter FailedClusterNotFound { get; } = scope.Counter("health_check.failed_cluster_not_found");
        public Counter FailedClusterEmpty { get; } = scope.Counter("health_check.failed_cluster_empty");
        public Counter FailedClusterUnhealthy { get; } = scope.Counter("health_check.failed_cluster_unhealthy");
        public Counter Degraded { get; } = scope.Counter("health_check.degraded");
    }

    private sealed class HealthCheckFilter(bool passThrough, RequestHeaderMatchers headers, ClusterMinimum[] minimums, ResponseCache? cache, ServerState server, string localCluster, HealthCheckStats stats) : IHttpFilter
    {
        private const string HealthCheckedCluster = "x-envoy-upstream-healthchecked-cluster";
        private const string ImmediateHealthCheckFail = "x-envoy-immediate-health-check-fail";
        private const string Degraded = "x-envoy-degraded";

        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            if (!headers.Matches(context.HttpContext))
            {
                return new(FilterStatus.Continue);
            }
            context.StreamInfo.SetHealthCheck();
            if (passThrough && !server.HealthCheckFailed && cache?.InUse != true)
            {
                return new(FilterStatus.Continue);
            }
            return new(Answer(context));
        }

        /// <summary>Envoy's HealthCheckFilter::onComplete: the status, its details and the stats.</summary>
        private FilterStatus Answer(HttpFilterContext context)
        {
            stats.RequestTotal.Increment();
            var status = StatusCodes.Status200OK;
            var details = "health_check_ok";
            if (server.HealthCheckFailed)
            {
                context.StreamInfo.SetResponseFlag(ResponseFlags.FailedLocalHealthCheck);
                stats.Failed.Increment();
                return context.SendLocalReply(StatusCodes.Status503ServiceUnavailable, null, "health_check_failed");
            }
            if (cache is not null)
            {
                stats.CachedResponse.Increment();
                var (cached, degraded) = cache.Answer;
                if (degraded)
                {
                    stats.Degraded.Increment();
                }
                if (cached is < 200 or >= 300)
                {
                    context.StreamInfo.SetResponseFlag(ResponseFlags.FailedLocalHealthCheck);
                    stats.Failed.Increment();
                }
                else
                {
                    stats.Ok.Increment();
                }
                return context.SendLocalReply(cached, null, "health_check_cached", degraded ? static h => h[Degraded] = string.Empty : null);
            }
            foreach (var minimum in minimums)
            {
                details = "health_check_ok_cluster_healthy";
                if (minimum.Cluster is not { } cluster)
                {
                    status = StatusCodes.Status503ServiceUnavailable;
                    details = "health_check_failed_no_cluster_found";
                    stats.FailedClusterNotFound.Increment();
                    break;
                }
                var total = cluster.Stats.MembershipTotal.Value;
                if (total == 0)
                {
                    if (minimum.Percent == 0)
                    {
                        continue;
                    }
                    status = StatusCodes.Status503ServiceUnavailable;
                    details = "health_check_failed_cluster_empty";
                    stats.FailedClusterEmpty.Increment();
                    break;
                }
                // Envoy counts healthy plus degraded hosts; no host is ever degraded here.
                if (100 * cluster.Stats.MembershipHealthy.Value < total * minimum.Percent)
                {
                    status = StatusCodes.Status503ServiceUnavailable;
                    details = "health_check_failed_cluster_unhealthy";
                    stats.FailedClusterUnhealthy.Increment();
                    break;
                }
            }
            if (status == StatusCodes.Status200OK)
            {
                stats.Ok.Increment();
            }
            else
            {
                context.StreamInfo.SetResponseFlag(ResponseFlags.FailedLocalHealthCheck);
                stats.Failed.Increment();
            }
            return context.SendLocalReply(status, null, details);
        }

        public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
        {
            var responseHeaders = context.HttpContext.Response.Headers;
            if (context.StreamInfo.IsHealthCheck)
            {
                // Every health check's answer (the upstream's, or this filter's own) is what the cache serves next.
                cache?.Store(context.HttpContext.Response.StatusCode, responseHeaders.ContainsKey(Degraded));
                responseHeaders[HealthCheckedCluster] = localCluster;
            }
            else if (server.HealthCheckFailed)
            {
                responseHeaders[ImmediateHealthCheckFail] = "true";
            }
            return new(FilterStatus.Continue);
        }
    }
}
