using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Filters;

/// <summary>A per-route configuration at several levels reaches <see cref="IHttpFilterFactory.CombineRouteConfigs"/>, most specific first.</summary>
public class RouteConfigLevelsTests
{
    private const string PerRouteType = "type.googleapis.com/gateway.tests.LevelsFilterPerRoute";

    private static string Config(EchoUpstream upstream)
        => ListenerYaml.Build(
            upstream.Port,
            """
            - name: levels
              typed_config: { "@type": type.googleapis.com/gateway.tests.LevelsFilter }
            """,
            virtualHost: $$"""
            typed_per_filter_config:
              levels: { "@type": {{PerRouteType}}, tag: vhost }
            """,
            routes: $$"""
            - name: three
              match: { prefix: "/three" }
              route: { cluster: echo }
              typed_per_filter_config:
                levels: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, config: { "@type": {{PerRouteType}}, tag: route } }
            - name: two
              match: { prefix: "/" }
              route: { cluster: echo }
            """,
            routeConfiguration: $$"""
            typed_per_filter_config:
              levels: { "@type": {{PerRouteType}}, tag: config }
            """);

    [Theory]
    [InlineData("/three", "route>vhost>config")]
    [InlineData("/two", "vhost>config")]
    public async Task RouteConfig_SeveralLevels_CombinedMostSpecificFirst(string path, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Config(upstream), configureGateway: g => g.AddHttpFilter(new LevelsFilterFactory()));

        var body = await gateway.Client.GetStringAsync(gateway.ListenerUri(path));

        Assert.Equal(expected, body);
        Assert.Equal(0, upstream.Requests);
    }
}

[EnvoyType("gateway.tests.LevelsFilter")]
public sealed class LevelsFilterConfig : EnvoyMessage;

[EnvoyType("gateway.tests.LevelsFilterPerRoute")]
public sealed class LevelsFilterPerRoute : EnvoyMessage
{
    [ProtoField(1)]
    public string? Tag { get; set; }
}

/// <summary>Answers every request with its route's combined tags.</summary>
internal sealed class LevelsFilterFactory : HttpFilterFactory<LevelsFilterConfig, LevelsFilterPerRoute>
{
    public override string Name => "gateway.tests.levels";

    protected override IHttpFilter CreateFilter(LevelsFilterConfig config, HttpFilterFactoryContext context) => new LevelsFilter();

    protected override object CreateRouteConfig(LevelsFilterPerRoute config, HttpFilterFactoryContext context) => config.Tag ?? string.Empty;

    protected override object CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst) => string.Join('>', mostSpecificFirst);

    private sealed class LevelsFilter : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
            => new(context.SendLocalReply(200, context.RouteConfig<string>() ?? "none", "levels"));
    }
}
