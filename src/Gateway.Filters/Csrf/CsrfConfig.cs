using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Csrf;

/// <summary>
/// <c>envoy.extensions.filters.http.csrf.v3.CsrfPolicy</c>: the filter's configuration, and its per-route
/// configuration (the most specific level replaces the filter's).
/// </summary>
[EnvoyType("envoy.extensions.filters.http.csrf.v3.CsrfPolicy")]
public sealed class CsrfPolicy : EnvoyMessage
{
    /// <summary>The fraction of requests checked and enforced (required).</summary>
    [ProtoField(1)]
    public RuntimeFractionalPercent? FilterEnabled { get; set; }

    /// <summary>The fraction of requests checked and counted but not enforced, when not enforced.</summary>
    [ProtoField(2)]
    public RuntimeFractionalPercent? ShadowEnabled { get; set; }

    /// <summary>Source origins (host and port) allowed besides the destination's.</summary>
    [ProtoField(3)]
    public List<StringMatcher> AdditionalOrigins { get; set; } = [];
}
