namespace Gateway.Clusters.OutlierDetection;

/// <summary>
/// One host's outlier state (Envoy's DetectorHostMonitorImpl). The request path only touches the
/// interlocked counters; everything else belongs to the detector and changes under its lock.
/// </summary>
internal sealed class OutlierHostMonitor
{
    private int _consecutive5xx;
    private int _consecutiveGatewayFailure;

    // Two buckets: requests count into the current one, the interval timer swaps them and reads the
    // other (Envoy's SuccessRateAccumulator), so the request path never waits for the evaluation.
    private Bucket _current = new();
    private Bucket _backup = new();
    private double _successRate = -1;

    public OutlierHostMonitor(OutlierDetector detector, UpstreamHost host)
    {
        Detector = detector;
        Host = host;
    }

    public OutlierDetector Detector { get; }

    public UpstreamHost Host { get; }

    /// <summary>Times ejected (detector lock).</summary>
    public int NumEjections { get; set; }

    /// <summary>Multiplier of base_ejection_time for the next ejection; grows per ejection, shrinks per healthy interval (detector lock).</summary>
    public long EjectTimeBackoff { get; set; }

    /// <summary>TimeProvider timestamp of the last ejection (detector lock).</summary>
    public long? LastEjection { get; set; }

    /// <summary>TimeProvider timestamp of the last return (detector lock).</summary>
    public long? LastUnejection { get; set; }

    /// <summary>Random time added to the current ejection (detector lock).</summary>
    public TimeSpan Jitter { get; set; }

    /// <summary>Success rate of the last interval in percent, or -1 when not computed (admin <c>/clusters</c>).</summary>
    public double SuccessRate
    {
        get => Volatile.Read(ref _successRate);
        set => Volatile.Write(ref _successRate, value);
    }

    public bool IsEjected => (Host.HealthFlags & HostHealthFlags.FailedOutlierCheck) != 0;

    /// <summary>
    /// One request ended. Envoy's non-split mapping (putResultNoLocalExternalSplit/resultToHttpCode):
    /// a timeout counts as 504 and a reset or connect failure as 503, so both are 5xx and gateway errors.
    /// </summary>
    public void PutResult(int status, bool timedOut) => PutHttpResponseCode(timedOut ? 504 : status == 0 ? 503 : status);

    /// <summary>Envoy's putHttpResponseCode: lock-free, allocation-free; crossing a threshold hands over to the detector.</summary>
    public void PutHttpResponseCode(int status)
    {
        var bucket = Volatile.Read(ref _current);
        Interlocked.Increment(ref bucket.Total);
        if (status is >= 500 and < 600)
        {
            if (status is 502 or 503 or 504)
            {
                // "==" rather than ">=": the detection fires once per run, as in Envoy.
                if ((uint)Interlocked.Increment(ref _consecutiveGatewayFailure) == Detector.Plan.ConsecutiveGatewayFailure)
                {
                    Detector.OnConsecutiveError(this, EjectionType.ConsecutiveGatewayFailure);
                }
            }
            else
            {
                Volatile.Write(ref _consecutiveGatewayFailure, 0);
            }
            if ((uint)Interlocked.Increment(ref _consecutive5xx) == Detector.Plan.Consecutive5xx)
            {
                Detector.OnConsecutiveError(this, EjectionType.Consecutive5xx);
            }
        }
        else
        {
            Interlocked.Increment(ref bucket.Success);
            // Plain reads first: no cache-line write on the common all-good path.
            if (Volatile.Read(ref _consecutive5xx) != 0)
            {
                Volatile.Write(ref _consecutive5xx, 0);
            }
            if (Volatile.Read(ref _consecutiveGatewayFailure) != 0)
            {
                Volatile.Write(ref _consecutiveGatewayFailure, 0);
            }
        }
    }

    public void ResetConsecutive5xx() => Volatile.Write(ref _consecutive5xx, 0);

    public void ResetConsecutiveGatewayFailure() => Volatile.Write(ref _consecutiveGatewayFailure, 0);

    /// <summary>Starts a new interval: the bucket just filled becomes the one to evaluate (detector lock).</summary>
    public void SwapBuckets()
    {
        var filled = _current;
        _backup.Total = 0;
        _backup.Success = 0;
        Volatile.Write(ref _current, _backup);
        _backup = filled;
    }

    /// <summary>Success rate (percent) and volume of the interval that just ended; null without requests.</summary>
    public (double Rate, long Volume)? LastIntervalSuccessRate()
    {
        var total = Volatile.Read(ref _backup.Total);
        return total == 0 ? null : (Volatile.Read(ref _backup.Success) * 100.0 / total, total);
    }

    private sealed class Bucket
    {
        public long Total;
        public long Success;
    }
}
