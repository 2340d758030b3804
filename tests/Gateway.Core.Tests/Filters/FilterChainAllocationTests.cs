using Microsoft.Extensions.DependencyInjection;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Filters;

/// <summary>The chain allocates per request, not per filter: five filters cost what one does.</summary>
public class FilterChainAllocationTests
{
    [Fact]
    public void Stream_FiveFiltersInsteadOfOne_AllocatesNoMorePerRequest()
    {
        var one = Measure(1);
        var five = Measure(5);

        Assert.Equal(one, five);
        // The stream itself (one object per request); a filter that needs no state adds nothing.
        Assert.True(one < 512, $"{one} B per request");
        Assert.True(one > 0, "the measurement saw the stream");
    }

    private static long Measure(int filters)
        => Measure(
            string.Concat(Enumerable.Range(0, filters).Select(i => $"          - name: noop{i}\n            typed_config: {{ \"@type\": type.googleapis.com/gateway.tests.NoOp }}\n")),
            EnvoyTypeRegistry.CreateDefault().AddHttpFilter(new NoOpFilterFactory()));

    /// <summary>Bytes per request through a chain of <paramref name="chain"/> (http_filters entries before the router), as the connection manager runs it.</summary>
    internal static long Measure(string chain, EnvoyTypeRegistry types, IServiceProvider? services = null)
    {
        var listener = Listener(chain, types, services ?? new ServiceCollection().BuildServiceProvider());
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Headers.Host = "example.com";
        var time = TimeProvider.System;
        var router = new CountingTerminal();
        // The stream info is the connection manager's, made for every request with or without filters: not the chain's cost.
        var info = new Gateway.Listeners.RequestStreamInfo(context, time, 0);
        void Run()
        {
            var stream = new FilterChainStream(context, info, listener, null, "http", "/", 0, false, time, NullLogger.Instance) { Terminal = router };
            // As the connection manager does (the middleware adapter finds the stream there); replaces the last one.
            info.Filters = stream;
            context.Features.Set(info);
            var before = router.Runs;
            if (stream.DecodeAsync().AsTask().GetAwaiter().GetResult())
            {
                ((FilterChainStream.IFilterChainTerminal)router).RunAsync(stream).GetAwaiter().GetResult();
            }
            if (router.Runs != before + 1)
            {
                throw new InvalidOperationException("a pass-through filter kept the request from the router");
            }
            stream.Complete();
        }
        return Allocations.Measure(Run) / 1000;
    }

    private static ListenerRuntime Listener(string chain, EnvoyTypeRegistry types, IServiceProvider serviceProvider)
    {
        var yaml = TestConfigs.Seed("127.0.0.1", 1, "STATIC").Replace("          - name: envoy.filters.http.router\n", chain + "          - name: envoy.filters.http.router\n", StringComparison.Ordinal);
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml, types: types), types);
        var stats = new StatsStore();
        var services = new FilterServices(stats, TimeProvider.System, NullLoggerFactory.Instance, serviceProvider, Random.Shared);
        return ListenerRuntime.Build(plan.Listeners[0], plan.Listeners[0].FilterChains[0], Gateway.Tests.Resilience.TestRequests.Registry(plan, stats), stats, services);
    }
}

/// <summary>Stands for the router: encodes the (empty) response, as the router's response transform would.</summary>
internal sealed class CountingTerminal : FilterChainStream.IFilterChainTerminal
{
    public int Runs { get; private set; }

    Task FilterChainStream.IFilterChainTerminal.RunAsync(FilterChainStream stream)
    {
        Runs++;
        return stream.EncodeHeadersAsync(proxied: true).AsTask();
    }
}

[EnvoyType("gateway.tests.NoOp")]
public sealed class NoOpConfig : EnvoyMessage;

/// <summary>A filter with every header hook and completion, doing nothing.</summary>
internal sealed class NoOpFilterFactory : HttpFilterFactory<NoOpConfig>
{
    public override string Name => "gateway.tests.noop";

    protected override IHttpFilter CreateFilter(NoOpConfig config, HttpFilterFactoryContext context) => new NoOpFilter();

    private sealed class NoOpFilter : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;
    }
}
