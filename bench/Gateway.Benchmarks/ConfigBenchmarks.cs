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

    private Bootstrap _bootstrap = null!;
    private GatewayPlan _plan = null!;

    [GlobalSetup]
    public void Setup()
    {
        _yaml = BenchmarkConfigs.Routes(Routes);
        _bootstrap = EnvoyConfigLoader.LoadYaml(_yaml);
        _plan = EnvoyTranslator.Translate(_bootstrap);
    }

    [Benchmark]
    public object ParseYaml()
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(_yaml));
        return stream;
    }

    [Benchmark]
    public int ParseEventsOnly()
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(_yaml));
        var count = 0;
        while (parser.MoveNext())
        {
            count++;
        }
        return count;
    }

    [Benchmark]
    public int ScanTokensOnly()
    {
        var scanner = new YamlDotNet.Core.Scanner(new StringReader(_yaml), skipComments: true);
        var count = 0;
        while (scanner.MoveNext())
        {
            count++;
        }
        return count;
    }

    [Benchmark]
    public object LoadAndValidate() => EnvoyConfigLoader.LoadYaml(_yaml);

    [Benchmark]
    public object Translate() => EnvoyTranslator.Translate(_bootstrap);

    [Benchmark]
    public object CompileRouteTable()
    {
        var stats = new StatsStore();
        return ListenerRuntime.Build(_plan.Listeners[0], new ClusterRegistry(stats), stats);
    }

    [Benchmark]
    public object LoadTranslateCompile()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(_yaml);
        var plan = EnvoyTranslator.Translate(bootstrap);
        var stats = new StatsStore();
        return ListenerRuntime.Build(plan.Listeners[0], new ClusterRegistry(stats), stats);
    }
}
