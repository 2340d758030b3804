using BenchmarkDotNet.Attributes;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Routing;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>Route selection over a virtual host of N header-matched prefix routes (the last one matches: the worst case).</summary>
[MemoryDiagnoser]
public class RouteSelectionBenchmarks
{
    private RouteTable<RouteRuntime> _table = null!;
    private readonly HeaderDictionary _headers = new() { ["x-tenant"] = "t9" };
    private string _lastPath = string.Empty;

    [Params(100, 10_000)]
    public int Routes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(BenchmarkConfigs.Routes(Routes)));
        var stats = new StatsStore();
        _table = ListenerRuntime.Build(plan.Listeners[0], new ClusterRegistry(stats), stats).Routes;
        var last = Routes - 1;
        while (last % 10 != 9)
        {
            last--;
        }
        _lastPath = $"/svc{last}/items?id=1";
    }

    [Benchmark]
    public object? FirstRoute() => _table.Match("example.com", "GET", "http", "/svc0/items", new HeaderDictionary { ["x-tenant"] = "t0" });

    [Benchmark]
    public object? LastRoute() => _table.Match("example.com", "GET", "http", _lastPath, _headers);

    [Benchmark]
    public object? NoRoute() => _table.Match("example.com", "GET", "http", "/nothing/here", _headers);
}

/// <summary>The stats work a proxied request does.</summary>
[MemoryDiagnoser]
public class StatsBenchmarks
{
    private ClusterStats _cluster = null!;
    private ConnectionManagerStats _http = null!;
    private RouterStats _router = null!;

    [GlobalSetup]
    public void Setup()
    {
        var store = new StatsStore();
        _cluster = new ClusterStats(store, "bench");
        _http = new ConnectionManagerStats(store, "bench", "listener.127.0.0.1_10000");
        _router = new RouterStats(store, "bench");
    }

    [Benchmark]
    public void CounterIncrement() => _cluster.UpstreamRqTotal.Increment();

    [Benchmark]
    public void PerRequestStats()
    {
        _http.DownstreamRqTotal.Increment();
        _http.DownstreamRqActive.Increment();
        _router.RqTotal.Increment();
        _cluster.UpstreamRqTotal.Increment();
        _cluster.UpstreamRqActive.Increment();
        _cluster.Codes.Charge(200);
        _cluster.ExternalCodes.Charge(200);
        _cluster.UpstreamRqActive.Decrement();
        _http.DownstreamRqActive.Decrement();
        _http.ChargeResponse(200);
    }
}
