using Gateway.Stats;

namespace Gateway.Admin;

/// <summary>The server's Envoy state (<c>server.state</c>, <c>server.live</c>, <c>/ready</c>).</summary>
internal sealed class ServerState
{
    public const int Live = 0;
    public const int Draining = 1;
    public const int PreInitializing = 2;
    public const int Initializing = 3;

    private readonly Gauge _live;
    private readonly Gauge _state;

    public ServerState(StatsStore stats)
    {
        _live = stats.Gauge("server.live");
        _state = stats.Gauge("server.state");
        SetState(Initializing);
    }

    /// <summary>The state, one of the constants above.</summary>
    public int State => (int)_state.Value;

    public void SetState(int state)
    {
        _state.Set(state);
        _live.Set(state == Live ? 1 : 0);
    }

    public static string Name(int state) => state switch
    {
        Live => "LIVE",
        Draining => "DRAINING",
        PreInitializing => "PRE_INITIALIZING",
        _ => "INITIALIZING",
    };
}
