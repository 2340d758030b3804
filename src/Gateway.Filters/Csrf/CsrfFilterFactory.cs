using Gateway.Configuration;
using Gateway.Filters.Common;
using Gateway.Routing;

namespace Gateway.Filters.Csrf;

/// <summary>
/// <c>envoy.filters.http.csrf</c>: refuses state-changing requests (POST, PUT, DELETE, PATCH) whose source origin
/// (<c>Origin</c>, else <c>Referer</c>) is neither the destination (<c>Host</c>) nor an additional origin, with 403
/// <c>Invalid origin</c> (Envoy's CsrfFilter).
/// </summary>
public sealed class CsrfFilterFactory : HttpFilterFactory<CsrfPolicy, CsrfPolicy>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.csrf";

    /// <inheritdoc />
    protected override void Validate(CsrfPolicy config, HttpFilterValidationContext context) => Check(config, context);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(CsrfPolicy config, HttpFilterValidationContext context) => Check(config, context);

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(CsrfPolicy config, HttpFilterFactoryContext context)
        => new CsrfFilter(CompiledCsrfPolicy.FromConfig(config), new CsrfStats(context.Stats), context.Random);

    /// <inheritdoc />
    protected override object CreateRouteConfig(CsrfPolicy config, HttpFilterFactoryContext context) => CompiledCsrfPolicy.FromConfig(config);

    private static void Check(CsrfPolicy config, HttpFilterValidationContext context)
    {
        if (config.FilterEnabled is null && !config.HasBindingError("filter_enabled"))
        {
            // protoc-gen-validate's required message.
            context.Error(config.LocationOf("filter_enabled"), "'filter_enabled' is required");
        }
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "filter_enabled", config.FilterEnabled, context);
        FilterConfigChecks.ValidateRuntimeFractionalPercent(config, "shadow_enabled", config.ShadowEnabled, context);
        FilterConfigChecks.ValidateStringMatchers(config.AdditionalOrigins, context);
    }
}

/// <summary>A compiled <see cref="CsrfPolicy"/>.</summary>
internal sealed class CompiledCsrfPolicy(Percentage filterEnabled, Percentage shadowEnabled, StringPredicate[] additionalOrigins)
{
    public Percentage FilterEnabled { get; } = filterEnabled;

    public Percentage ShadowEnabled { get; } = shadowEnabled;

    public StringPredicate[] AdditionalOrigins { get; } = additionalOrigins;

    public static CompiledCsrfPolicy FromConfig(CsrfPolicy config) => new(
        Percentage.From(config.FilterEnabled, Percentage.Always),
        Percentage.From(config.ShadowEnabled, Percentage.Never),
        FilterConfigChecks.CompileStringMatchers(config.AdditionalOrigins));
}

/// <summary>Envoy's CSRF stats, under <c>http.&lt;stat_prefix&gt;.csrf.</c>.</summary>
internal sealed class CsrfStats(HttpFilterStatsScope scope)
{
    public Stats.Counter MissingSourceOrigin { get; } = scope.Counter("csrf.missing_source_origin");

    public Stats.Counter RequestInvalid { get; } = scope.Counter("csrf.request_invalid");

    public Stats.Counter RequestValid { get; } = scope.Counter("csrf.request_valid");
}
