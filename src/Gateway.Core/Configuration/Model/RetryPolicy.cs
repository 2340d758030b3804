namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RetryPolicy</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy", NotSupported =
[
    "retry_priority", "retry_options_predicates", "per_try_idle_timeout",
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

    /// <summary>Which hosts a retry should avoid (e.g. <c>envoy.retry_host_predicates.previous_hosts</c>).</summary>
    public List<RetryHostPredicate> RetryHostPredicate { get; set; } = [];

    /// <summary>How many times host selection is redone when a predicate rejects the host; default 1.</summary>
    public long? HostSelectionRetryMaxAttempts { get; set; }

    /// <summary>Response headers that make a response retriable with <c>retriable-headers</c>.</summary>
    public List<HeaderMatcher> RetriableHeaders { get; set; } = [];

    /// <summary>Request headers one of which must match for the request to be retried at all.</summary>
    public List<HeaderMatcher> RetriableRequestHeaders { get; set; } = [];

    /// <summary>Back-off taken from the upstream's rate-limit reset headers (e.g. <c>Retry-After</c>).</summary>
    public RateLimitedRetryBackOff? RateLimitedRetryBackOff { get; set; }
}

/// <summary><c>envoy.config.route.v3.RetryPolicy.RetryHostPredicate</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy.RetryHostPredicate")]
public sealed class RetryHostPredicate : EnvoyMessage
{
    /// <summary>The predicate's name.</summary>
    public string? Name { get; set; }

    /// <summary>Its configuration, typed by <c>@type</c>.</summary>
    [AnyField]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate</c>: retries avoid hosts already tried.</summary>
[EnvoyType("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate")]
public sealed class PreviousHostsPredicate : EnvoyMessage
{
}

/// <summary><c>envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff")]
public sealed class RateLimitedRetryBackOff : EnvoyMessage
{
    /// <summary>Headers to read the reset interval from, first usable one wins; required.</summary>
    public List<ResetHeader> ResetHeaders { get; set; } = [];

    /// <summary>Longest back-off taken from a header; default 300s.</summary>
    public TimeSpan? MaxInterval { get; set; }
}

/// <summary><c>envoy.config.route.v3.RetryPolicy.ResetHeader</c>.</summary>
[EnvoyType("envoy.config.route.v3.RetryPolicy.ResetHeader")]
public sealed class ResetHeader : EnvoyMessage
{
    /// <summary>Header name, e.g. <c>Retry-After</c>.</summary>
    public string? Name { get; set; }

    /// <summary>How the value is written.</summary>
    public ResetHeaderFormat Format { get; set; }
}

/// <summary><c>envoy.config.route.v3.RetryPolicy.ResetHeaderFormat</c>.</summary>
public enum ResetHeaderFormat
{
    /// <summary>Seconds to wait.</summary>
    Seconds = 0,

    /// <summary>A Unix timestamp (seconds) to wait until.</summary>
    UnixTimestamp = 1,
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
