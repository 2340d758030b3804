using System.Buffers;
using System.IO.Compression;
using Gateway.Configuration;
using Gateway.Filters.Common;
using Gateway.IO;

namespace Gateway.Filters.Compression;

/// <summary>One direction's body transform for one stream: compresses or decompresses chunk by chunk.</summary>
internal abstract class BodyCodec : IDisposable
{
    /// <summary>Transforms one data chunk; everything it can produce is in <paramref name="output"/> afterwards (Envoy flushes per chunk).</summary>
    public abstract void Write(ReadOnlyMemory<byte> input, ArrayBufferWriter<byte> output);

    /// <summary>The body ended: writes what the format puts at its end (the gzip trailer, brotli's last block).</summary>
    public abstract void Finish(ArrayBufferWriter<byte> output);

    public abstract void Dispose();
}

/// <summary>A compiled compressor library: what it is called on the wire and in stats, and how to make a compressor.</summary>
internal sealed class CompressorLibrary(string contentEncoding, string statsPrefix, int chunkSize, Func<BodyCodec> create)
{
    /// <summary>The size of the output buffer a stream's compressed chunks are gathered in (<c>chunk_size</c>).</summary>
    public int ChunkSize { get; } = chunkSize;

    /// <summary>The <c>content-encoding</c> it produces (<c>gzip</c>, <c>br</c>).</summary>
    public string ContentEncoding { get; } = contentEncoding;

    /// <summary>Envoy's stat prefix of the library (<c>gzip</c>, <c>brotli</c>).</summary>
    public string StatsPrefix { get; } = statsPrefix;

    public BodyCodec Create() => create();

    public static void Validate(TypedExtensionConfig? library, EnvoyMessage owner, string field, bool compressor, HttpFilterValidationContext context)
    {
        if (library is null)
        {
            if (!owner.HasField(field))
            {
                context.Error(owner.LocationOf(field), $"{field} is required");
            }
            return;
        }
        if (string.IsNullOrEmpty(library.Name) && library.HasField("typed_config"))
        {
            context.Error(library.LocationOf("name"), "name is required (min length 1)");
        }
        switch (library.TypedConfig)
        {
            case null:
                if (!library.HasField("typed_config"))
                {
                    context.Error(library.LocationOf("typed_config"), "typed_config is required");
                }
                break;
            case GzipCompressor gzip when compressor:
                CheckRange(gzip, "chunk_size", gzip.ChunkSize, 4096, 65536, context);
                break;
            case BrotliCompressor brotli when compressor:
                CheckRange(brotli, "quality", brotli.Quality, 0, 11, context);
                CheckRange(brotli, "window_bits", brotli.WindowBits, 10, 24, context);
                CheckRange(brotli, "chunk_size", brotli.ChunkSize, 4096, 65536, context);
                break;
            case GzipDecompressor gzip when !compressor:
                CheckRange(gzip, "chunk_size", gzip.ChunkSize, 4096, 65536, context);
                CheckRange(gzip, "max_inflate_ratio", gzip.MaxInflateRatio, 1, 1032, context);
                break;
            case BrotliDecompressor brotli when !compressor:
                CheckRange(brotli, "chunk_size", brotli.ChunkSize, 4096, 65536, context);
                break;
            default:
                // Envoy's factory lookup by the type of typed_config, within the compressor (or decompressor) category.
                context.Error(library.LocationOf("typed_config"), $"Didn't find a registered implementation for type: '{FullName(library.TypedConfig)}'");
                break;
        }
    }

    private static string FullName(EnvoyMessage message)
        => ((EnvoyTypeAttribute)Attribute.GetCustomAttribute(message.GetType(), typeof(EnvoyTypeAttribute))!).FullName;

    internal static void CheckRange(EnvoyMessage message, string field, uint? value, uint min, uint max, HttpFilterValidationContext context)
    {
        if (value is { } v && (v < min || v > max))
        {
            context.Error(message.LocationOf(field), $"{field} must be inside range [{min}, {max}], got {v}");
        }
    }

    /// <summary>Compiles a validated compressor library.</summary>
    public static CompressorLibrary Compressor(EnvoyMessage config) => config switch
    {
        GzipCompressor gzip => Gzip(gzip),
        BrotliCompressor brotli => Brotli(brotli),
        _ => throw new InvalidOperationException("not a validated compressor library"),
    };

    /// <summary>Compiles a validated decompressor library.</summary>
    public static DecompressorLibrary Decompressor(EnvoyMessage config) => config switch
    {
        GzipDecompressor gzip => new DecompressorLibrary("gzip", "gzip", (int)(gzip.ChunkSize ?? 4096), gzip.MaxInflateRatio ?? 100, isGzip: true),
        BrotliDecompressor brotli => new DecompressorLibrary("br", "brotli", (int)(brotli.ChunkSize ?? 4096), 0, isGzip: false),
        _ => throw new InvalidOperationException("not a validated decompressor library"),
    };

    private static CompressorLibrary Gzip(GzipCompressor config)
    {
        var level = config.CompressionLevel switch
        {
            GzipCompressionLevel.DefaultCompression => 6,
            GzipCompressionLevel.BestSpeed => 1,
            GzipCompressionLevel.BestCompression => 9,
            var numbered => (int)numbered,
        };
        var strategy = config.CompressionStrategy switch
        {
            GzipCompressionStrategy.Filtered => ZLibCompressionStrategy.Filtered,
            GzipCompressionStrategy.HuffmanOnly => ZLibCompressionStrategy.HuffmanOnly,
            GzipCompressionStrategy.Rle => ZLibCompressionStrategy.RunLengthEncoding,
            GzipCompressionStrategy.Fixed => ZLibCompressionStrategy.Fixed,
            _ => ZLibCompressionStrategy.Default,
        };
        var chunk = (int)(config.ChunkSize ?? 4096);
        return new CompressorLibrary("gzip", "gzip", chunk, () => new GzipCompressorCodec(level, strategy));
    }

    private static CompressorLibrary Brotli(BrotliCompressor config)
    {
        var quality = (int)(config.Quality ?? 3);
        var window = (int)(config.WindowBits ?? 18);
        var chunk = (int)(config.ChunkSize ?? 4096);
        return new CompressorLibrary("br", "brotli", chunk, () => new BrotliCompressorCodec(quality, window, chunk));
    }
}

/// <summary>A compiled decompressor library.</summary>
internal sealed class DecompressorLibrary(string contentEncoding, string statsPrefix, int chunkSize, uint maxInflateRatio, bool isGzip)
{
    /// <summary>The size of the output buffer a stream's decompressed chunks are gathered in (<c>chunk_size</c>).</summary>
    public int ChunkSize { get; } = chunkSize;

    public string ContentEncoding { get; } = contentEncoding;

    public string StatsPrefix { get; } = statsPrefix;

    public bool IsGzip { get; } = isGzip;

    /// <summary>The library's own error counters (Envoy's <c>decompressor_library.*</c>): the one this gateway charges for corrupt data.</summary>
    public string ErrorStat => IsGzip ? "zlib_data_error" : "brotli_error";

    /// <summary>Every counter Envoy's library declares, so /stats lists them as Envoy does.</summary>
    public IReadOnlyList<string> LibraryStats => IsGzip
        ? ["zlib_buf_error", "zlib_data_error", "zlib_errno", "zlib_mem_error", "zlib_stream_error", "zlib_version_error"]
        : ["brotli_error"];

    public BodyCodec Create(Stats.Counter error) => IsGzip
        ? new GzipDecompressorCodec(ChunkSize, maxInflateRatio, error)
        : new BrotliDecompressorCodec(ChunkSize, error);
}

/// <summary>gzip through <see cref="GZipStream"/> writing into the caller's buffer; each chunk ends with a sync flush.</summary>
internal sealed class GzipCompressorCodec : BodyCodec
{
    private readonly BufferSink _sink;
    private readonly GZipStream _gzip;
    private bool _finished;

    public GzipCompressorCodec(int level, ZLibCompressionStrategy strategy)
    {
        _sink = new BufferSink();
        _gzip = new GZipStream(_sink, new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = strategy }, leaveOpen: true);
    }

    public override void Write(ReadOnlyMemory<byte> input, ArrayBufferWriter<byte> output)
    {
        if (input.IsEmpty)
        {
            return;
        }
        _sink.Target = output;
        _gzip.Write(input.Span);
        _gzip.Flush();
        _sink.Target = null;
    }

    public override void Finish(ArrayBufferWriter<byte> output)
    {
        if (_finished)
        {
            return;
        }
        _finished = true;
        _sink.Target = output;
        _gzip.Dispose();
        _sink.Target = null;
    }

    public override void Dispose() => _gzip.Dispose();
}

/// <summary>brotli through <see cref="BrotliEncoder"/>; each chunk ends with a flush.</summary>
internal sealed class BrotliCompressorCodec(int quality, int window, int chunkSize) : BodyCodec
{
    private BrotliEncoder _encoder = new(quality, window);
    private bool _finished;

    public override void Write(ReadOnlyMemory<byte> input, ArrayBufferWriter<byte> output)
    {
        if (input.IsEmpty)
        {
            return;
        }
        Run(input.Span, output, final: false);
        OperationStatus status;
        do
        {
            status = _encoder.Flush(output.GetSpan(chunkSize), out var written);
            output.Advance(written);
        }
        while (status == OperationStatus.DestinationTooSmall);
    }

    public override void Finish(ArrayBufferWriter<byte> output)
    {
        if (!_finished)
        {
            _finished = true;
            Run(ReadOnlySpan<byte>.Empty, output, final: true);
        }
    }

    private void Run(ReadOnlySpan<byte> input, ArrayBufferWriter<byte> output, bool final)
    {
        OperationStatus status;
        do
        {
            status = _encoder.Compress(input, output.GetSpan(chunkSize), out var consumed, out var written, final);
            output.Advance(written);
            input = input[consumed..];
            if (status == OperationStatus.InvalidData)
            {
                throw new InvalidOperationException("brotli encoder failed");
            }
        }
        while (status == OperationStatus.DestinationTooSmall || !input.IsEmpty);
    }

    public override void Dispose() => _encoder.Dispose();
}

/// <summary>
/// gunzip through <see cref="GZipStream"/> reading from the chunk at hand (it asks for more by reading nothing,
/// and goes on when the next chunk comes). Corrupt data, or a chunk inflating beyond <c>max_inflate_ratio</c>,
/// charges <c>zlib_data_error</c> and ends the output, as Envoy's zlib decompressor does.
/// </summary>
internal sealed class GzipDecompressorCodec : BodyCodec
{
    private readonly ChunkSource _source = new();
    private readonly GZipStream _gzip;
    private readonly int _chunkSize;
    private readonly ulong _maxRatio;
    private readonly Stats.Counter _error;
    private bool _failed;

    public GzipDecompressorCodec(int chunkSize, uint maxInflateRatio, Stats.Counter error)
    {
        _gzip = new GZipStream(_source, CompressionMode.Decompress, leaveOpen: true);
        _chunkSize = chunkSize;
        _maxRatio = maxInflateRatio;
        _error = error;
    }

    public override void Write(ReadOnlyMemory<byte> input, ArrayBufferWriter<byte> output)
    {
        if (_failed || input.IsEmpty)
        {
            return;
        }
        var limit = (ulong)input.Length * _maxRatio;
        var start = output.WrittenCount;
        _source.Set(input);
        try
        {
            int read;
            while ((read = _gzip.Read(output.GetSpan(_chunkSize))) > 0)
            {
                output.Advance(read);
                if ((ulong)(output.WrittenCount - start) > limit)
                {
                    Fail();
                    return;
                }
            }
        }
        catch (InvalidDataException)
        {
            Fail();
        }
        finally
        {
            _source.Clear();
        }
    }

    private void Fail()
    {
        _failed = true;
        _error.Increment();
    }

    public override void Finish(ArrayBufferWriter<byte> output)
    {
    }

    public override void Dispose() => _gzip.Dispose();

    /// <summary>The input of the current chunk, as the stream <see cref="GZipStream"/> reads from.</summary>
    private sealed class ChunkSource : ReadOnlyForwardStream
    {
        private ReadOnlyMemory<byte> _data;

        public void Set(ReadOnlyMemory<byte> chunk) => _data = chunk;

        public void Clear() => _data = default;

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, _data.Length);
            _data.Span[..n].CopyTo(buffer);
            _data = _data[n..];
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    }
}

/// <summary>brotli decoding through <see cref="BrotliDecoder"/>; corrupt data charges <c>brotli_error</c> and ends the output.</summary>
internal sealed class BrotliDecompressorCodec(int chunkSize, Stats.Counter error) : BodyCodec
{
    private BrotliDecoder _decoder;
    private bool _failed;

    public override void Write(ReadOnlyMemory<byte> input, ArrayBufferWriter<byte> output)
    {
        if (_failed)
        {
            return;
        }
        OperationStatus status;
        do
        {
            status = _decoder.Decompress(input.Span, output.GetSpan(chunkSize), out var consumed, out var written);
            output.Advance(written);
            input = input[consumed..];
            if (status == OperationStatus.InvalidData)
            {
                _failed = true;
                error.Increment();
                return;
            }
        }
        while (status == OperationStatus.DestinationTooSmall || (status == OperationStatus.NeedMoreData && !input.IsEmpty));
    }

    public override void Finish(ArrayBufferWriter<byte> output)
    {
    }

    public override void Dispose() => _decoder.Dispose();
}

/// <summary>The stream <see cref="GZipStream"/> writes its output into: the caller's buffer of the moment.</summary>
internal sealed class BufferSink : WriteOnlyForwardStream
{
    public ArrayBufferWriter<byte>? Target { get; set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        // GZipStream writes only inside a call that set the target (Dispose after Finish writes nothing more).
        if (Target is { } target)
        {
            target.Write(buffer);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
}
