using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Router;

/// <summary>
/// <c>envoy.filters.http.router</c> as the registry knows it: its name and configuration type, so that the router
/// is found, validated and placed like any filter. It is the chain's terminal filter: the connection manager calls
/// the router itself after the last decoder, so this factory builds no chain member.
/// </summary>
internal sealed class RouterFilterFactory : HttpFilterFactory<RouterFilterConfig>
{
    public static readonly RouterFilterFactory Instance = new();

    /// <summary>Envoy's canonical name, and the older spellings Envoy still accepts for a router without <c>typed_config</c>.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal) { "envoy.filters.http.router", "envoy.router", "router" };

    public override string Name => "envoy.filters.http.router";

    protected override IHttpFilter CreateFilter(RouterFilterConfig config, HttpFilterFactoryContext context)
        => throw new InvalidOperationException("The router is the chain's terminal filter; the connection manager runs it.");
}
