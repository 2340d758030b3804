using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Tests.Common;

/// <summary>
/// A test filter (<c>gateway.tests.MetadataSetter</c>) that sets the <c>x-metadata</c> header's JSON object as the
/// dynamic metadata namespace <c>test.ns</c>, as a real filter sets dynamic metadata, then clears the route cache.
/// </summary>
internal sealed class MetadataSetterFactory : HttpFilterFactory<MetadataSetterConfig>
{
    /// <summary>The filter's <c>typed_config</c> type.</summary>
    public const string TypeUrl = "type.googleapis.com/gateway.tests.MetadataSetter";

    /// <summary>The namespace it sets.</summary>
    public const string Namespace = "test.ns";

    public override string Name => "gateway.tests.metadata_setter";

    protected override IHttpFilter CreateFilter(MetadataSetterConfig config, HttpFilterFactoryContext context) => new MetadataSetter();

    private sealed class MetadataSetter : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            if (context.HttpContext.Request.Headers.TryGetValue("x-metadata", out var json))
            {
                var target = context.StreamInfo.DynamicMetadata(Namespace);
                foreach (var (key, value) in JsonNode.Parse(json.ToString())!.AsObject())
                {
                    target[key] = value?.DeepClone();
                }
                context.ClearRouteCache();
            }
            return new(FilterStatus.Continue);
        }
    }
}

/// <summary>The metadata setter test filter's (empty) configuration.</summary>
[EnvoyType("gateway.tests.MetadataSetter")]
public sealed class MetadataSetterConfig : EnvoyMessage;
