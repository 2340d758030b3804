using Gateway.Configuration.Types;

namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig</c>
/// (<c>envoy.http.original_ip_detection.custom_header</c>): the client's address is the value of one request header.
/// </summary>
[EnvoyType("envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig")]
public sealed class CustomHeaderConfig : EnvoyMessage
{
    /// <summary>The header carrying the address (required, a valid header name).</summary>
    [ProtoField(1)]
    public string? HeaderName { get; set; }

    /// <summary>The detected address may make the request internal (<c>internal_address_config</c>).</summary>
    [ProtoField(2)]
    public bool AllowExtensionToSetAddressAsTrusted { get; set; }

    /// <summary>When set, a request without a usable address is answered with this status instead of going on.</summary>
    [ProtoField(3)]
    public HttpStatus? RejectWithStatus { get; set; }
}

/// <summary>
/// <c>envoy.extensions.http.original_ip_detection.xff.v3.XffConfig</c> (<c>envoy.http.original_ip_detection.xff</c>):
/// the address <c>xff_num_trusted_hops</c> from the right of <c>x-forwarded-for</c>.
/// </summary>
[EnvoyType("envoy.extensions.http.original_ip_detection.xff.v3.XffConfig", NotSupported = ["xff_trusted_cidrs", "skip_xff_append"])]
public sealed class XffConfig : EnvoyMessage
{
    /// <summary>Trusted hops at the right of <c>x-forwarded-for</c> to skip.</summary>
    [ProtoField(1)]
    public uint XffNumTrustedHops { get; set; }
}
