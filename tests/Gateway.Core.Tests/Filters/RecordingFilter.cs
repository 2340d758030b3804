using Microsoft.AspNetCore.Http;
using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Tests.Filters;

/// <summary>A test filter's configuration: a label for its records, and when to answer locally.</summary>
[EnvoyType("gateway.tests.RecordingFilter")]
public sealed class RecordingFilterConfig : EnvoyMessage
{
    [ProtoField(1)]
    public string? Label { get; set; }

    /// <summary>A request header that makes this filter answer 418 locally.</summary>
    [ProtoField(2)]
    public string? StopOnHeader { get; set; }

    /// <summary>A request header that makes this filter clear the route cache after rewriting Host to its value.</summary>
    [ProtoField(3)]
    public string? RerouteOnHeader { get; set; }

    /// <summary>A request header that makes this filter throw.</summary>
    [ProtoField(4)]
    public string? ThrowOnHeader { get; set; }
}

/// <summary>The test filter's per-route configuration.</summary>
[EnvoyType("gateway.tests.RecordingFilterPerRoute")]
public sealed class RecordingFilterPerRoute : EnvoyMessage
{
    [ProtoField(1)]
    public string? Tag { get; set; }
}

/// <summary>Records every hook call as "label:hook" (with the per-route tag when one applies) into <see cref="Calls"/>.</summary>
internal sealed class RecordingFilterFactory : HttpFilterFactory<RecordingFilterConfig, RecordingFilterPerRoute>
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public override string Name => "gateway.tests.recording";

    protected override void Validate(RecordingFilterConfig config, HttpFilterValidationContext context)
    {
        if (string.IsNullOrEmpty(config.Label))
        {
            context.Error(config.LocationOf("label"), "label is required");
        }
    }

    protected override IHttpFilter CreateFilter(RecordingFilterConfig config, HttpFilterFactoryContext context)
        => new RecordingFilter(config.Label!, config.StopOnHeader, config.RerouteOnHeader, config.ThrowOnHeader, Calls, context.Stats.Counter("recording." + config.Label + ".calls"));

    protected override object CreateRouteConfig(RecordingFilterPerRoute config, HttpFilterFactoryContext context) => config.Tag ?? string.Empty;

    private sealed class RecordingFilter(string label, string? stopOn, string? rerouteOn, string? throwOn, ConcurrentQueue<string> calls, Gateway.Stats.Counter counter) : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            counter.Increment();
            var tag = context.RouteConfig<string>();
            calls.Enqueue($"{label}:request{(tag is null ? string.Empty : "[" + tag + "]")}");
            var headers = context.HttpContext.Request.Headers;
            if (rerouteOn is not null && headers.TryGetValue(rerouteOn, out var host))
            {
                headers.Host = host.ToString();
                context.ClearRouteCache();
                calls.Enqueue($"{label}:rerouted:{context.Route?.Name}");
            }
            if (throwOn is not null && headers.ContainsKey(throwOn))
            {
                throw new InvalidOperationException("filter " + label + " failed");
            }
            if (stopOn is not null && headers.ContainsKey(stopOn))
            {
                return new(context.SendLocalReply(418, "stopped by " + label, "test_stop", h => h["x-stopped-by"] = label));
            }
            return new(FilterStatus.Continue);
        }

        public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
        {
            calls.Enqueue($"{label}:response:{context.HttpContext.Response.StatusCode}");
            if (context.Route is { } route && route.Metadata.TryGetValue("test", "owner", out var owner))
            {
                calls.Enqueue($"{label}:metadata:{owner.GetString()}:{route.ClusterMetadata.TryGetValue("test", "tier", out var tier) && tier.GetString() == "gold"}:{context.StreamInfo.UpstreamHost}");
            }
            context.HttpContext.Response.Headers.Append("x-encoded-by", label);
            return new(FilterStatus.Continue);
        }

        public void OnComplete(HttpFilterContext context) => calls.Enqueue($"{label}:complete");
    }
}
