using Gateway.Configuration;
using Gateway.Filters.Middleware;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Tests.Filters.Middleware;

/// <summary>The adapter allocates nothing per request beyond what its middleware do.</summary>
public class MiddlewareFilterAllocationTests
{
    [Fact]
    public void Stream_PassThroughPipelines_CostABoundedNestingPerAdapter()
    {
        var one = Measure(1);
        var three = Measure(3);
        var noOp = FilterChainAllocationTests.Measure(
            "          - name: noop\n            typed_config: { \"@type\": type.googleapis.com/gateway.tests.NoOp }\n",
            EnvoyTypeRegistry.CreateDefault().AddHttpFilter(new NoOpFilterFactory()));

        // An adapter runs the rest of the request inside its pipeline's next (so middleware sees the response): that
        // nesting costs a bounded amount per adapter (about 230 B), whatever its middleware are.
        Assert.True(one - noOp <= 256, $"{one} B per request with a middleware filter, {noOp} B with a no-op filter");
        Assert.True(three - one <= 2 * 256, $"{one} B with one adapter, {three} B with three");
    }

    private static long Measure(int filters)
    {
        var chain = string.Concat(Enumerable.Range(0, filters).Select(i =>
            $"          - name: mw{i}\n            typed_config: {{ \"@type\": type.googleapis.com/gateway.filters.http.middleware.v1.Middleware, pipeline: pass }}\n"));
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("pass", app => app.Use((context, next) => next(context)).Use((context, next) => next(context)));
        return FilterChainAllocationTests.Measure(chain, types);
    }
}
