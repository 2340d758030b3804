using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Resilience;

/// <summary>What one upstream attempt came to.</summary>
internal enum AttemptKind
{
    /// <summary>Upstream response headers came (<see cref="AttemptOutcome.Status"/>), or the attempt ended with no failure reported.</summary>
    Response,

    /// <summary>A retriable response the response transform held back: the retry is already scheduled.</summary>
    HeldForRetry,

    /// <summary>The request was on a connection and the upstream reset it before response headers.</summary>
    Reset,

    /// <summary>No connection could be made (refused, connect timeout): the request never was on one.</summary>
    ConnectFailure,

    /// <summary>The attempt's token was cancelled before response headers: a timeout or the client; the pipeline's result says which.</summary>
    Cancelled,

    /// <summary>The per-try timeout ended the attempt before response headers (resolved from <see cref="Cancelled"/>).</summary>
    PerTryTimeout,

    /// <summary>The client broke the request off: it went away, or its body failed while being forwarded.</summary>
    ClientAborted,

    /// <summary>A circuit breaker refused the attempt: answered 503 at once, never retried.</summary>
    Overflow,

    /// <summary>No host to send to: 503 <c>no healthy upstream</c>.</summary>
    NoHealthyUpstream,

    /// <summary>Failed in the gateway before reaching an upstream connection: nobody upstream is charged.</summary>
    FailedLocally,

    /// <summary>Any other forwarder failure before response headers (YARP answered it, or the response had already started).</summary>
    ResetAfterResponseStarted,
}

/// <summary>
/// The explicit result of one upstream attempt (a struct: no allocation per attempt). The retry predicate
/// decides from it and the router's final reply is chosen from the last one.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Status">The upstream response status; 0 when no response headers came (what the host's outcome observer is told).</param>
/// <param name="ResetReason">Envoy's reset reason for <see cref="AttemptKind.Reset"/> and <see cref="AttemptKind.ConnectFailure"/>.</param>
/// <param name="Error">How YARP reported the failure, if it failed.</param>
/// <param name="Exception">The exception behind <paramref name="Error"/>, if any.</param>
/// <param name="OnConnection">The request was handed to an upstream connection (<c>upstream_rq_active</c> was charged).</param>
internal readonly record struct AttemptOutcome(AttemptKind Kind, int Status, string? ResetReason, ForwarderError Error, Exception? Exception, bool OnConnection);
