using Gateway.Configuration;

namespace Gateway.Filters.Compression;

/// <summary><c>envoy.extensions.compression.gzip.compressor.v3.Gzip</c>: the gzip compressor library.</summary>
/// <remarks>
/// .NET's zlib binding takes a level and a strategy but neither a window size nor a memory level, so
/// <c>memory_level</c> and <c>window_bits</c> are refused rather than read and ignored.
/// </remarks>
[EnvoyType("envoy.extensions.compression.gzip.compressor.v3.Gzip", NotSupported = ["memory_level", "window_bits"])]
public sealed class GzipCompressor : EnvoyMessage
{
    /// <summary>The zlib level; default <c>DEFAULT_COMPRESSION</c> (zlib's 6).</summary>
    [ProtoField(2)]
    public GzipCompressionLevel CompressionLevel { get; set; }

    /// <summary>The zlib strategy; default <c>DEFAULT_STRATEGY</c>.</summary>
    [ProtoField(3)]
    public GzipCompressionStrategy CompressionStrategy { get; set; }

    /// <summary>The size of the output buffer the compressor fills at a time, 4096 to 65536; default 4096.</summary>
    [ProtoField(5)]
    public uint? ChunkSize { get; set; }
}

/// <summary><c>Gzip.CompressionLevel</c>. Envoy's aliases (BEST_SPEED = 1, BEST_COMPRESSION = 9) are distinct members here.</summary>
#pragma warning disable CA1707 // Envoy's value names (COMPRESSION_LEVEL_1) come from the member names.
public enum GzipCompressionLevel
{
    /// <summary>zlib's default (6).</summary>
    DefaultCompression = 0,

    /// <summary>Level 1.</summary>
    CompressionLevel_1 = 1,

    /// <summary>Level 2.</summary>
    CompressionLevel_2 = 2,

    /// <summary>Level 3.</summary>
    CompressionLevel_3 = 3,

    /// <summary>Level 4.</summary>
    CompressionLevel_4 = 4,

    /// <summary>Level 5.</summary>
    CompressionLevel_5 = 5,

    /// <summary>Level 6.</summary>
    CompressionLevel_6 = 6,

    /// <summary>Level 7.</summary>
    CompressionLevel_7 = 7,

    /// <summary>Level 8.</summary>
    CompressionLevel_8 = 8,

    /// <summary>Level 9.</summary>
    CompressionLevel_9 = 9,

    /// <summary>Level 1.</summary>
    BestSpeed = 101,

    /// <summary>Level 9.</summary>
    BestCompression = 109,
}
#pragma warning restore CA1707

/// <summary><c>Gzip.CompressionStrategy</c>.</summary>
public enum GzipCompressionStrategy
{
    /// <summary>zlib's default strategy.</summary>
    DefaultStrategy = 0,

    /// <summary>Z_FILTERED.</summary>
    Filtered = 1,

    /// <summary>Z_HUFFMAN_ONLY.</summary>
    HuffmanOnly = 2,

    /// <summary>Z_RLE.</summary>
    Rle = 3,

    /// <summary>Z_FIXED.</summary>
    Fixed = 4,
}

/// <summary><c>envoy.extensions.compression.brotli.compressor.v3.Brotli</c>: the brotli compressor library.</summary>
/// <remarks>.NET's brotli encoder takes a quality and a window; the other encoder parameters are refused.</remarks>
[EnvoyType("envoy.extensions.compression.brotli.compressor.v3.Brotli", NotSupported =
    ["encoder_mode", "input_block_bits", "disable_literal_context_modeling"])]
public sealed class BrotliCompressor : EnvoyMessage
{
    /// <summary>0 to 11; default 3.</summary>
    [ProtoField(1)]
    public uint? Quality { get; set; }

    /// <summary>The LZ77 window, 10 to 24 bits; default 18.</summary>
    [ProtoField(3)]
    public uint? WindowBits { get; set; }

    /// <summary>The size of the output buffer the encoder fills at a time, 4096 to 65536; default 4096.</summary>
    [ProtoField(5)]
    public uint? ChunkSize { get; set; }
}

/// <summary><c>envoy.extensions.compression.gzip.decompressor.v3.Gzip</c>: the gzip decompressor library.</summary>
/// <remarks>.NET's inflater always accepts a 15-bit window, so <c>window_bits</c> (which restricts it) is refused.</remarks>
[EnvoyType("envoy.extensions.compression.gzip.decompressor.v3.Gzip", NotSupported = ["window_bits"])]
public sealed class GzipDecompressor : EnvoyMessage
{
    /// <summary>The size of the output buffer the inflater fills at a time, 4096 to 65536; default 4096.</summary>
    [ProtoField(2)]
    public uint? ChunkSize { get; set; }

    /// <summary>The largest output/input ratio of one data chunk before it is treated as a zip bomb, 1 to 1032; default 100.</summary>
    [ProtoField(3)]
    public uint? MaxInflateRatio { get; set; }
}

/// <summary><c>envoy.extensions.compression.brotli.decompressor.v3.Brotli</c>: the brotli decompressor library.</summary>
[EnvoyType("envoy.extensions.compression.brotli.decompressor.v3.Brotli", NotSupported = ["disable_ring_buffer_reallocation"])]
public sealed class BrotliDecompressor : EnvoyMessage
{
    /// <summary>The size of the output buffer the decoder fills at a time, 4096 to 65536; default 4096.</summary>
    [ProtoField(2)]
    public uint? ChunkSize { get; set; }
}
