using BenchmarkDotNet.Attributes;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Benchmarks;

/// <summary>Start-up and reload cost: parse + validate + translate + compile the route table.</summary>
[MemoryDiagnoser]
public class ConfigBenchmarks
{
    private string _yaml = string.Empty;

    [Params(1, 100, 10_000)]
    public int Routes { get; set; }

    [GlobalSetup]
    public void Setup() => _yaml = BenchmarkConfigs.Routes(Routes);

    [Benchmark]
    public object LoadTranslateCompile()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(_yaml);
        var plan = EnvoyTranslator.Translate(bootstrap);
        var stats = new StatsStore();
        return ListenerRuntime.Build(plan.Listeners[0], new ClusterRegistry(stats), stats);
    }
}
