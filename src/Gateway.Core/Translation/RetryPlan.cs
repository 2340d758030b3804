namespace Gateway.Translation;

/// <summary>Envoy's <c>retry_on</c> conditions this gateway implements.</summary>
[Flags]
public enum RetryOn
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary><c>5xx</c>: any 5xx response, or a reset / connect failure.</summary>
    FiveXx = 1,

    /// <summary><c>gateway-error</c>: 502, 503, 504, or a reset / connect failure.</summary>
    GatewayError = 2,

    /// <summary><c>reset</c>: the upstream did not answer (disconnect, reset).</summary>
    Reset = 4,

    /// <summary><c>connect-failure</c>: the connection could not be made.</summary>
    ConnectFailure = 8,

    /// <summary><c>retriable-4xx</c>: 409.</summary>
    Retriable4xx = 16,

    /// <summary><c>refused-stream</c>: the upstream refused the stream (HTTP/2 REFUSED_STREAM).</summary>
    RefusedStream = 32,

    /// <summary><c>retriable-status-codes</c>: the codes in <c>retriable_status_codes</c>.</summary>
    RetriableStatusCodes = 64,
}

/// <summary>A route's retry policy, with Envoy's defaults filled in.</summary>
public sealed record RetryPlan(
    RetryOn RetryOn,
    int NumRetries,
    TimeSpan PerTryTimeout,
    TimeSpan BaseInterval,
    TimeSpan MaxInterval,
    IReadOnlyList<int> RetriableStatusCodes)
{
    /// <summary>Envoy's default back-off base (runtime <c>upstream.base_retry_backoff_ms</c>).</summary>
    public static readonly TimeSpan DefaultBaseInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>The <c>retry_on</c> names this gateway implements.</summary>
    public static readonly IReadOnlyDictionary<string, RetryOn> Conditions = new Dictionary<string, RetryOn>(StringComparer.Ordinal)
    {
        ["5xx"] = RetryOn.FiveXx,
        ["gateway-error"] = RetryOn.GatewayError,
        ["reset"] = RetryOn.Reset,
        ["connect-failure"] = RetryOn.ConnectFailure,
        ["retriable-4xx"] = RetryOn.Retriable4xx,
        ["refused-stream"] = RetryOn.RefusedStream,
        ["retriable-status-codes"] = RetryOn.RetriableStatusCodes,
    };

    /// <summary>Envoy <c>retry_on</c> names that exist but are not implemented here.</summary>
    public static readonly IReadOnlySet<string> NotSupportedConditions = new HashSet<string>(StringComparer.Ordinal)
    {
        "reset-before-request", "envoy-ratelimited", "retriable-headers", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    };

    /// <summary>True when a response with <paramref name="status"/> is retried (retryable status per Envoy's wouldRetryFromHeaders).</summary>
    public bool RetriesStatus(int status)
        => ((RetryOn & RetryOn.FiveXx) != 0 && status >= 500)
           || ((RetryOn & RetryOn.GatewayError) != 0 && status is 502 or 503 or 504)
           || ((RetryOn & RetryOn.Retriable4xx) != 0 && status == 409)
           || ((RetryOn & RetryOn.RetriableStatusCodes) != 0 && RetriableStatusCodes.Contains(status));

    /// <summary>True when a failure without response headers is retried.</summary>
    public bool RetriesReset(bool connectFailure)
        => (RetryOn & (RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0
           || (connectFailure && (RetryOn & RetryOn.ConnectFailure) != 0);

    /// <summary>True when a per-try timeout is retried (5xx, gateway-error or reset).</summary>
    public bool RetriesPerTryTimeout => (RetryOn & (RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0;
}
