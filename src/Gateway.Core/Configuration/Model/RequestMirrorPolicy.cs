namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.route.v3.RouteAction.RequestMirrorPolicy</c>: a copy of the request sent, fire and forget, to a
/// shadow cluster (on a route action, a virtual host or a route configuration; the most specific non-empty list wins).
/// </summary>
[EnvoyType("envoy.config.route.v3.RouteAction.RequestMirrorPolicy", NotSupported = ["host_rewrite_literal", "request_headers_mutations"])]
public sealed class RequestMirrorPolicy : EnvoyMessage
{
    /// <summary>The shadow cluster (exactly one of this and <see cref="ClusterHeader"/>).</summary>
    [ProtoField(1)]
    public string? Cluster { get; set; }

    /// <summary>The request header naming the shadow cluster; no value (or an unknown cluster) → no shadow.</summary>
    [ProtoField(5)]
    public string? ClusterHeader { get; set; }

    /// <summary>The fraction of requests shadowed (its <c>default_value</c>: there is no runtime); absent → all.</summary>
    [ProtoField(3)]
    public RuntimeFractionalPercent? RuntimeFraction { get; set; }

    /// <summary>The shadow's span is sampled (true) or not (false); absent → the request's decision.</summary>
    [ProtoField(4)]
    public bool? TraceSampled { get; set; }

    /// <summary>Keep the Host as it is instead of appending <c>-shadow</c>.</summary>
    [ProtoField(6)]
    public bool DisableShadowHostSuffixAppend { get; set; }
}
