namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// One kind of active health check (HTTP, TCP) for a <see cref="HostHealthCheckSession"/>, which owns
/// the timeout, the state machine, the flags and the stats; a probe only talks to the host.
/// </summary>
internal interface IHealthCheckProbe : IDisposable
{
    /// <summary>
    /// Runs one check. <paramref name="token"/> fires on the check's timeout or when the session stops
    /// (the probe then drops its connection and lets the <see cref="OperationCanceledException"/> through);
    /// network errors are returned as <see cref="ProbeResult.NetworkFailure"/> or thrown as
    /// <see cref="IOException"/>, <see cref="System.Net.Sockets.SocketException"/> or <see cref="HttpRequestException"/>.
    /// </summary>
    Task<ProbeResult> CheckAsync(CancellationToken token);
}

/// <summary>The outcome of one probe.</summary>
internal readonly record struct ProbeResult(ProbeOutcome Outcome, bool Retriable, string? Reason)
{
    public static ProbeResult Success => new(ProbeOutcome.Success, false, null);

    /// <summary>The host answered, but not as expected (Envoy's ACTIVE failure; fails the host at once unless retriable).</summary>
    public static ProbeResult ActiveFailure(string reason, bool retriable) => new(ProbeOutcome.ActiveFailure, retriable, reason);

    /// <summary>Connecting or talking to the host failed (Envoy's NETWORK failure; counts towards unhealthy_threshold).</summary>
    public static ProbeResult NetworkFailure(string reason) => new(ProbeOutcome.NetworkFailure, false, reason);
}

/// <summary>What a probe found.</summary>
internal enum ProbeOutcome
{
    Success,
    ActiveFailure,
    NetworkFailure,
}
