using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Compression;

/// <summary><c>envoy.extensions.filters.http.decompressor.v3.Decompressor</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.decompressor.v3.Decompressor")]
public sealed class DecompressorConfig : EnvoyMessage
{
    /// <summary>The decompressor library (required): gzip or brotli.</summary>
    [ProtoField(1)]
    public TypedExtensionConfig? DecompressorLibrary { get; set; }

    /// <summary>Request decompression; enabled by default.</summary>
    [ProtoField(2)]
    public DecompressorRequestDirectionConfig? RequestDirectionConfig { get; set; }

    /// <summary>Response decompression; enabled by default.</summary>
    [ProtoField(3)]
    public DecompressorResponseDirectionConfig? ResponseDirectionConfig { get; set; }
}

/// <summary><c>Decompressor.CommonDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.decompressor.v3.Decompressor.CommonDirectionConfig")]
public sealed class DecompressorCommonDirectionConfig : EnvoyMessage
{
    /// <summary>Whether this direction decompresses; default enabled.</summary>
    [ProtoField(1)]
    public RuntimeFeatureFlag? Enabled { get; set; }

    /// <summary>Decompress even when <c>cache-control</c> says <c>no-transform</c>.</summary>
    [ProtoField(2)]
    public bool IgnoreNoTransformHeader { get; set; }
}

/// <summary><c>Decompressor.RequestDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.decompressor.v3.Decompressor.RequestDirectionConfig")]
public sealed class DecompressorRequestDirectionConfig : EnvoyMessage
{
    /// <summary>Enabled and no-transform handling.</summary>
    [ProtoField(1)]
    public DecompressorCommonDirectionConfig? CommonConfig { get; set; }

    /// <summary>Add the library's encoding to the request's <c>accept-encoding</c> when responses are decompressed; default true.</summary>
    [ProtoField(2)]
    public bool? AdvertiseAcceptEncoding { get; set; }
}

/// <summary><c>Decompressor.ResponseDirectionConfig</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.decompressor.v3.Decompressor.ResponseDirectionConfig")]
public sealed class DecompressorResponseDirectionConfig : EnvoyMessage
{
    /// <summary>Enabled and no-transform handling.</summary>
    [ProtoField(1)]
    public DecompressorCommonDirectionConfig? CommonConfig { get; set; }
}
