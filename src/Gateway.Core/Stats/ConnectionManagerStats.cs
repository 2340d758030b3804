namespace Gateway.Stats;

/// <summary>
/// The <c>http.&lt;stat_prefix&gt;.*</c> stats of one HTTP connection manager (router stats live in the
/// same tree), plus the per-listener <c>listener.&lt;addr&gt;.http.&lt;stat_prefix&gt;.*</c> copies.
/// </summary>
public sealed class ConnectionManagerStats
{
    private readonly Counter[] _downstreamRqClass = new Counter[6];
    private readonly Counter[] _listenerRqClass = new Counter[6];

    /// <summary>Resolves the handles for one connection manager on one listener.</summary>
    public ConnectionManagerStats(StatsStore store, string statPrefix, string listenerScope)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = "http." + statPrefix + ".";
        DownstreamCxTotal = store.Counter(prefix + "downstream_cx_total");
        DownstreamCxActive = store.Gauge(prefix + "downstream_cx_active");
        DownstreamRqTotal = store.Counter(prefix + "downstream_rq_total");
        DownstreamRqHttp1Total = store.Counter(prefix + "downstream_rq_http1_total");
        DownstreamRqHttp2Total = store.Counter(prefix + "downstream_rq_http2_total");
        DownstreamRqActive = store.Gauge(prefix + "downstream_rq_active");
        DownstreamRqCompleted = store.Counter(prefix + "downstream_rq_completed");
        DownstreamRqRxReset = store.Counter(prefix + "downstream_rq_rx_reset");
        RqTotal = store.Counter(prefix + "rq_total");
        NoRoute = store.Counter(prefix + "no_route");
        NoCluster = store.Counter(prefix + "no_cluster");
        RqDirectResponse = store.Counter(prefix + "rq_direct_response");
        var listenerPrefix = listenerScope + ".http." + statPrefix + ".";
        ListenerRqCompleted = store.Counter(listenerPrefix + "downstream_rq_completed");
        for (var i = 1; i <= 5; i++)
        {
            _downstreamRqClass[i] = store.Counter($"{prefix}downstream_rq_{i}xx");
            _listenerRqClass[i] = store.Counter($"{listenerPrefix}downstream_rq_{i}xx");
        }
    }

    /// <summary>Connections accepted.</summary>
    public Counter DownstreamCxTotal { get; }

    /// <summary>Connections open.</summary>
    public Gauge DownstreamCxActive { get; }

    /// <summary>Requests received.</summary>
    public Counter DownstreamRqTotal { get; }

    /// <summary>HTTP/1 requests received.</summary>
    public Counter DownstreamRqHttp1Total { get; }

    /// <summary>HTTP/2 requests received.</summary>
    public Counter DownstreamRqHttp2Total { get; }

    /// <summary>Requests in flight.</summary>
    public Gauge DownstreamRqActive { get; }

    /// <summary>Requests that got a response.</summary>
    public Counter DownstreamRqCompleted { get; }

    /// <summary>Requests the client reset before the response was complete.</summary>
    public Counter DownstreamRqRxReset { get; }

    /// <summary>Router: requests routed.</summary>
    public Counter RqTotal { get; }

    /// <summary>Router: requests with no matching route.</summary>
    public Counter NoRoute { get; }

    /// <summary>Router: requests whose cluster does not exist.</summary>
    public Counter NoCluster { get; }

    /// <summary>Router: direct responses.</summary>
    public Counter RqDirectResponse { get; }

    /// <summary><c>listener.&lt;addr&gt;.http.&lt;prefix&gt;.downstream_rq_completed</c>.</summary>
    public Counter ListenerRqCompleted { get; }

    /// <summary>Counts a response sent downstream.</summary>
    public void ChargeResponse(int statusCode)
    {
        DownstreamRqCompleted.Increment();
        ListenerRqCompleted.Increment();
        var codeClass = StatNames.CodeClass(statusCode);
        if (codeClass != 0)
        {
            _downstreamRqClass[codeClass].Increment();
            _listenerRqClass[codeClass].Increment();
        }
    }
}

/// <summary>The <c>listener.&lt;addr&gt;.*</c> stats.</summary>
public sealed class ListenerStats
{
    /// <summary>Resolves the handles for one listener scope (see <see cref="StatNames.ListenerScope"/>).</summary>
    public ListenerStats(StatsStore store, string scope)
    {
        ArgumentNullException.ThrowIfNull(store);
        Scope = scope;
        DownstreamCxTotal = store.Counter(scope + ".downstream_cx_total");
        DownstreamCxDestroy = store.Counter(scope + ".downstream_cx_destroy");
        DownstreamCxActive = store.Gauge(scope + ".downstream_cx_active");
    }

    /// <summary>The scope, e.g. <c>listener.0.0.0.0_15001</c>.</summary>
    public string Scope { get; }

    /// <summary>Connections accepted.</summary>
    public Counter DownstreamCxTotal { get; }

    /// <summary>Connections closed.</summary>
    public Counter DownstreamCxDestroy { get; }

    /// <summary>Connections open.</summary>
    public Gauge DownstreamCxActive { get; }
}
