using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Compression;

/// <summary><c>envoy.extensions.filters.http.compressor.v3.Compressor</c>.</summary>
/// <remarks>
/// The deprecated top-level fields (<c>content_length</c>, <c>content_type</c>, <c>disable_on_etag_header</c>,
/// <c>remove_accept_encoding_header</c>, <c>runtime_enabled</c>) apply, as in Envoy, only when
/// <c>response_direction_config</c> is absent (and then the response stats have no <c>response.</c> segment).
/// </remarks>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.Compressor")]
public sealed class CompressorConfig : EnvoyMessage
{
    /// <summary>Deprecated: minimum response length; default 30.</summary>
    [ProtoField(1)]
    public uint? ContentLength { get; set; }

    /// <summary>Deprecated: the compressible mime types.</summary>
    [ProtoField(2)]
    public List<string> ContentType { get; set; } = [];

    /// <summary>Deprecated: no compression of a response with an <c>etag</c>.</summary>
    [ProtoField(3)]
    public bool DisableOnEtagHeader { get; set; }

    /// <summary>Deprecated: remove <c>accept-encoding</c> before the upstream.</summary>
    [ProtoField(4)]
    public bool RemoveAcceptEncodingHeader { get; set; }

    /// <summary>Deprecated: whether the filter compresses responses at all.</summary>
    [ProtoField(5)]
    public RuntimeFeatureFlag? RuntimeEnabled { get; set; }

    /// <summary>The compressor library (required): gzip or brotli.</summary>
    [ProtoField(6)]
    public TypedExtensionConfig? CompressorLibrary { get; set; }

    /// <summary>Request compression; absent means no request is compressed.</summary>
    [ProtoField(7)]
    public CompressorRequestDirectionConfig? RequestDirectionConfig { get; set; }

    /// <summary>Response compression; absent means the deprecated fields (and their defaults) apply.</summary>
    [ProtoField(8)]
    public CompressorResponseDirectionConfig? ResponseDirectionConfig { get; set; }

    /// <summary>Prefer this filter's encoding when the client's q-values tie with another compressor filter's.</summary>
    [ProtoField(9)]
    public bool ChooseFirst { get; set; }
}

/// <summary><c>Compressor.CommonDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.Compressor.CommonDirectionConfig")]
public sealed class CompressorCommonDirectionConfig : EnvoyMessage
{
    /// <summary>Whether this direction compresses; default enabled.</summary>
    [ProtoField(1)]
    public RuntimeFeatureFlag? Enabled { get; set; }

    /// <summary>The smallest <c>content-length</c> compressed; default 30.</summary>
    [ProtoField(2)]
    public uint? MinContentLength { get; set; }

    /// <summary>The compressible mime types; default Envoy's list (text/html, application/json ...).</summary>
    [ProtoField(3)]
    public List<string> ContentType { get; set; } = [];
}

/// <summary><c>Compressor.RequestDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.Compressor.RequestDirectionConfig")]
public sealed class CompressorRequestDirectionConfig : EnvoyMessage
{
    /// <summary>Enabled, minimum length and content types.</summary>
    [ProtoField(1)]
    public CompressorCommonDirectionConfig? CommonConfig { get; set; }
}

/// <summary><c>Compressor.ResponseDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.Compressor.ResponseDirectionConfig", NotSupported = ["status_header_enabled"])]
public sealed class CompressorResponseDirectionConfig : EnvoyMessage
{
    /// <summary>Enabled, minimum length and content types.</summary>
    [ProtoField(1)]
    public CompressorCommonDirectionConfig? CommonConfig { get; set; }

    /// <summary>No compression of a response that has an <c>etag</c> (unless <see cref="WeakenEtagOnCompress"/>).</summary>
    [ProtoField(2)]
    public bool DisableOnEtagHeader { get; set; }

    /// <summary>Remove <c>accept-encoding</c> from the request, so the upstream does not compress.</summary>
    [ProtoField(3)]
    public bool RemoveAcceptEncodingHeader { get; set; }

    /// <summary>Status codes whose responses are never compressed (e.g. 206).</summary>
    [ProtoField(4)]
    public List<uint> UncompressibleResponseCodes { get; set; } = [];

    /// <summary>Weaken a strong <c>etag</c> (<c>W/</c>) instead of removing it when compressing; wins over <see cref="DisableOnEtagHeader"/>.</summary>
    [ProtoField(6)]
    public bool WeakenEtagOnCompress { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.compressor.v3.CompressorPerRoute</c>: one of <c>disabled</c> or <c>overrides</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.CompressorPerRoute")]
public sealed class CompressorPerRoute : EnvoyMessage
{
    /// <summary>No response compression on this route (must be true when set).</summary>
    [ProtoField(1, InOneOf = true)]
    public bool? Disabled { get; set; }

    /// <summary>Overrides of the filter's configuration on this route.</summary>
    [ProtoField(2, InOneOf = true)]
    public CompressorOverrides? Overrides { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.compressor.v3.CompressorOverrides</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.CompressorOverrides", NotSupported = ["compressor_library"])]
public sealed class CompressorOverrides : EnvoyMessage
{
    /// <summary>When present, response compression is enabled on the route.</summary>
    [ProtoField(1)]
    public ResponseDirectionOverrides? ResponseDirectionConfig { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.compressor.v3.ResponseDirectionOverrides</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.compressor.v3.ResponseDirectionOverrides")]
public sealed class ResponseDirectionOverrides : EnvoyMessage
{
    /// <summary>Overrides <c>remove_accept_encoding_header</c> when set.</summary>
    [ProtoField(1)]
    public bool? RemoveAcceptEncodingHeader { get; set; }
}
