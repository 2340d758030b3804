using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Cors;

/// <summary>
/// <c>envoy.extensions.filters.http.cors.v3.Cors</c>: the filter's own configuration, empty. The policy is a
/// <see cref="CorsPolicy"/> in <c>typed_per_filter_config</c> (route, virtual host or route configuration).
/// </summary>
[EnvoyType("envoy.extensions.filters.http.cors.v3.Cors")]
public sealed class CorsFilterConfig : EnvoyMessage;

/// <summary><c>envoy.extensions.filters.http.cors.v3.CorsPolicy</c>: the per-route CORS policy.</summary>
[EnvoyType("envoy.extensions.filters.http.cors.v3.CorsPolicy")]
public sealed class CorsPolicy : EnvoyMessage
{
    /// <summary>An origin is allowed when any matcher matches it.</summary>
    [ProtoField(1)]
    public List<StringMatcher> AllowOriginStringMatch { get; set; } = [];

    /// <summary>The <c>access-control-allow-methods</c> of a preflight answer (<c>*</c>: the requested method).</summary>
    [ProtoField(2)]
    public string? AllowMethods { get; set; }

    /// <summary>The <c>access-control-allow-headers</c> of a preflight answer (<c>*</c>: the requested headers).</summary>
    [ProtoField(3)]
    public string? AllowHeaders { get; set; }

    /// <summary>The <c>access-control-expose-headers</c> of a response to an allowed origin.</summary>
    [ProtoField(4)]
    public string? ExposeHeaders { get; set; }

    /// <summary>The <c>access-control-max-age</c> of a preflight answer.</summary>
    [ProtoField(5)]
    public string? MaxAge { get; set; }

    /// <summary>Whether <c>access-control-allow-credentials: true</c> is sent.</summary>
    [ProtoField(6)]
    public bool? AllowCredentials { get; set; }

    /// <summary>The fraction of requests the policy is enforced for; without it and <see cref="ShadowEnabled"/>, every request.</summary>
    [ProtoField(7)]
    public RuntimeFractionalPercent? FilterEnabled { get; set; }

    /// <summary>The fraction of requests whose origin is checked and counted but not enforced (when not enforced).</summary>
    [ProtoField(8)]
    public RuntimeFractionalPercent? ShadowEnabled { get; set; }

    /// <summary>Answers <c>access-control-request-private-network: true</c> with <c>access-control-allow-private-network: true</c>.</summary>
    [ProtoField(9)]
    public bool? AllowPrivateNetworkAccess { get; set; }

    /// <summary>Whether a preflight from an origin that is not allowed goes on upstream (default true) instead of being answered.</summary>
    [ProtoField(10)]
    public bool? ForwardNotMatchingPreflights { get; set; }
}
