namespace Gateway.AccessLog;

/// <summary>
/// Gateway-wide access log settings (Envoy's command line): register one in the services to change them; the
/// <c>gateway</c> host sets it from <c>--file-flush-interval-msec</c>.
/// </summary>
public sealed class AccessLogOptions
{
    /// <summary>How often buffered access log lines are written at the latest (Envoy's <c>--file-flush-interval-msec</c>, default 10 s).</summary>
    public TimeSpan FlushInterval { get; set; } = AccessLogManager.DefaultFlushInterval;
}
