using Gateway.Hosting;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Runs Envoy's active health checking: one <see cref="ClusterHealthChecker"/> per cluster whose plan has
/// a health check. <see cref="ApplyAsync"/> reconciles the checkers with a plan (a changed health check
/// replaces the cluster's checker, a removed one stops it); it runs at start-up with the current plan.
/// </summary>
internal sealed class HealthCheckService(GatewayRuntime runtime, StatsStore stats, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    : IHostedService, IAsyncDisposable
{
    private readonly Dictionary<string, ClusterHealthChecker> _checkers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger = loggerFactory.CreateLogger("Gateway.Clusters.HealthChecking");

    /// <summary>The running checker of a cluster, or null.</summary>
    public ClusterHealthChecker? CheckerFor(string clusterName)
    {
        lock (_checkers)
        {
            return _checkers.GetValueOrDefault(clusterName);
        }
    }

    /// <summary>
    /// Starts the checkers and, as Envoy's cluster warming does, waits for every host's first check
    /// (each bounded by the check's timeout) before the server goes on to start its listeners.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ApplyAsync(runtime.Plan).ConfigureAwait(false);
        List<Task> initial;
        lock (_checkers)
        {
            initial = _checkers.Values.Select(c => c.InitialChecks).ToList();
        }
        if (initial.Count > 0)
        {
            await Task.WhenAll(initial).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => StopAllAsync();

    /// <summary>Starts, keeps, replaces or stops checkers so that they match <paramref name="plan"/>.</summary>
    public async Task ApplyAsync(GatewayPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var wanted = plan.ClusterPlans.Where(c => c.HealthCheck is not null).ToDictionary(c => c.Name, StringComparer.Ordinal);
            List<ClusterHealthChecker> stale;
            lock (_checkers)
            {
                // A cluster removed and added again is a new runtime: its checker starts over.
                stale = _checkers.Where(kv => !wanted.TryGetValue(kv.Key, out var c) || !HealthCheckPlanComparer.Same(kv.Value.Plan, c.HealthCheck!)
                        || !ReferenceEquals(runtime.Clusters.Find(kv.Key), kv.Value.Cluster))
                    .Select(kv => kv.Value).ToList();
                foreach (var checker in stale)
                {
                    _checkers.Remove(checker.Cluster.Name);
                }
            }
            foreach (var checker in stale)
            {
                await checker.DisposeAsync().ConfigureAwait(false);
            }
            foreach (var (name, clusterPlan) in wanted)
            {
                lock (_checkers)
                {
                    if (_checkers.ContainsKey(name))
                    {
                        continue;
                    }
                }
                var cluster = runtime.Clusters.GetOrCreate(name);
                var checker = new ClusterHealthChecker(cluster, clusterPlan.HealthCheck!, new HealthCheckStats(stats, name), timeProvider, _logger);
                lock (_checkers)
                {
                    _checkers[name] = checker;
                }
                checker.Start();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StopAllAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            List<ClusterHealthChecker> all;
            lock (_checkers)
            {
                all = [.. _checkers.Values];
                _checkers.Clear();
            }
            foreach (var checker in all)
            {
                await checker.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops every checker; safe to call more than once (the container disposes it as itself and as a hosted service).</summary>
    public async ValueTask DisposeAsync() => await StopAllAsync().ConfigureAwait(false);
}

/// <summary>Structural equality of health check plans (the record's lists compare by reference).</summary>
internal static class HealthCheckPlanComparer
{
    public static bool Same(HealthCheckPlan a, HealthCheckPlan b)
        => a.RequestHeadersToRemove.SequenceEqual(b.RequestHeadersToRemove, StringComparer.Ordinal)
            && a.ExpectedStatuses.SequenceEqual(b.ExpectedStatuses)
            && a.RetriableStatuses.SequenceEqual(b.RetriableStatuses)
            && (a.Tcp is null ? b.Tcp is null : b.Tcp is not null && a.Tcp.SameAs(b.Tcp))
            && Scalars(a) == Scalars(b);

    private static HealthCheckPlan Scalars(HealthCheckPlan plan)
        => plan with { RequestHeadersToRemove = Array.Empty<string>(), ExpectedStatuses = Array.Empty<StatusRange>(), RetriableStatuses = Array.Empty<StatusRange>(), Tcp = null };
}
