namespace Gateway.Filters.HeaderMutation;

/// <summary>
/// <c>envoy.filters.http.header_mutation</c>: request and response header mutations, the filter's own first, then
/// every level's <c>HeaderMutationPerRoute</c> (most specific first, or last with <c>most_specific_header_mutations_wins</c>).
/// </summary>
public sealed class HeaderMutationFilterFactory : HttpFilterFactory<HeaderMutationConfig, HeaderMutationPerRoute>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.header_mutation";

    /// <inheritdoc />
    protected override void Validate(HeaderMutationConfig config, HttpFilterValidationContext context) => ValidateMutations(config.Mutations, context);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(HeaderMutationPerRoute config, HttpFilterValidationContext context) => ValidateMutations(config.Mutations, context);

    private static void ValidateMutations(Mutations? mutations, HttpFilterValidationContext context)
    {
        if (mutations is null)
        {
            return;
        }
        HeaderMutations.Validate(mutations.RequestMutations, context);
        HeaderMutations.Validate(mutations.ResponseMutations, context);
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(HeaderMutationConfig config, HttpFilterFactoryContext context)
        => new HeaderMutationFilter(Compile(config.Mutations), config.MostSpecificHeaderMutationsWins);

    /// <inheritdoc />
    protected override object CreateRouteConfig(HeaderMutationPerRoute config, HttpFilterFactoryContext context) => new RouteMutations([Compile(config.Mutations)]);

    /// <inheritdoc />
    protected override object CombineRouteConfigs(IReadOnlyList<object> mostSpecificFirst)
    {
        // Every level applies (Envoy's traversePerFilterConfig), so the levels are kept, most specific first.
        var levels = new List<CompiledMutations>();
        foreach (var level in mostSpecificFirst)
        {
            levels.AddRange(((RouteMutations)level).MostSpecificFirst);
        }
        return new RouteMutations([.. levels]);
    }

    private static CompiledMutations Compile(Mutations? mutations)
        => new(HeaderMutations.Compile(mutations?.RequestMutations), HeaderMutations.Compile(mutations?.ResponseMutations));
}

/// <summary>One level's compiled request and response mutations.</summary>
internal sealed record CompiledMutations(HeaderMutations Request, HeaderMutations Response);

/// <summary>A route's per-route mutations of every level that has them, most specific first.</summary>
internal sealed record RouteMutations(CompiledMutations[] MostSpecificFirst);

internal sealed class HeaderMutationFilter(CompiledMutations mutations, bool mostSpecificWins) : IHttpFilter
{
    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        ApplyAll(context, context.HttpContext.Request.Headers, request: true);
        return new(FilterStatus.Continue);
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        ApplyAll(context, context.HttpContext.Response.Headers, request: false);
        return new(FilterStatus.Continue);
    }

    /// <summary>The filter's mutations, then each level's (Envoy's HeaderMutation filter: global first, then the route configs).</summary>
    private void ApplyAll(HttpFilterContext context, Microsoft.AspNetCore.Http.IHeaderDictionary headers, bool request)
    {
        (request ? mutations.Request : mutations.Response).Apply(headers);
        if (context.RouteConfig<RouteMutations>()?.MostSpecificFirst is not { } levels)
        {
            return;
        }
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[mostSpecificWins ? levels.Length - 1 - i : i];
            (request ? level.Request : level.Response).Apply(headers);
        }
    }
}
