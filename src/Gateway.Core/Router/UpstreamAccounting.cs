using Gateway.Resilience;
using Gateway.Stats;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Router;

/// <summary>
/// The one place that charges a cluster's <c>upstream_rq_*</c> stats, from attempt outcomes: one method per
/// outcome kind, each called from one spot. <c>upstream_rq_total</c> counts attempts that were on a connection
/// (response headers, a reset, a timeout or a body failure there), as Envoy charges it when the stream
/// attaches to a pool connection; a connect failure or a circuit-breaker refusal never was on one.
/// Retry decisions (<c>upstream_rq_retry*</c>) are charged by <see cref="RetryDecisions"/>, which makes them.
/// With the router's <paramref name="request"/> (the parameter of the methods the router calls), the request's virtual
/// cluster and its route's <c>stat_prefix</c> stats get the same <c>upstream_rq_total</c>, codes, time and timeouts, as
/// Envoy's router charges them next to the cluster's.
/// </summary>
internal static class UpstreamAccounting
{
    /// <summary>The request transform handed the attempt to a connection.</summary>
    public static void AttemptStarted(ClusterStats stats) => stats.UpstreamRqActive.Increment();

    /// <summary>An attempt that <see cref="AttemptStarted"/> charged is over.</summary>
    public static void AttemptFinished(ClusterStats stats) => stats.UpstreamRqActive.Decrement();

    /// <summary><see cref="AttemptKind.Response"/>: response headers came and go to the client (response transform).</summary>
    public static void Response(ClusterStats stats, int status, bool internalRequest, bool healthCheck, UpstreamRequest? request = null)
    {
        OnConnection(stats, request);
        ChargeCode(stats, status, internalRequest, healthCheck, request);
    }

    /// <summary><see cref="AttemptKind.HeldForRetry"/>: a response held back for a retry counts under <c>retry.</c> only (response transform).</summary>
    public static void HeldForRetry(ClusterStats stats, int status, UpstreamRequest? request = null)
    {
        OnConnection(stats, request);
        stats.RetryCodes.Charge(status);
    }

    /// <summary>
    /// <see cref="AttemptKind.Reset"/>, when the attempt ends (retried or not): the upstream reset a request that was
    /// on a connection; a protocol error counts against the connection too.
    /// </summary>
    public static void Reset(ClusterStats stats, in AttemptOutcome attempt, UpstreamRequest? request = null)
    {
        if (attempt.ResetReason == RouterFilter.ProtocolError)
        {
            stats.UpstreamCxProtocolError.Increment();
        }
        OnConnection(stats, request);
        stats.UpstreamRqRxReset.Increment();
    }

    /// <summary><see cref="AttemptKind.PerTryTimeout"/>, in the retry predicate (a per-try timeout always sits inside the retry strategy).</summary>
    public static void PerTryTimeout(ClusterStats stats, in AttemptOutcome attempt, UpstreamRequest? request = null)
    {
        stats.UpstreamRqPerTryTimeout.Increment();
        if (attempt.OnConnection)
        {
            OnConnection(stats, request);
        }
    }

    /// <summary>
    /// The route timeout ended the request: during <paramref name="last"/> (cancelled on a connection before
    /// headers: that attempt counts now), or in the back-off after it (already counted when it ended).
    /// </summary>
    public static void RouteTimeout(ClusterStats stats, in AttemptOutcome last, bool internalRequest, bool healthCheck, bool responseStarted, UpstreamRequest? request = null)
    {
        if (last.Kind == AttemptKind.Cancelled && last.OnConnection && last.Status == 0)
        {
            OnConnection(stats, request);
        }
        stats.UpstreamRqTimeout.Increment();
        request?.VirtualCluster?.UpstreamRqTimeout.Increment();
        request?.Route.Stats?.UpstreamRqTimeout.Increment();
        if (!responseStarted)
        {
            ChargeCode(stats, Microsoft.AspNetCore.Http.StatusCodes.Status504GatewayTimeout, internalRequest, healthCheck, request);
        }
    }

    /// <summary><see cref="AttemptKind.ClientAborted"/>: the client went away (<c>upstream_rq_cancelled</c>), or its body failed on a connection (<c>upstream_rq_tx_reset</c>).</summary>
    public static void ClientAborted(ClusterStats stats, in AttemptOutcome attempt, UpstreamRequest? request = null)
    {
        if (attempt.Error == ForwarderError.RequestCanceled)
        {
            stats.UpstreamRqCancelled.Increment();
        }
        else if (attempt.Error == ForwarderError.RequestBodyClient && attempt.OnConnection)
        {
            // The body was being sent, so the request was on a connection; the gateway reset it there.
            OnConnection(stats, request);
            stats.UpstreamRqTxReset.Increment();
        }
    }

    /// <summary><see cref="AttemptKind.NoHealthyUpstream"/>: <c>upstream_cx_none_healthy</c> (the 503 is charged by <see cref="LocalReply"/>).</summary>
    public static void NoHealthyUpstream(ClusterStats stats) => stats.UpstreamCxNoneHealthy.Increment();

    /// <summary>A router local reply in place of an upstream response is charged as the upstream's code, as Envoy's router does.</summary>
    public static void LocalReply(ClusterStats stats, int status, bool internalRequest, bool healthCheck, UpstreamRequest? request = null) => ChargeCode(stats, status, internalRequest, healthCheck, request);

    /// <summary><c>upstream_rq_time</c> of a request that reached an upstream (or ended in a 5xx reply).</summary>
    public static void Completed(ClusterStats stats, double elapsedMs, bool internalRequest, UpstreamRequest? request = null)
    {
        stats.Codes.RecordTime(elapsedMs);
        stats.CodesFor(internalRequest).RecordTime(elapsedMs);
        request?.VirtualCluster?.Codes.RecordTime(elapsedMs);
        request?.Route.Stats?.Codes.RecordTime(elapsedMs);
    }

    /// <summary>The only charge of <c>upstream_rq_total</c>.</summary>
    private static void OnConnection(ClusterStats stats, UpstreamRequest? request)
    {
        stats.UpstreamRqTotal.Increment();
        if (request is not null)
        {
            request.VirtualCluster?.UpstreamRqTotal.Increment();
            request.Route.Stats?.UpstreamRqTotal.Increment();
        }
    }

    private static void ChargeCode(ClusterStats stats, int status, bool internalRequest, bool healthCheck, UpstreamRequest? request)
    {
        if (healthCheck)
        {
            // A health check (marked by a filter) charges no response-code stats: Envoy's Filter::chargeUpstreamCode.
            return;
        }
        stats.Codes.Charge(status);
        stats.CodesFor(internalRequest).Charge(status);
        if (request is not null)
        {
            request.VirtualCluster?.Codes.Charge(status);
            request.Route.Stats?.Codes.Charge(status);
        }
    }
}
