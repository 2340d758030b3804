namespace Gateway.Clusters;

/// <summary>
/// Envoy's per-host stats, shown by admin <c>/clusters</c> as <c>cluster::host::stat::value</c>
/// (they are not part of <c>/stats</c>, as in Envoy).
/// </summary>
internal sealed class HostStats(string address)
{
    private long _cxTotal;
    private long _cxActive;
    private long _cxConnectFail;
    private long _rqTotal;
    private long _rqActive;
    private long _rqError;
    private long _rqSuccess;
    private long _rqTimeout;

    /// <summary>The host as <c>ip:port</c>.</summary>
    public string Address { get; } = address;

    public long CxTotal => Volatile.Read(ref _cxTotal);

    public long CxActive => Volatile.Read(ref _cxActive);

    public long CxConnectFail => Volatile.Read(ref _cxConnectFail);

    public long RqTotal => Volatile.Read(ref _rqTotal);

    public long RqActive => Volatile.Read(ref _rqActive);

    public long RqError => Volatile.Read(ref _rqError);

    public long RqSuccess => Volatile.Read(ref _rqSuccess);

    public long RqTimeout => Volatile.Read(ref _rqTimeout);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _cxTotal);
        Interlocked.Increment(ref _cxActive);
    }

    public void ConnectionFailed()
    {
        Interlocked.Increment(ref _cxConnectFail);
        Interlocked.Decrement(ref _cxActive);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _cxActive);

    public void RequestStarted()
    {
        Interlocked.Increment(ref _rqTotal);
        Interlocked.Increment(ref _rqActive);
    }

    /// <summary>Ends a request: 5xx responses, resets and timeouts are errors, everything else a success (Envoy's host outlier view).</summary>
    public void RequestEnded(int status, bool timedOut)
    {
        Interlocked.Decrement(ref _rqActive);
        if (timedOut)
        {
            Interlocked.Increment(ref _rqTimeout);
        }
        Interlocked.Increment(ref status is 0 or >= 500 || timedOut ? ref _rqError : ref _rqSuccess);
    }
}
