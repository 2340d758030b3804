using Gateway.Configuration;

namespace Gateway.Filters.Middleware;

/// <summary>
/// <c>gateway.filters.http.middleware.v1.Middleware</c>, the configuration of <c>gateway.filters.http.middleware</c>:
/// which ASP.NET middleware pipeline, registered in code with <c>AddMiddlewareFilter</c>, the filter runs.
/// This gateway's own message (Envoy has no such filter).
/// </summary>
[EnvoyType("gateway.filters.http.middleware.v1.Middleware")]
public sealed class MiddlewareFilterConfig : EnvoyMessage
{
    /// <summary>The name the pipeline was registered under.</summary>
    [ProtoField(1)]
    public string? Pipeline { get; set; }
}
