using BenchmarkDotNet.Attributes;
using Gateway.Clusters;
using Gateway.Clusters.LoadBalancing;
using Gateway.Stats;
using Gateway.Translation;
using Yarp.ReverseProxy.Model;

namespace Gateway.Benchmarks;

/// <summary>One host pick per load-balancing policy over a cluster of N hosts (issue 12's budget: no allocation per pick).</summary>
[MemoryDiagnoser]
public class LoadBalancingBenchmarks
{
    private IHostPicker _roundRobin = null!;
    private IHostPicker _weightedRoundRobin = null!;
    private IHostPicker _leastRequest = null!;
    private IHostPicker _random = null!;
    private HashingPicker _ringHash = null!;
    private HashingPicker _maglev = null!;
    private ulong _key;

    [Params(10, 100)]
    public int Hosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var cluster = new ClusterRuntime("bench", new ClusterStats(new StatsStore(), "bench"));
        var equal = new WeightedHost[Hosts];
        var weighted = new WeightedHost[Hosts];
        for (var i = 0; i < Hosts; i++)
        {
            var address = "10.0." + (i / 250) + "." + (i % 250 + 1) + ":80";
            var host = cluster.Host(address);
            var destination = new DestinationState(address);
            equal[i] = new WeightedHost(destination, host, 1);
            weighted[i] = new WeightedHost(destination, host, (uint)(i % 4 + 1));
        }
        var random = new Random(1);
        _roundRobin = PickerFactory.RoundRobin(random).Create(equal);
        _weightedRoundRobin = PickerFactory.RoundRobin(random).Create(weighted);
        _leastRequest = PickerFactory.LeastRequest(random).Create(equal);
        _random = PickerFactory.Random(random).Create(equal);
        _ringHash = HashPickerFactory.Create(new RingHashPlan(RingHashPlan.DefaultMinimumRingSize, RingHashPlan.DefaultMaximumRingSize, RingHashFunction.XxHash, false), random).Create(equal);
        _maglev = HashPickerFactory.Create(new MaglevPlan(MaglevPlan.DefaultTableSize, false), random).Create(equal);
    }

    [Benchmark]
    public DestinationState? RoundRobin() => _roundRobin.Pick(null, 0)?.Destination;

    [Benchmark]
    public DestinationState? WeightedRoundRobin() => _weightedRoundRobin.Pick(null, 0)?.Destination;

    [Benchmark]
    public DestinationState? LeastRequest() => _leastRequest.Pick(null, 0)?.Destination;

    [Benchmark]
    public DestinationState? RandomPick() => _random.Pick(null, 0)?.Destination;

    [Benchmark]
    public DestinationState? RingHash() => _ringHash.Pick(_key += 0x9E3779B97F4A7C15, 0)?.Destination;

    [Benchmark]
    public DestinationState? Maglev() => _maglev.Pick(_key += 0x9E3779B97F4A7C15, 0)?.Destination;
}
