using Gateway.Translation;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracing;

/// <summary>
/// Envoy's TracerManagerImpl: one tracer per distinct provider configuration, shared by every connection manager
/// that names it. Applying a configuration reuses the tracers whose provider did not change and disposes (flushes)
/// the ones no longer used, after the new configuration is in force.
/// </summary>
internal sealed partial class TracerManager : IDisposable
{
    private readonly Dictionary<string, ITracer> _tracers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ILogger _logger;

    public TracerManager(TracerContext context, ILogger logger)
    {
        Context = context;
        _logger = logger;
    }

    /// <summary>What tracers are built with.</summary>
    public TracerContext Context { get; }

    /// <summary>The tracer of <paramref name="provider"/>: the running one for an equal configuration, else a new one.</summary>
    public ITracer For(TracerProviderPlan provider)
    {
        lock (_lock)
        {
            if (!_tracers.TryGetValue(provider.Key, out var tracer))
            {
                tracer = provider.Factory.Create(provider.Config, Context);
                _tracers[provider.Key] = tracer;
                Log.Created(_logger, provider.Name);
            }
            return tracer;
        }
    }

    /// <summary>Disposes the tracers <paramref name="plan"/> does not use (call once it is in force).</summary>
    public void Retain(GatewayPlan plan)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var listener in plan.Listeners)
        {
            foreach (var chain in listener.AllChains())
            {
                if (chain.ConnectionManager.Tracing?.Provider is { } provider)
                {
                    used.Add(provider.Key);
                }
            }
        }
        List<ITracer> retired = [];
        lock (_lock)
        {
            foreach (var key in _tracers.Keys.ToArray())
            {
                if (!used.Contains(key))
                {
                    retired.Add(_tracers[key]);
                    _tracers.Remove(key);
                }
            }
        }
        foreach (var tracer in retired)
        {
            _ = DisposeAsync(tracer);
        }
    }

    /// <summary>The number of running tracers.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _tracers.Count;
            }
        }
    }

    /// <summary>Disposes every tracer (shutdown: their exporters flush).</summary>
    public void Dispose()
    {
        ITracer[] all;
        lock (_lock)
        {
            all = [.. _tracers.Values];
            _tracers.Clear();
        }
        foreach (var tracer in all)
        {
            DisposeAsync(tracer).GetAwaiter().GetResult();
        }
    }

    private async Task DisposeAsync(ITracer tracer)
    {
        try
        {
            await tracer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A tracer that cannot flush costs its pending spans, never the gateway.
            Log.DisposeFailed(_logger, e);
        }
    }

    /// <summary>
    /// The seam for tracers' collector traffic until the gateway's async cluster client exists: it refuses, naming the
    /// cluster, so a tracer that needs one fails visibly instead of sending around the cluster's stats and breakers.
    /// </summary>
    public static HttpMessageInvoker UnwiredClusterClient(string cluster)
        => throw new InvalidOperationException($"tracing: no async client for cluster '{cluster}' (the gateway's cluster client is not wired into TracerContext yet)");

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.TracerCreated, Level = LogLevel.Debug, Message = "tracing: created tracer '{Name}'")]
        public static partial void Created(ILogger logger, string name);

        [LoggerMessage(EventId = LogEvents.TracerDisposeFailed, Level = LogLevel.Warning, Message = "tracing: a retired tracer failed to flush")]
        public static partial void DisposeFailed(ILogger logger, Exception exception);
    }
}
