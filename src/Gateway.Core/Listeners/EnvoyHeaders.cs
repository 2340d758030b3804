namespace Gateway.Listeners;

/// <summary>Header names Envoy reads or writes (lowercase, as Envoy sends them).</summary>
public static class EnvoyHeaders
{
    /// <summary><c>x-request-id</c>.</summary>
    public const string RequestId = "x-request-id";

    /// <summary><c>x-forwarded-proto</c>.</summary>
    public const string ForwardedProto = "x-forwarded-proto";

    public const string ForwardedPort = "x-forwarded-port";

    public const string DownstreamServiceCluster = "x-envoy-downstream-service-cluster";

    public const string DownstreamServiceNode = "x-envoy-downstream-service-node";

    /// <summary><c>x-envoy-expected-rq-timeout-ms</c>.</summary>
    public const string ExpectedRequestTimeoutMs = "x-envoy-expected-rq-timeout-ms";

    /// <summary><c>x-envoy-upstream-service-time</c>.</summary>
    public const string UpstreamServiceTime = "x-envoy-upstream-service-time";

    /// <summary><c>x-forwarded-host</c>.</summary>
    public const string ForwardedHost = "x-forwarded-host";

    /// <summary><c>x-envoy-original-path</c>.</summary>
    public const string OriginalPath = "x-envoy-original-path";

    /// <summary><c>x-envoy-overloaded</c>.</summary>
    public const string Overloaded = "x-envoy-overloaded";

    /// <summary>On the router's reply to a request dropped by the cluster's <c>drop_overloads</c>.</summary>
    public const string DropOverload = "x-envoy-drop-overload";

    /// <summary><c>x-envoy-attempt-count</c>.</summary>
    public const string AttemptCount = "x-envoy-attempt-count";

    /// <summary><c>x-envoy-ratelimited</c>: the response comes from a rate limit (never retried unless <c>envoy-ratelimited</c>).</summary>
    public const string RateLimited = "x-envoy-ratelimited";

    /// <summary><c>grpc-status</c>.</summary>
    public const string GrpcStatus = "grpc-status";
}
