using System.Text.Json.Serialization;
using Gateway.Configuration;

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

    /// <summary><c>retriable-headers</c>: responses matching <c>retriable_headers</c>.</summary>
    RetriableHeaders = 128,

    /// <summary><c>envoy-ratelimited</c>: responses carrying <c>x-envoy-ratelimited</c> (never retried otherwise).</summary>
    EnvoyRateLimited = 256,

    /// <summary>gRPC <c>cancelled</c>: <c>grpc-status</c> 1.</summary>
    GrpcCancelled = 512,

    /// <summary>gRPC <c>deadline-exceeded</c>: <c>grpc-status</c> 4.</summary>
    GrpcDeadlineExceeded = 1024,

    /// <summary>gRPC <c>resource-exhausted</c>: <c>grpc-status</c> 8.</summary>
    GrpcResourceExhausted = 2048,

    /// <summary>gRPC <c>internal</c>: <c>grpc-status</c> 13.</summary>
    GrpcInternal = 4096,

    /// <summary>gRPC <c>unavailable</c>: <c>grpc-status</c> 14.</summary>
    GrpcUnavailable = 8192,

    /// <summary>The gRPC conditions, which look at the response's <c>grpc-status</c> header.</summary>
    AnyGrpc = GrpcCancelled | GrpcDeadlineExceeded | GrpcResourceExhausted | GrpcInternal | GrpcUnavailable,
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
    /// <summary><c>retry_host_predicate</c> has <c>previous_hosts</c>: retries avoid the hosts already tried.</summary>
    public bool AvoidPreviousHosts { get; init; }

    /// <summary><c>host_selection_retry_max_attempts</c>: extra host picks when a predicate rejects the host.</summary>
    public int HostSelectionRetryMaxAttempts { get; init; }

    /// <summary><c>retriable_headers</c>: response headers that make a response retriable with <c>retriable-headers</c>.</summary>
    [JsonIgnore]
    public IReadOnlyList<HeaderMatcher> RetriableHeaders { get; init; } = [];

    /// <summary><c>retriable_request_headers</c>: one must match the request for it to be retried at all.</summary>
    [JsonIgnore]
    public IReadOnlyList<HeaderMatcher> RetriableRequestHeaders { get; init; } = [];

    /// <summary><c>rate_limited_retry_back_off</c>, or null.</summary>
    public RateLimitedBackOffPlan? RateLimitedBackOff { get; init; }

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
        ["retriable-headers"] = RetryOn.RetriableHeaders,
        ["envoy-ratelimited"] = RetryOn.EnvoyRateLimited,
        ["cancelled"] = RetryOn.GrpcCancelled,
        ["deadline-exceeded"] = RetryOn.GrpcDeadlineExceeded,
        ["resource-exhausted"] = RetryOn.GrpcResourceExhausted,
        ["internal"] = RetryOn.GrpcInternal,
        ["unavailable"] = RetryOn.GrpcUnavailable,
    };

    /// <summary>The policy of a request that asks for retries by header on a route without a policy: Envoy's defaults.</summary>
    public static readonly RetryPlan HeaderOnly = new(RetryOn.None, 1, TimeSpan.Zero, DefaultBaseInterval, DefaultBaseInterval * 10, []);

    /// <summary>
    /// The conditions named in <c>x-envoy-retry-on</c> (HTTP names) or <c>x-envoy-retry-grpc-on</c>
    /// (gRPC names); unknown names are ignored, as Envoy does for headers.
    /// </summary>
    public static RetryOn ParseRetryOnHeader(string value, bool grpc)
    {
        var result = RetryOn.None;
        foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Conditions.TryGetValue(name, out var condition) && ((condition & RetryOn.AnyGrpc) != 0) == grpc)
            {
                result |= condition;
            }
        }
        return result;
    }

    /// <summary>Envoy <c>retry_on</c> names that exist but are not implemented here.</summary>
    public static readonly IReadOnlySet<string> NotSupportedConditions = new HashSet<string>(StringComparer.Ordinal)
    {
        "reset-before-request", "http3-post-connect-failure",
    };

    /// <summary>True when a response with <paramref name="status"/> is retried for its status alone (Envoy's wouldRetryFromHeaders, status part).</summary>
    public bool RetriesStatus(int status)
        => ((RetryOn & RetryOn.FiveXx) != 0 && status >= 500)
           || ((RetryOn & RetryOn.GatewayError) != 0 && status is 502 or 503 or 504)
           || ((RetryOn & RetryOn.Retriable4xx) != 0 && status == 409)
           || ((RetryOn & RetryOn.RetriableStatusCodes) != 0 && RetriableStatusCodes.Contains(status));

    /// <summary>True when a response with this <c>grpc-status</c> is retried.</summary>
    public bool RetriesGrpcStatus(int grpcStatus) => grpcStatus switch
    {
        1 => (RetryOn & RetryOn.GrpcCancelled) != 0,
        4 => (RetryOn & RetryOn.GrpcDeadlineExceeded) != 0,
        8 => (RetryOn & RetryOn.GrpcResourceExhausted) != 0,
        13 => (RetryOn & RetryOn.GrpcInternal) != 0,
        14 => (RetryOn & RetryOn.GrpcUnavailable) != 0,
        _ => false,
    };

    /// <summary>True when a failure without response headers is retried.</summary>
    public bool RetriesReset(bool connectFailure)
        => (RetryOn & (RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0
           || (connectFailure && (RetryOn & RetryOn.ConnectFailure) != 0);

    /// <summary>True when a per-try timeout is retried (5xx, gateway-error or reset).</summary>
    public bool RetriesPerTryTimeout => (RetryOn & (RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0;
}

/// <summary><c>rate_limited_retry_back_off</c>: the back-off read from the upstream's reset headers.</summary>
public sealed record RateLimitedBackOffPlan(IReadOnlyList<ResetHeaderPlan> ResetHeaders, TimeSpan MaxInterval)
{
    /// <summary>Envoy's default <c>max_interval</c>.</summary>
    public static readonly TimeSpan DefaultMaxInterval = TimeSpan.FromSeconds(300);
}

/// <summary>One reset header and how its value is written.</summary>
public sealed record ResetHeaderPlan(string Name, ResetHeaderFormat Format);
