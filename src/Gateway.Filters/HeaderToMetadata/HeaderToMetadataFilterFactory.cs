using Gateway.Stats;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Filters.HeaderToMetadata;

/// <summary>
/// <c>envoy.filters.http.header_to_metadata</c>: request (and response) header or cookie values into dynamic
/// metadata. The per-route configuration is the same message and replaces the filter's.
/// </summary>
public sealed class HeaderToMetadataFilterFactory : HttpFilterFactory<HeaderToMetadataConfig, HeaderToMetadataConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.header_to_metadata";

    /// <inheritdoc />
    protected override void Validate(HeaderToMetadataConfig config, HttpFilterValidationContext context) => ValidateRules(config, context);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(HeaderToMetadataConfig config, HttpFilterValidationContext context)
    {
        if (config.RequestRules.Count == 0 && config.ResponseRules.Count == 0)
        {
            context.Error(config.Location, "header_to_metadata_filter: Per filter configs must at least specify either request or response rules");
        }
        ValidateRules(config, context);
    }

    private static void ValidateRules(HeaderToMetadataConfig config, HttpFilterValidationContext context)
    {
        foreach (var rules in (List<HeaderToMetadataRule>[])[config.RequestRules, config.ResponseRules])
        {
            foreach (var rule in rules)
            {
                HeaderToMetadataRules.Validate(rule, context);
            }
        }
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(HeaderToMetadataConfig config, HttpFilterFactoryContext context)
        => new HeaderToMetadataFilter(Compile(config, context));

    /// <inheritdoc />
    protected override object CreateRouteConfig(HeaderToMetadataConfig config, HttpFilterFactoryContext context) => Compile(config, context);

    private static HeaderToMetadataRules Compile(HeaderToMetadataConfig config, HttpFilterFactoryContext context)
    {
        // Envoy's stats are opt-in and live outside the connection manager's tree.
        var stats = string.IsNullOrEmpty(config.StatPrefix)
            ? null
            : new HeaderToMetadataStats(context.Services.GetRequiredService<StatsStore>(), "http_filter_name." + config.StatPrefix + ".");
        return new HeaderToMetadataRules(HeaderToMetadataRules.CompileRules(config.RequestRules), HeaderToMetadataRules.CompileRules(config.ResponseRules), stats);
    }

    private sealed class HeaderToMetadataFilter(HeaderToMetadataRules rules) : IHttpFilter
    {
        public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

        public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
        {
            var effective = context.RouteConfig<HeaderToMetadataRules>() ?? rules;
            effective.ApplyRequest(context);
            return new(FilterStatus.Continue);
        }

        public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
        {
            var effective = context.RouteConfig<HeaderToMetadataRules>() ?? rules;
            effective.ApplyResponse(context);
            return new(FilterStatus.Continue);
        }
    }
}

/// <summary>The opt-in stats (Envoy's <c>ALL_HEADER_TO_METADATA_FILTER_STATS</c>), handles fetched once.</summary>
internal sealed class HeaderToMetadataStats(StatsStore store, string prefix)
{
    public Counter RequestRulesProcessed { get; } = store.Counter(prefix + "request_rules_processed");
    public Counter ResponseRulesProcessed { get; } = store.Counter(prefix + "response_rules_processed");
    public Counter RequestMetadataAdded { get; } = store.Counter(prefix + "request_metadata_added");
    public Counter ResponseMetadataAdded { get; } = store.Counter(prefix + "response_metadata_added");
    public Counter RequestHeaderNotFound { get; } = store.Counter(prefix + "request_header_not_found");
    public Counter ResponseHeaderNotFound { get; } = store.Counter(prefix + "response_header_not_found");
    public Counter Base64DecodeFailed { get; } = store.Counter(prefix + "base64_decode_failed");
    public Counter HeaderValueTooLong { get; } = store.Counter(prefix + "header_value_too_long");
    public Counter RegexSubstitutionFailed { get; } = store.Counter(prefix + "regex_substitution_failed");
}
