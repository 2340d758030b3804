namespace Gateway.Listeners;

/// <summary>Per-request state shared by the connection manager and the YARP transforms, as an HttpContext feature.</summary>
internal sealed class ProxyRequestState
{
    public ProxyRequestState(ListenerRuntime listener, RouteRuntime route, long startTimestamp)
    {
        Listener = listener;
        Route = route;
        StartTimestamp = startTimestamp;
        Timeouts = route.Timeouts;
    }

    /// <summary>The timeouts in force: the route's, unless an internal request set its own by header.</summary>
    public RequestTimeouts Timeouts { get; set; }

    /// <summary>The route timeout in force (zero: none).</summary>
    public TimeSpan Timeout => Timeouts.Timeout;

    /// <summary>The per-try timeout in force (zero: none).</summary>
    public TimeSpan PerTryTimeout => Timeouts.PerTry;

    /// <summary>Response header names that make a response retriable (<c>x-envoy-retriable-header-names</c>), or null.</summary>
    public string[]? RetriableHeaderNames { get; set; }

    public ListenerRuntime Listener { get; }

    public RouteRuntime Route { get; }

    /// <summary>When the request arrived (TimeProvider timestamp).</summary>
    public long StartTimestamp { get; }

    /// <summary>Set when the current attempt was handed to the upstream (upstream_rq_active charged).</summary>
    public bool UpstreamStarted { get; set; }

    /// <summary>The current attempt, 1 for the first.</summary>
    public int Attempt { get; private set; }

    /// <summary>The <c>:path</c> the route was matched on (normalized as the listener asks), which the upstream receives before any route rewrite.</summary>
    public string PathAndQuery { get; init; } = "/";

    /// <summary>True for an internal request (its codes count under <c>internal.</c>, not <c>external.</c>).</summary>
    public bool Internal { get; init; }

    /// <summary>A filter marked the request as a health check: no response-code stats (Envoy's router skips them).</summary>
    public bool HealthCheck { get; init; }

    /// <summary>The retry policy in force for this request, or null when it is not retried.</summary>
    public Translation.RetryPlan? Retry { get; set; }

    /// <summary>The hosts already tried, kept when the retry policy avoids previous hosts.</summary>
    public List<Yarp.ReverseProxy.Model.DestinationState>? PreviousHosts { get; set; }

    /// <summary>The back-off the last response's rate-limit reset header asked for, if any.</summary>
    public TimeSpan? RateLimitedBackOff { get; set; }

    /// <summary>Retries the policy still allows.</summary>
    public int RetriesRemaining { get; set; }

    /// <summary>True when the request body can be sent again (none, or buffered within the limit).</summary>
    public bool CanReplay { get; set; }

    /// <summary>Set by the response transform when it held back a retriable response to try again.</summary>
    public bool RetryScheduled { get; set; }

    /// <summary>Set when a circuit breaker refused the attempt (503 overflow).</summary>
    public bool Overflowed { get; set; }

    /// <summary>True while a retry holds one of the cluster's retry slots (circuit breaker max_retries).</summary>
    public bool HoldsRetrySlot { get; set; }

    /// <summary>Set when the route timeout ended the request.</summary>
    public bool RouteTimedOut { get; set; }

    /// <summary>Set when the current attempt hit the per-try timeout.</summary>
    public bool PerTryTimedOut { get; set; }

    /// <summary>How YARP reported the current attempt's failure, if it failed.</summary>
    public Yarp.ReverseProxy.Forwarder.ForwarderError AttemptError { get; set; }

    /// <summary>The exception behind <see cref="AttemptError"/>, if any.</summary>
    public Exception? AttemptException { get; set; }

    /// <summary>The current attempt failed in the gateway before reaching an upstream connection: nobody upstream is charged.</summary>
    public bool FailedLocally { get; set; }

    /// <summary>Starts the next attempt.</summary>
    public void BeginAttempt()
    {
        Attempt++;
        UpstreamStarted = false;
        UpstreamStatus = 0;
        RetryScheduled = false;
        PerTryTimedOut = false;
        AttemptError = Yarp.ReverseProxy.Forwarder.ForwarderError.None;
        AttemptException = null;
        FailedLocally = false;
        Host = null;
    }

    /// <summary>Gives back the retry slot a scheduled retry held through its back-off, if it holds one.</summary>
    public void ReleaseRetrySlot()
    {
        if (HoldsRetrySlot)
        {
            HoldsRetrySlot = false;
            Route.Cluster!.ReleaseRetry(Route.Plan.Priority);
        }
    }

    /// <summary>The host the request went to, once YARP picked it.</summary>
    public Clusters.UpstreamHost? Host { get; set; }

    /// <summary>Status of the upstream response, once its headers arrived.</summary>
    public int UpstreamStatus { get; set; }
}
