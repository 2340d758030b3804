using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Clusters.LoadBalancing;

/// <summary>Envoy's slow start (EdfLoadBalancerBase::applySlowStartFactor and the EDF refresh around it), on a fake clock.</summary>
public sealed class SlowStartTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new();
    private readonly ClusterRuntime _cluster = new("c", new ClusterStats(new StatsStore(), "c"));

    private WeightedHost Host(int n, uint weight = 1)
    {
        var address = "10.0.0." + n + ":80";
        return new WeightedHost(new DestinationState(address), _cluster.Host(address), weight);
    }

    private SlowStart Create(double aggression = 1.0, double minWeight = 0.1) => new(new SlowStartPlan(Window, aggression, minWeight), _time);

    [Theory]
    [InlineData(30, 1.0, 5.0)]
    [InlineData(15, 2.0, 5.0)]
    [InlineData(1, 1.0, 1.0)]
    [InlineData(59, 1.0, 59.0 / 6)]
    [InlineData(60, 1.0, 10.0)]
    public void Apply_SecondsSinceThePass_ScalesAsEnvoy(int seconds, double aggression, double expected)
    {
        // weight × max(min_weight_percent, (time / window)^(1 / aggression)); 1 s of 60 is under the 10 % floor.
        var slowStart = Create(aggression);
        var host = Host(1);
        host.Host.LastHcPassTime = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(seconds));

        Assert.Equal(expected, slowStart.Apply(10, host.Host), 9);
    }

    [Fact]
    public void Apply_UnhealthyOrNeverPassed_FullWeight()
    {
        var slowStart = Create();
        var unhealthy = Host(1);
        unhealthy.Host.LastHcPassTime = _time.GetTimestamp();
        unhealthy.Host.SetHealthFlag(HostHealthFlags.FailedOutlierCheck);

        Assert.Equal(10, slowStart.Apply(10, unhealthy.Host));
        Assert.Equal(10, slowStart.Apply(10, Host(2).Host));
    }

    [Fact]
    public void Refresh_HealthyHostWithoutPass_StampedNowAndUnhealthyLeftAlone()
    {
        var slowStart = Create();
        var healthy = Host(1);
        var unhealthy = Host(2);
        unhealthy.Host.SetHealthFlag(HostHealthFlags.FailedActiveHc);
        _time.Advance(TimeSpan.FromSeconds(5));

        slowStart.Refresh([healthy, unhealthy]);

        Assert.Equal(_time.GetTimestamp(), healthy.Host.LastHcPassTime);
        Assert.Null(unhealthy.Host.LastHcPassTime);
    }

    [Fact]
    public void NoHostsInSlowStart_FirstWindowAfterCreation_InSlowStartThenOut()
    {
        // Envoy starts latest_host_added_time_ at the load balancer's creation.
        var slowStart = Create();
        Assert.False(slowStart.NoHostsInSlowStart());
        _time.Advance(Window + TimeSpan.FromMilliseconds(1));
        Assert.True(slowStart.NoHostsInSlowStart());
    }

    [Fact]
    public void RoundRobin_HostAddedLater_RampsUpOverTheWindowThenGetsItsShare()
    {
        var factory = PickerFactory.RoundRobin(new Random(3), Create());
        WeightedHost[] old = [Host(1), Host(2)];
        factory.Create(old);
        _time.Advance(Window * 2);

        // A new host: the others left slow start long ago, it starts now (1 ms of 60 s, so the 10 % floor).
        var added = Host(3);
        var picker = factory.Create([old[0], old[1], added]);
        Assert.InRange(Count(picker, added, 2100), 95, 105);

        // Half-way its weight is 0.5 (re-read whenever the scheduler re-adds it): a fifth of the picks.
        _time.Advance(Window / 2);
        Count(picker, added, 30);
        Assert.InRange(Count(picker, added, 1000), 195, 205);

        // Past the window all weigh 1 again.
        _time.Advance(Window);
        Count(picker, added, 20);
        Assert.InRange(Count(picker, added, 999), 330, 336);
    }

    [Fact]
    public void RoundRobin_EqualWeightsNoHostInSlowStart_PlainRotation()
    {
        var factory = PickerFactory.RoundRobin(new Random(3), Create());
        _time.Advance(Window * 2);
        WeightedHost[] hosts = [Host(1), Host(2)];
        hosts[0].Host.LastHcPassTime = hosts[1].Host.LastHcPassTime = _time.GetTimestamp() - (long)(Window.TotalSeconds * 2 * _time.TimestampFrequency);

        var picker = factory.Create(hosts);
        var first = picker.Pick(null, 0)!.Value.Host;
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(first, picker.Pick(null, 0)!.Value.Host);
            Assert.Equal(first, picker.Pick(null, 0)!.Value.Host);
        }
    }

    [Fact]
    public void LeastRequest_HostInSlowStart_GetsItsScaledShareOfIdleHosts()
    {
        var factory = PickerFactory.LeastRequest(new Random(5), slowStart: Create());
        WeightedHost[] old = [Host(1), Host(2)];
        factory.Create(old);
        _time.Advance(Window * 2);
        var added = Host(3);
        var picker = factory.Create([old[0], old[1], added]);
        _time.Advance(Window / 4);
        Count(picker, added, 30);

        // Weight 1 / (0 + 1) × 0.25 against 1 and 1: a ninth of the picks.
        Assert.InRange(Count(picker, added, 900), 95, 105);
    }

    [Fact]
    public void Plan_SlowStartConfigured_PickerUsesTheClusterClock()
    {
        var cluster = new ClusterRuntime("c", new ClusterStats(new StatsStore(), "c")) { Time = _time };
        var plan = new ClusterPlan("c", Gateway.Configuration.DiscoveryType.Static, Gateway.Configuration.LbPolicy.RoundRobin, TimeSpan.FromSeconds(1),
            Gateway.Configuration.DnsLookupFamily.Auto, TimeSpan.FromSeconds(5), [])
        { SlowStart = new SlowStartPlan(Window, 1.0, 0.1) };
        cluster.Plan = plan;
        var destination = new DestinationState("a", new DestinationModel(new Yarp.ReverseProxy.Configuration.DestinationConfig { Address = "http://10.0.0.9:80" }));

        cluster.SelectAvailable([destination]);

        Assert.Equal(_time.GetTimestamp(), cluster.Host(destination).LastHcPassTime);
    }

    private static int Count(IHostPicker picker, WeightedHost host, int picks)
    {
        var count = 0;
        for (var i = 0; i < picks; i++)
        {
            count += picker.Pick(null, 0)!.Value.Host == host.Host ? 1 : 0;
        }
        return count;
    }
}
