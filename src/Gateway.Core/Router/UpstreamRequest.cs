using Gateway.Clusters;
using Gateway.Listeners;
using Gateway.Resilience;
using Polly;
using Polly.Timeout;
using Yarp.ReverseProxy.Model;

namespace Gateway.Router;

/// <summary>
/// The router's per-request state (an HttpContext feature): what spans the attempts (attempt number, retry
/// policy and retries left, previous hosts, retry slot, timeouts in force) and what YARP's transforms report
/// during the current attempt, which <see cref="RouterFilter"/> turns into the attempt's <see cref="AttemptOutcome"/>.
/// </summary>
internal sealed class UpstreamRequest : IPipelineRequest, ILoadBalancerContext
{
    public UpstreamRequest(RequestStreamInfo streamInfo, ListenerRuntime listener, RouteRuntime route, long startTimestamp)
    {
        StreamInfo = streamInfo;
        Listener = listener;
        Route = route;
        StartTimestamp = startTimestamp;
        Timeouts = route.Timeouts;
        Cluster = route.Cluster!;
        RouteMetadataMatch = route.MetadataMatch;
    }

    /// <summary>The timeouts in force: the route's, unless an internal request set its own by header.</summary>
    public RequestTimeouts Timeouts { get; set; }

    /// <summary>
    /// An upgrade or CONNECT: Envoy's router starts the route and per-try timers once the downstream request is complete,
    /// which a tunnel's never is while it is open, so neither applies (the idle timeouts do).
    /// </summary>
    public bool Tunnel { get; init; }

    /// <summary>The route timeout in force (zero: none).</summary>
    public TimeSpan Timeout => Tunnel ? TimeSpan.Zero : Timeouts.Timeout;

    /// <summary>The per-try timeout in force (zero: none).</summary>
    public TimeSpan PerTryTimeout => Tunnel ? TimeSpan.Zero : Timeouts.PerTry;

    /// <summary>Response header names that make a response retriable (<c>x-envoy-retriable-header-names</c>), or null.</summary>
    public string[]? RetriableHeaderNames { get; set; }

    /// <summary>The request's stream info: the router records the host, attempts, response flags and details there.</summary>
    public RequestStreamInfo StreamInfo { get; }

    /// <summary>The request's downstream span.</summary>
    public Tracing.ISpan DownstreamSpan => StreamInfo.Span;

    /// <summary>The current attempt's own span (<c>start_child_span</c> / <c>spawn_upstream_span</c>), or null.</summary>
    public Tracing.ISpan? AttemptSpan { get; set; }

    public ListenerRuntime Listener { get; }

    public RouteRuntime Route { get; }

    /// <summary>The cluster chosen for this request: the route's fixed one, or by header or by weight (set by the router before the endpoint is chosen).</summary>
    public ClusterRuntime Cluster { get; set; }

    /// <summary>When the request arrived (TimeProvider timestamp).</summary>
    public long StartTimestamp { get; }

    /// <summary>The current attempt, 1 for the first.</summary>
    public int Attempt { get; private set; }

    /// <summary>The <c>:path</c> the route was matched on (normalized as the listener asks), which the upstream receives before any route rewrite.</summary>
    public string PathAndQuery { get; init; } = "/";

    /// <summary>True for an internal request (its codes count under <c>internal.</c>, not <c>external.</c>).</summary>
    public bool Internal { get; init; }

    /// <summary>A filter marked the request as a health check: no response-code stats (Envoy's router skips them).</summary>
    public bool HealthCheck { get; init; }

    /// <summary>The request's virtual cluster's stats (Envoy's request_vcluster_), or null when its virtual host has none.</summary>
    public Stats.RequestClassStats? VirtualCluster { get; init; }

    /// <summary>The retry policy in force for this request, or null when it is not retried.</summary>
    public Translation.RetryPlan? Retry { get; set; }

    /// <summary>The hosts already tried, kept when the retry policy avoids previous hosts.</summary>
    public List<DestinationState>? PreviousHosts { get; set; }

    /// <summary>The back-off the last response's rate-limit reset header asked for, if any.</summary>
    public TimeSpan? RateLimitedBackOff { get; set; }

    private bool _canReplay;

    /// <summary>Retries the policy still allows.</summary>
    public int RetriesRemaining { get; set; }

    /// <summary>True when the request body can be sent again: none, or kept within the limit so far (<see cref="ReplayBody"/>).</summary>
    public bool CanReplay
    {
        get => _canReplay && ReplayBody is not { Overflowed: true };
        set => _canReplay = value;
    }

    /// <summary>The request body as the attempts read it, when it is kept for retries.</summary>
    public ReplayableRequestBody? ReplayBody { get; set; }

    /// <summary>True while a retry holds one of the cluster's retry slots (circuit breaker max_retries).</summary>
    public bool HoldsRetrySlot { get; set; }

    /// <summary>Set when the route timeout ended the request.</summary>
    public bool RouteTimedOut { get; private set; }

    /// <summary>
    /// The outcome of the latest attempt, as the attempt recorded it: Polly's timeouts hand back their own
    /// rejection instead of the attempt's result, so the retry predicate and the final reply read it here.
    /// </summary>
    public AttemptOutcome LastOutcome { get; set; }

    // What YARP's transforms report during the current attempt (the attempt's outcome is built from them).

    /// <summary>The current attempt was handed to an upstream connection (upstream_rq_active charged).</summary>
    public bool OnConnection { get; set; }

    /// <summary>Status of the current attempt's upstream response, once its headers arrived.</summary>
    public int ResponseStatus { get; set; }

    /// <summary>The response transform held the current attempt's response back for a retry.</summary>
    public bool HeldForRetry { get; set; }

    /// <summary>The host the current attempt went to, once YARP picked it (also the stream info's upstream host, which keeps the last one).</summary>
    public UpstreamHost? Host
    {
        get => _host;
        set
        {
            _host = value;
            if (value is not null)
            {
                StreamInfo.Host = value;
            }
        }
    }

    private UpstreamHost? _host;

    /// <summary>Starts the next attempt.</summary>
    public void BeginAttempt()
    {
        Attempt++;
        StreamInfo.AttemptCount = Attempt;
        OnConnection = false;
        ResponseStatus = 0;
        HeldForRetry = false;
        LastOutcome = default;
        Host = null;
        Overflowed = false;
    }

    /// <summary>Gives back the retry slot a scheduled retry held through its back-off, if it holds one.</summary>
    public void ReleaseRetrySlot()
    {
        if (HoldsRetrySlot)
        {
            HoldsRetrySlot = false;
            Cluster.ReleaseRetry(Route.Plan.Priority);
        }
    }

    bool IPipelineRequest.Retries => Retry is not null;

    void IPipelineRequest.OnRouteTimeout() => RouteTimedOut = true;

    TimeSpan IPipelineRequest.BackOff(Random jitter) => RetryDecisions.BackOff(this, jitter);

    /// <summary>
    /// The retry predicate: a per-try timeout (the inner timeout strategy's rejection), a response the
    /// response transform held back for a retry, or a reset before response headers. An attempt
    /// followed by a retry ends here for its host; the last one ends when the request completes.
    /// </summary>
    bool IPipelineRequest.ShouldRetry(in Outcome<AttemptKind> outcome)
    {
        var attempt = LastOutcome;
        var perTryTimedOut = outcome.Exception is TimeoutRejectedException;
        bool retry;
        if (perTryTimedOut)
        {
            if (attempt.Status == 0)
            {
                // The attempt's cancellation was this timeout (a route timeout in the back-off must not count it again).
                attempt = attempt with { Kind = AttemptKind.PerTryTimeout };
                LastOutcome = attempt;
            }
            retry = RetryDecisions.AfterPerTryTimeout(this, attempt);
        }
        else if (outcome.Exception is not null)
        {
            // The route timeout or the client ended the request: never retried.
            retry = false;
        }
        else
        {
            retry = attempt.Kind == AttemptKind.HeldForRetry || RetryDecisions.AfterReset(this, attempt);
        }
        if (retry)
        {
            Host?.RequestEnded(attempt.Status, perTryTimedOut);
            Host = null;
        }
        return retry;
    }

    ClusterRuntime ILoadBalancerContext.Cluster => Cluster;

    int ILoadBalancerContext.HostSelectionRetryCount
        => PreviousHosts is { Count: > 0 } && Retry is { } retry ? retry.HostSelectionRetryMaxAttempts : 0;

    bool ILoadBalancerContext.ShouldSelectAnotherHost(DestinationState host) => PreviousHosts!.Contains(host);

    ulong? ILoadBalancerContext.ComputeHashKey()
    {
        if (!_hashComputed)
        {
            _hashComputed = true;
            if (Route.HashPolicy is { } policy)
            {
                string? setCookie = null;
                _hashKey = policy.Generate(StreamInfo.HttpContext, ref setCookie, StreamInfo.ForwardedRemoteAddress);
                SetCookie = setCookie;
            }
        }
        return _hashKey;
    }

    private bool _hashComputed;
    private ulong? _hashKey;

    /// <summary>The subset criteria of the route, or of the weighted cluster entry picked (set by the router with the cluster).</summary>
    public Clusters.LoadBalancing.SubsetCriteria? RouteMetadataMatch { get; set; }

    Clusters.LoadBalancing.SubsetCriteria? ILoadBalancerContext.MetadataMatchCriteria
    {
        get
        {
            if (!_metadataMatchComputed)
            {
                _metadataMatchComputed = true;
                // Envoy's Router::Filter::metadataMatchCriteria: the request's envoy.lb dynamic metadata takes precedence.
                _metadataMatch = StreamInfo.FindDynamicMetadata(Clusters.LoadBalancing.SubsetCriteria.EnvoyLbNamespace) is { } dynamic
                    ? Clusters.LoadBalancing.SubsetCriteria.Merge(RouteMetadataMatch, dynamic)
                    : RouteMetadataMatch;
            }
            return _metadataMatch;
        }
    }

    private bool _metadataMatchComputed;
    private Clusters.LoadBalancing.SubsetCriteria? _metadataMatch;

    /// <summary>The <c>Set-Cookie</c> value a cookie hash policy generated, added to the upstream's response (Envoy's downstream_set_cookies_).</summary>
    public string? SetCookie { get; private set; }

    /// <summary>The current attempt holds one of the cluster's request slots (circuit breaker <c>max_requests</c>).</summary>
    public bool HoldsRequestSlot { get; private set; }

    /// <summary>The circuit breakers refused the current attempt once its host was chosen (Envoy's pool overflow, UO).</summary>
    public bool Overflowed { get; private set; }

    bool ILoadBalancerContext.OnHostSelected(DestinationState host)
    {
        if (Retry?.AvoidPreviousHosts == true)
        {
            (PreviousHosts ??= []).Add(host);
        }
        var cluster = Cluster;
        var admission = cluster.AdmitRequest(Route.Plan.Priority);
        if (admission == RequestAdmission.Admitted)
        {
            HoldsRequestSlot = true;
            return true;
        }
        Overflowed = true;
        if (admission == RequestAdmission.RequestsOverflow)
        {
            // Envoy's pool refuses max_requests when attaching the stream to a connection of the host, and reports that
            // host (onPoolFailure): %UPSTREAM_HOST% names it. A max_pending_requests overflow has no connection, no host.
            StreamInfo.Host = cluster.Host(host);
        }
        return false;
    }

    /// <summary>Gives the current attempt's request slot back, if it holds one.</summary>
    public void ReleaseRequestSlot()
    {
        if (HoldsRequestSlot)
        {
            HoldsRequestSlot = false;
            Cluster.ReleaseRequest(Route.Plan.Priority);
        }
    }
}
