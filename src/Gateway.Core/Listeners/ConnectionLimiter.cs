using Gateway.Stats;

namespace Gateway.Listeners;

/// <summary>
/// One <c>envoy.filters.network.connection_limit</c> of a chain (Envoy's ConnectionLimit Filter and its Config): a
/// connection it admits counts in <c>active_connections</c> until it closes; one beyond <c>max_connections</c> counts in
/// <c>limited_connections</c> and is closed (after <c>delay</c>) before the chain's terminal filter sees it.
/// </summary>
internal sealed class ConnectionLimiter(StatsStore store, string statPrefix, ulong maxConnections, TimeSpan? delay) : ConnectionAdmission
{
    private long _active;

    public Counter LimitedConnections { get; } = store.Counter("connection_limit." + statPrefix + ".limited_connections");

    public Gauge ActiveConnections { get; } = store.Gauge("connection_limit." + statPrefix + ".active_connections");

    /// <summary>How long a refused connection is held before it is closed; null: closed at once.</summary>
    public override TimeSpan? Delay { get; } = delay;

    /// <summary>Envoy's incrementConnectionWithinLimit: true (and counted active) when the connection is within the limit.</summary>
    public override bool TryAdmit(RequestStreamInfo? connection)
    {
        while (true)
        {
            var active = Interlocked.Read(ref _active);
            if ((ulong)active >= maxConnections)
            {
                LimitedConnections.Increment();
                return false;
            }
            if (Interlocked.CompareExchange(ref _active, active + 1, active) == active)
            {
                ActiveConnections.Increment();
                return true;
            }
        }
    }

    /// <summary>An admitted connection closed.</summary>
    public override void Release()
    {
        Interlocked.Decrement(ref _active);
        ActiveConnections.Decrement();
    }
}
