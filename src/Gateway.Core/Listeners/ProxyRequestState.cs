namespace Gateway.Listeners;

/// <summary>Per-request state shared by the connection manager and the YARP transforms, as an HttpContext feature.</summary>
internal sealed class ProxyRequestState
{
    public ProxyRequestState(ListenerRuntime listener, RouteRuntime route, long startTimestamp)
    {
        Listener = listener;
        Route = route;
        StartTimestamp = startTimestamp;
    }

    public ListenerRuntime Listener { get; }

    public RouteRuntime Route { get; }

    /// <summary>When the request arrived (TimeProvider timestamp).</summary>
    public long StartTimestamp { get; }

    /// <summary>Set when an upstream attempt was started (upstream_rq_total charged).</summary>
    public bool UpstreamStarted { get; set; }

    /// <summary>The host the request went to, once YARP picked it.</summary>
    public Clusters.HostStats? Host { get; set; }

    /// <summary>Status of the upstream response, once its headers arrived.</summary>
    public int UpstreamStatus { get; set; }
}
