using Gateway.Clusters;
using Gateway.Clusters.OutlierDetection;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.OutlierDetection;

/// <summary>The detector on its own: fake clock, a cluster of fake hosts, outcomes reported directly.</summary>
public sealed class OutlierDetectorTests : IDisposable
{
    private const string Prefix = "cluster.c.outlier_detection.";
    private readonly StatsStore _stats = new();
    private readonly FakeTimeProvider _time = new();
    private readonly ClusterRuntime _cluster;
    private readonly List<UpstreamHost> _hosts = [];
    private OutlierDetector? _detector;

    public OutlierDetectorTests()
    {
        _cluster = new ClusterRuntime("c", new ClusterStats(_stats, "c"));
    }

    public void Dispose() => _detector?.Dispose();

    private OutlierDetector Start(OutlierDetectionPlan plan, int hosts = 10, Random? random = null)
    {
        var destinations = new List<DestinationState>();
        for (var i = 0; i < hosts; i++)
        {
            var address = $"http://10.0.0.{i + 1}:80";
            destinations.Add(new DestinationState("d" + i, new DestinationModel(new DestinationConfig { Address = address })));
        }
        _cluster.SetMembers(destinations);
        _hosts.Clear();
        _hosts.AddRange(_cluster.Members);
        _detector = new OutlierDetector(_cluster, plan, new OutlierDetectionStats(_stats, "c"), _time, NullLogger.Instance, random);
        _cluster.OutcomeObserver = _detector;
        return _detector;
    }

    /// <summary>
    /// Moves the fake clock in 100 ms steps: FakeTimeProvider fires a due timer once per Advance, at the
    /// end time, so a long jump would skip the interval ticks in between.
    /// </summary>
    private void Advance(TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(100);
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            _time.Advance(by - moved < step ? by - moved : step);
        }
    }

    private long Counter(string name) => _stats.Counter(Prefix + name).Value;

    private long Active => _stats.Gauge(Prefix + "ejections_active").Value;

    private static void Send(UpstreamHost host, int status, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            host.RequestStarted();
            host.RequestEnded(status, timedOut: false);
        }
    }

    private static bool Ejected(UpstreamHost host) => (host.HealthFlags & HostHealthFlags.FailedOutlierCheck) != 0;

    [Fact]
    public void Consecutive5xx_FifthError_EjectsExactlyThen()
    {
        Start(OutlierDetectionPlan.Defaults);

        Send(_hosts[0], 500, 4);
        Assert.False(Ejected(_hosts[0]));
        Send(_hosts[0], 500);

        Assert.True(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_detected_consecutive_5xx"));
        Assert.Equal(1, Counter("ejections_enforced_consecutive_5xx"));
        Assert.Equal(1, Counter("ejections_enforced_total"));
        Assert.Equal(1, Counter("ejections_total"));
        Assert.Equal(1, Counter("ejections_consecutive_5xx"));
        Assert.Equal(1, Active);
    }

    [Fact]
    public void Consecutive5xx_SuccessInBetween_ResetsTheCount()
    {
        Start(OutlierDetectionPlan.Defaults);

        Send(_hosts[0], 500, 4);
        Send(_hosts[0], 200);
        Send(_hosts[0], 503, 4);

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Counter("ejections_detected_consecutive_5xx"));
    }

    [Fact]
    public void Consecutive5xx_ResetsAndTimeouts_CountAsGatewayErrors()
    {
        Start(OutlierDetectionPlan.Defaults with { Consecutive5xx = 100, ConsecutiveGatewayFailure = 3, EnforcingConsecutiveGatewayFailure = 100 });

        Send(_hosts[0], 0);
        _hosts[0].RequestStarted();
        _hosts[0].RequestEnded(0, timedOut: true);
        Send(_hosts[0], 502);

        Assert.True(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_enforced_consecutive_gateway_failure"));
        Assert.Equal(0, Counter("ejections_total"));
    }

    [Fact]
    public void ConsecutiveGatewayFailure_Plain500_BreaksTheRun()
    {
        Start(OutlierDetectionPlan.Defaults with { Consecutive5xx = 100, ConsecutiveGatewayFailure = 3 });

        Send(_hosts[0], 503, 2);
        Send(_hosts[0], 500);
        Send(_hosts[0], 503, 2);
        Assert.Equal(0, Counter("ejections_detected_consecutive_gateway_failure"));
        Send(_hosts[0], 503);

        // Detected, but enforcing_consecutive_gateway_failure defaults to 0.
        Assert.Equal(1, Counter("ejections_detected_consecutive_gateway_failure"));
        Assert.Equal(0, Counter("ejections_enforced_consecutive_gateway_failure"));
        Assert.False(Ejected(_hosts[0]));
    }

    [Fact]
    public void Enforcing_Zero_OnlyCountsDetected()
    {
        Start(OutlierDetectionPlan.Defaults with { EnforcingConsecutive5xx = 0 });

        Send(_hosts[0], 500, 5);

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_detected_consecutive_5xx"));
        Assert.Equal(0, Counter("ejections_enforced_consecutive_5xx"));
        Assert.Equal(0, Counter("ejections_enforced_total"));
        Assert.Equal(0, Active);
        // The deprecated counters count detections allowed by max_ejection_percent, enforced or not.
        Assert.Equal(1, Counter("ejections_total"));

        // The counter was reset: the next run of five is detected again.
        Send(_hosts[0], 500, 5);
        Assert.Equal(2, Counter("ejections_detected_consecutive_5xx"));
    }

    [Fact]
    public void Enforcing_Percentage_DecidedByTheRandomNumber()
    {
        Start(OutlierDetectionPlan.Defaults with { EnforcingConsecutive5xx = 30, MaxEjectionPercent = 100 }, random: new FixedRandom(29));

        Send(_hosts[0], 500, 5);
        Assert.True(Ejected(_hosts[0]));

        _detector!.Dispose();
        Start(OutlierDetectionPlan.Defaults with { EnforcingConsecutive5xx = 30, MaxEjectionPercent = 100 }, random: new FixedRandom(30));
        Send(_hosts[1], 500, 5);
        Assert.False(Ejected(_hosts[1]));
    }

    [Fact]
    public void MaxEjectionPercent_Reached_FurtherEjectionsOverflow()
    {
        Start(OutlierDetectionPlan.Defaults with { MaxEjectionPercent = 25 }, hosts: 4);

        Send(_hosts[0], 500, 5);
        Send(_hosts[1], 500, 5);

        Assert.True(Ejected(_hosts[0]));
        Assert.False(Ejected(_hosts[1]));
        Assert.Equal(1, Counter("ejections_overflow"));
        Assert.Equal(1, Counter("ejections_detected_consecutive_5xx") - 1);
        Assert.Equal(1, Counter("ejections_enforced_total"));
        Assert.Equal(1, Active);
    }

    [Fact]
    public void MaxEjectionPercent_BelowOneHost_EjectsNothingUnlessAlwaysEjectOneHost()
    {
        Start(OutlierDetectionPlan.Defaults, hosts: 3);
        Send(_hosts[0], 500, 5);
        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_overflow"));
        _detector!.Dispose();

        Start(OutlierDetectionPlan.Defaults with { AlwaysEjectOneHost = true }, hosts: 3);
        Send(_hosts[0], 500, 5);
        Send(_hosts[1], 500, 5);
        Assert.True(Ejected(_hosts[0]));
        Assert.False(Ejected(_hosts[1]));
    }

    [Fact]
    public void Uneject_AfterBaseEjectionTime_AtTheNextIntervalTick()
    {
        Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(3), BaseEjectionTime = TimeSpan.FromSeconds(10) });
        Advance(TimeSpan.FromSeconds(1));
        Send(_hosts[0], 500, 5);

        // Ejected at t=1 for 10 s; the ticks come at 3, 6, 9, 12.
        Advance(TimeSpan.FromSeconds(10.9));
        Assert.True(Ejected(_hosts[0]));
        Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Active);
    }

    [Fact]
    public void EjectionTime_SecondEjection_IsDoubled()
    {
        Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(1), BaseEjectionTime = TimeSpan.FromSeconds(10) });
        Send(_hosts[0], 500, 5);
        Advance(TimeSpan.FromSeconds(10));
        Assert.False(Ejected(_hosts[0]));

        Send(_hosts[0], 500, 5);
        Assert.True(Ejected(_hosts[0]));
        Advance(TimeSpan.FromSeconds(19));
        Assert.True(Ejected(_hosts[0]));
        Advance(TimeSpan.FromSeconds(1));
        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(2, Counter("ejections_enforced_consecutive_5xx"));
    }

    [Fact]
    public void EjectionTime_Growing_IsCappedByMaxEjectionTime()
    {
        Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(1), BaseEjectionTime = TimeSpan.FromSeconds(10), MaxEjectionTime = TimeSpan.FromSeconds(15) });
        Send(_hosts[0], 500, 5);
        Advance(TimeSpan.FromSeconds(10));
        Assert.False(Ejected(_hosts[0]));

        Send(_hosts[0], 500, 5);
        Advance(TimeSpan.FromSeconds(14));
        Assert.True(Ejected(_hosts[0]));
        Advance(TimeSpan.FromSeconds(1));
        Assert.False(Ejected(_hosts[0]));
    }

    [Fact]
    public void EjectionTime_HealthyIntervals_DecreaseTheMultiplier()
    {
        Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(1), BaseEjectionTime = TimeSpan.FromSeconds(10) });
        Send(_hosts[0], 500, 5);
        Advance(TimeSpan.FromSeconds(10));
        Send(_hosts[0], 500, 5);
        Advance(TimeSpan.FromSeconds(20));
        Assert.False(Ejected(_hosts[0]));

        // Two healthy intervals take the multiplier from 2 back to 0: the next ejection is base × 1.
        Advance(TimeSpan.FromSeconds(2));
        Send(_hosts[0], 500, 5);
        Assert.True(Ejected(_hosts[0]));
        Advance(TimeSpan.FromSeconds(10));
        Assert.False(Ejected(_hosts[0]));
    }

    [Fact]
    public void SuccessRate_OneHostFarBelowTheOthers_IsEjected()
    {
        var detector = Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(10), MaxEjectionPercent = 50 }, hosts: 5);
        for (var i = 0; i < 100; i++)
        {
            for (var h = 1; h < 5; h++)
            {
                Send(_hosts[h], 200);
            }
            Send(_hosts[0], i % 2 == 0 ? 500 : 200);
        }

        Advance(TimeSpan.FromSeconds(10));

        // {50, 100, 100, 100, 100}: mean 90, stdev 20, threshold 90 - 1.9 × 20 = 52.
        Assert.True(Ejected(_hosts[0]));
        Assert.Equal(90, detector.SuccessRateAverage, 6);
        Assert.Equal(52, detector.SuccessRateEjectionThreshold, 6);
        Assert.Equal(100, OutlierDetector.SuccessRateOf(_hosts[1], detector));
        Assert.Equal(1, Counter("ejections_detected_success_rate"));
        Assert.Equal(1, Counter("ejections_enforced_success_rate"));
        Assert.Equal(1, Counter("ejections_success_rate"));
        Assert.Equal(1, Counter("ejections_total"));
        Assert.Equal(0, Counter("ejections_detected_failure_percentage"));
    }

    [Fact]
    public void SuccessRate_TooFewHostsWithVolume_IsNotEvaluated()
    {
        var detector = Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(10), MaxEjectionPercent = 50 }, hosts: 5);
        for (var i = 0; i < 100; i++)
        {
            for (var h = 1; h < 4; h++)
            {
                Send(_hosts[h], 200);
            }
            Send(_hosts[0], i % 2 == 0 ? 500 : 200);
        }
        // One host short of success_rate_request_volume: four qualify, five are needed.
        Send(_hosts[4], 200, 99);

        Advance(TimeSpan.FromSeconds(10));

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Counter("ejections_detected_success_rate"));
        Assert.Equal(-1, detector.SuccessRateEjectionThreshold);
        // The rate is still shown for hosts above the smaller of the two request volumes.
        Assert.Equal(50, OutlierDetector.SuccessRateOf(_hosts[0], detector));
    }

    [Fact]
    public void SuccessRate_NotEnoughVolume_LeavesMinusOne()
    {
        var detector = Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(10) }, hosts: 5);
        foreach (var host in _hosts)
        {
            Send(host, 200, 10);
        }

        Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(-1, detector.SuccessRateAverage);
        Assert.Equal(-1, detector.SuccessRateEjectionThreshold);
        Assert.Equal(-1, OutlierDetector.SuccessRateOf(_hosts[0], detector));
    }

    [Fact]
    public void FailurePercentage_HostAtThreshold_IsEjectedWhenEnforced()
    {
        var plan = OutlierDetectionPlan.Defaults with
        {
            Interval = TimeSpan.FromSeconds(10), Consecutive5xx = 1000, EnforcingSuccessRate = 0, EnforcingFailurePercentage = 100, MaxEjectionPercent = 50,
        };
        Start(plan, hosts: 5);
        for (var i = 0; i < 100; i++)
        {
            for (var h = 1; h < 5; h++)
            {
                Send(_hosts[h], 200);
            }
            Send(_hosts[0], i % 20 < 17 ? 500 : 200);
        }

        Advance(TimeSpan.FromSeconds(10));

        // 85% failures reaches failure_percentage_threshold 85.
        Assert.True(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_detected_failure_percentage"));
        Assert.Equal(1, Counter("ejections_enforced_failure_percentage"));
        Assert.Equal(1, Counter("ejections_detected_success_rate"));
        Assert.Equal(0, Counter("ejections_enforced_success_rate"));
    }

    [Fact]
    public void FailurePercentage_DefaultEnforcing_OnlyDetects()
    {
        Start(OutlierDetectionPlan.Defaults with { Interval = TimeSpan.FromSeconds(10), Consecutive5xx = 1000, EnforcingSuccessRate = 0, MaxEjectionPercent = 50 }, hosts: 5);
        foreach (var host in _hosts)
        {
            Send(host, 200, 50);
        }
        Send(_hosts[0], 500, 450);

        Advance(TimeSpan.FromSeconds(10));

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(1, Counter("ejections_detected_failure_percentage"));
        Assert.Equal(0, Counter("ejections_enforced_failure_percentage"));
    }

    [Fact]
    public void OnActiveHealthCheckSucceeded_EjectedHost_IsReturned()
    {
        var detector = Start(OutlierDetectionPlan.Defaults);
        Send(_hosts[0], 500, 5);

        Assert.True(detector.OnActiveHealthCheckSucceeded(_hosts[0]));

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Active);
        Assert.False(detector.OnActiveHealthCheckSucceeded(_hosts[0]));
    }

    [Fact]
    public void OnActiveHealthCheckSucceeded_UnejectDisabled_KeepsTheHostOut()
    {
        var detector = Start(OutlierDetectionPlan.Defaults with { SuccessfulActiveHealthCheckUnejectHost = false });
        Send(_hosts[0], 500, 5);

        Assert.False(detector.OnActiveHealthCheckSucceeded(_hosts[0]));
        Assert.True(Ejected(_hosts[0]));
    }

    [Fact]
    public void Stop_ReturningEjectedHosts_ClearsFlagsAndDetaches()
    {
        var detector = Start(OutlierDetectionPlan.Defaults);
        Send(_hosts[0], 500, 5);

        detector.Stop(returnEjectedHosts: true);

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Active);
        Assert.Null(_cluster.OutcomeObserver);
        Assert.Null(_hosts[0].OutlierMonitor);
        // No timer left: advancing the clock does nothing, and outcomes are ignored.
        Advance(TimeSpan.FromMinutes(5));
        Send(_hosts[1], 500, 5);
        Assert.False(Ejected(_hosts[1]));
    }

    [Fact]
    public void Members_HostRemoved_LosesItsEjection()
    {
        Start(OutlierDetectionPlan.Defaults);
        Send(_hosts[0], 500, 5);

        var remaining = new List<DestinationState>();
        for (var i = 1; i < 10; i++)
        {
            remaining.Add(new DestinationState("d" + i, new DestinationModel(new DestinationConfig { Address = $"http://10.0.0.{i + 1}:80" })));
        }
        _cluster.SetMembers(remaining);

        Assert.False(Ejected(_hosts[0]));
        Assert.Equal(0, Active);
    }

    [Fact]
    public void OnRequestEnded_Success_DoesNotAllocate()
    {
        var detector = Start(OutlierDetectionPlan.Defaults);
        var host = _hosts[0];
        detector.OnRequestEnded(host, 200, timedOut: false);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            detector.OnRequestEnded(host, i % 3 == 0 ? 500 : 200, timedOut: false);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>Random whose draws are always <c>value</c> (capped below the bound).</summary>
    private sealed class FixedRandom(int value) : Random
    {
        public override int Next(int maxValue) => Math.Min(value, maxValue - 1);

        public override long NextInt64(long maxValue) => Math.Min(value, maxValue - 1);
    }
}
