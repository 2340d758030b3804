using Microsoft.Extensions.Hosting;

namespace Gateway.Stats;

/// <summary>Envoy's stats flush: every <see cref="Interval"/> (5 s, Envoy's default) the histograms close an interval.</summary>
internal sealed class StatsFlushService(StatsStore store, TimeProvider time) : IHostedService, IDisposable
{
    /// <summary>Envoy's default <c>stats_flush_interval</c>.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private ITimer? _timer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = time.CreateTimer(static s => ((StatsStore)s!).Flush(), store, Interval, Interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
