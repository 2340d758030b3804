using Gateway.Filters.Common;

namespace Gateway.Filters.Cors;

/// <summary>
/// <c>envoy.filters.http.cors</c>: answers CORS preflight requests and adds the CORS headers to responses to allowed
/// origins, after the <see cref="CorsPolicy"/> in <c>typed_per_filter_config</c> (Envoy's CorsFilter).
/// </summary>
public sealed class CorsFilterFactory : HttpFilterFactory<CorsFilterConfig, CorsPolicy>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.cors";

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(CorsFilterConfig config, HttpFilterFactoryContext context)
        => new CorsFilter(new CorsStats(context.Stats), context.Random);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(CorsPolicy config, HttpFilterValidationContext context)
    {
        FilterConfigChecks.ValidateStringMatchers(config.AllowOriginStringMatch, context);
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "filter_enabled", config.FilterEnabled, context);
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "shadow_enabled", config.ShadowEnabled, context);
    }

    /// <inheritdoc />
    protected override object CreateRouteConfig(CorsPolicy config, HttpFilterFactoryContext context) => CompiledCorsPolicy.FromConfig(config);

    /// <inheritdoc />
    protected override object CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst) => CompiledCorsPolicy.Merge(mostSpecificFirst);
}

/// <summary>Envoy's CORS stats, under <c>http.&lt;stat_prefix&gt;.cors.</c>.</summary>
internal sealed class CorsStats(HttpFilterStatsScope scope)
{
    public Stats.Counter OriginValid { get; } = scope.Counter("cors.origin_valid");

    public Stats.Counter OriginInvalid { get; } = scope.Counter("cors.origin_invalid");
}
