using Gateway.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Common;

/// <summary>The built-in filters' half of <see cref="ListenerYaml"/>: the gateway started with them.</summary>
internal static partial class ListenerYaml
{
    /// <summary>The in-process gateway with the built-in filters on <see cref="Build"/>'s bootstrap; <paramref name="random"/> replaces the gateway's random source.</summary>
    public static Task<InProcessGateway> StartAsync(EchoUpstream upstream, string httpFilters, string virtualHost = "", string routes = CatchAll, Random? random = null)
        => InProcessGateway.StartAsync(
            Build(upstream.Port, httpFilters, virtualHost, routes),
            configureServices: random is null ? null : s => s.AddSingleton(random),
            configureGateway: g => g.AddBuiltInHttpFilters());
}
