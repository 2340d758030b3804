using System.Text.Json;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Common;

/// <summary>A listener with the given filters before the router, one route to an echo upstream, admin on an ephemeral port.</summary>
internal static class FilterTestConfig
{
    /// <summary>
    /// <see cref="ListenerYaml.Build"/>'s bootstrap from indented snippets: filters, virtual host fields, fields of the
    /// catch-all route (<c>upstream</c>), route table fields, more clusters, top-level fields.
    /// </summary>
    public static string Yaml(int port, string filters, string routeExtra = "", string vhostExtra = "", string routeConfigExtra = "", string clusters = "", string node = "")
    {
        var route = "- name: upstream\n  match: { prefix: \"/\" }\n  route: { cluster: echo }";
        if (ListenerYaml.Dedent(routeExtra) is { Length: > 0 } extra)
        {
            route += "\n" + ListenerYaml.Indent(extra, 2);
        }
        return ListenerYaml.Build(
            port,
            ListenerYaml.Dedent(filters),
            ListenerYaml.Dedent(vhostExtra),
            route,
            ListenerYaml.Dedent(routeConfigExtra),
            ListenerYaml.Dedent(clusters),
            ListenerYaml.Dedent(node));
    }

    /// <summary>The metadata probe, a decoder after the filters under test: it records the dynamic metadata it sees.</summary>
    public const string Probe = """
                  - name: probe
                    typed_config: { "@type": type.googleapis.com/gateway.tests.MetadataProbe }
        """;

    public static Task<InProcessGateway> StartAsync(string yaml, TimeProvider? time = null, IHttpFilterFactory? extra = null)
        => InProcessGateway.StartAsync(
            yaml,
            configureServices: time is null ? null : s => s.AddSingleton(time),
            configureGateway: g =>
            {
                g.AddBuiltInHttpFilters().AddHttpFilter(new MetadataProbeFactory());
                if (extra is not null)
                {
                    g.AddHttpFilter(extra);
                }
            });

    public static List<ConfigError> LoadErrors(string yaml)
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters().AddHttpFilter(new MetadataProbeFactory());
        var exception = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, types: types));
        return [.. exception.Errors];
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<EchoedRequest> EchoAsync(HttpResponseMessage response)
        => JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), Web)!;
}

/// <summary>The probe's configuration (none).</summary>
[EnvoyType("gateway.tests.MetadataProbe")]
public sealed class MetadataProbeConfig : EnvoyMessage;

/// <summary>Writes what dynamic metadata it saw on the request path into the response header <c>x-metadata</c> (namespaces sorted).</summary>
internal sealed class MetadataProbeFactory : HttpFilterFactory<MetadataProbeConfig>
{
    public override string Name => "gateway.tests.metadata_probe";

    protected override IHttpFilter CreateFilter(MetadataProbeConfig config, HttpFilterFactoryContext context) => new Probe();

    private sealed class Probe : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            context.HttpContext.Items["metadata"] = Render(context);
            return new(FilterStatus.Continue);
        }

        public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
        {
            context.HttpContext.Response.Headers["x-metadata"] = (string?)context.HttpContext.Items["metadata"] ?? string.Empty;
            return new(FilterStatus.Continue);
        }

        private static string Render(HttpFilterContext context)
        {
            var all = context.StreamInfo.AllDynamicMetadata;
            var names = all.Keys.OrderBy(k => k, StringComparer.Ordinal);
            return string.Join(";", names.Select(n => n + "=" + all[n].ToJsonString()));
        }
    }
}
