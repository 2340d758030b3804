using System.Globalization;

namespace Gateway.Listeners;

/// <summary>
/// A request's route and per-try timeouts as Envoy applies them (FilterUtility::finalTimeout): zero means
/// none, and a per-try timeout not shorter than the route timeout is ignored. One per route; internal
/// requests that set their own timeouts by header get their own.
/// </summary>
internal sealed class RequestTimeouts
{
    public RequestTimeouts(TimeSpan timeout, TimeSpan perTryTimeout)
    {
        Timeout = timeout;
        PerTry = perTryTimeout > TimeSpan.Zero && (timeout <= TimeSpan.Zero || perTryTimeout < timeout) ? perTryTimeout : TimeSpan.Zero;
        Expected = PerTry > TimeSpan.Zero ? PerTry : Timeout;
        ExpectedHeader = Expected > TimeSpan.Zero ? ((long)Expected.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : null;
    }

    /// <summary>The route timeout, covering every attempt and back-off (zero: none).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The per-try timeout in force (zero: none).</summary>
    public TimeSpan PerTry { get; }

    /// <summary>What an attempt may take: the per-try timeout if any, else the route timeout.</summary>
    public TimeSpan Expected { get; }

    /// <summary><c>x-envoy-expected-rq-timeout-ms</c> for a first attempt, or null without a timeout.</summary>
    public string? ExpectedHeader { get; }
}
