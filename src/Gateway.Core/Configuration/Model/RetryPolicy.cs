namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RetryPolicy</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy", NotSupported =
[
    "retry_priority", "retry_host_predicate", "retry_options_predicates", "host_selection_retry_max_attempts",
    "retriable_headers", "retriable_request_headers", "rate_limited_retry_back_off", "per_try_idle_timeout",
])]
public sealed class RetryPolicy : EnvoyMessage
{
    /// <summary>Comma-separated retry conditions, e.g. <c>5xx,connect-failure</c>.</summary>
    public string? RetryOn { get; set; }

    /// <summary>Retries allowed; default 1.</summary>
    public uint? NumRetries { get; set; }

    /// <summary>Timeout of each attempt; default none (only the route timeout).</summary>
    public TimeSpan? PerTryTimeout { get; set; }

    /// <summary>Back-off between attempts; default base 25 ms, max 10 × base.</summary>
    public RetryBackOff? RetryBackOff { get; set; }

    /// <summary>Status codes retried with <c>retriable-status-codes</c>.</summary>
    public List<uint> RetriableStatusCodes { get; set; } = [];
}

/// <summary><c>envoy.config.route.v3.RetryPolicy.RetryBackOff</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy.RetryBackOff")]
public sealed class RetryBackOff : EnvoyMessage
{
    /// <summary>First interval; required.</summary>
    public TimeSpan? BaseInterval { get; set; }

    /// <summary>Cap; default 10 × base.</summary>
    public TimeSpan? MaxInterval { get; set; }
}
