using Gateway.Filters.Common;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Filters.Compression;

/// <summary><c>envoy.filters.http.decompressor</c>: decompresses request and response bodies as they stream.</summary>
public sealed class DecompressorFilterFactory : HttpFilterFactory<DecompressorConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.decompressor";

    /// <inheritdoc />
    protected override void Validate(DecompressorConfig config, HttpFilterValidationContext context)
    {
        CompressorLibrary.Validate(config.DecompressorLibrary, config, "decompressor_library", compressor: false, context);
        RuntimeFeatureFlag.Validate(config.RequestDirectionConfig?.CommonConfig?.Enabled, context);
        RuntimeFeatureFlag.Validate(config.ResponseDirectionConfig?.CommonConfig?.Enabled, context);
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(DecompressorConfig config, HttpFilterFactoryContext context)
        => new DecompressorFilter(config, context);
}

/// <summary>One direction of the decompressor: its switch, no-transform handling and counters.</summary>
internal sealed class DecompressorDirection(DecompressorCommonDirectionConfig? config, HttpFilterStatsScope stats, string prefix)
{
    public bool Enabled { get; } = config?.Enabled?.DefaultValue ?? true;

    public bool IgnoreNoTransform { get; } = config?.IgnoreNoTransformHeader ?? false;

    public Counter Decompressed { get; } = stats.Counter(prefix + "decompressed");

    public Counter NotDecompressed { get; } = stats.Counter(prefix + "not_decompressed");

    public Counter TotalCompressedBytes { get; } = stats.Counter(prefix + "total_compressed_bytes");

    public Counter TotalUncompressedBytes { get; } = stats.Counter(prefix + "total_uncompressed_bytes");
}

/// <summary>The decompressor filter of one listener.</summary>
internal sealed class DecompressorFilter : IHttpFilter
{
    private readonly DecompressorLibrary _library;
    private readonly DecompressorDirection _request;
    private readonly DecompressorDirection _response;
    private readonly bool _advertise;
    private readonly Counter _libraryError;

    public DecompressorFilter(DecompressorConfig config, HttpFilterFactoryContext context)
    {
        var library = config.DecompressorLibrary!;
        _library = CompressorLibrary.Decompressor(library.TypedConfig!);
        var root = "decompressor." + library.Name + "." + _library.StatsPrefix + ".";
        _request = new DecompressorDirection(config.RequestDirectionConfig?.CommonConfig, context.Stats, root + "request.");
        _response = new DecompressorDirection(config.ResponseDirectionConfig?.CommonConfig, context.Stats, root + "response.");
        _advertise = config.RequestDirectionConfig?.AdvertiseAcceptEncoding ?? true;
        foreach (var name in _library.LibraryStats)
        {
            // Declared as Envoy's library declares them; only the data error is ever charged here.
            var counter = context.Stats.Counter(root + "decompressor_library." + name);
            if (string.Equals(name, _library.ErrorStat, StringComparison.Ordinal))
            {
                _libraryError = counter;
            }
        }
        _libraryError ??= context.Stats.Counter(root + "decompressor_library." + _library.ErrorStat);
    }

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers;
        if (_response.Enabled && _advertise)
        {
            headers.AcceptEncoding = AddEncoding(headers.AcceptEncoding, _library.ContentEncoding);
        }
        // Headers-only requests do not, by definition, get decompressed.
        if (!StreamEnds.RequestHasNoBody(http) && Begin(_request, headers))
        {
            TransformedRequestBody.Install(http, _library.Create(_libraryError), _library.ChunkSize, _request.TotalCompressedBytes, _request.TotalUncompressedBytes);
        }
        return new(FilterStatus.Continue);
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        // Headers-only responses (Envoy's end_stream on headers) are left alone and not counted.
        if (!StreamEnds.ResponseHasNoBody(http) && Begin(_response, http.Response.Headers))
        {
            TransformedResponseBody.Install(http, _library.Create(_libraryError), _library.ChunkSize, _response.TotalCompressedBytes, _response.TotalUncompressedBytes);
        }
        return new(FilterStatus.Continue);
    }

    public void OnComplete(HttpFilterContext context) => ResponseBodyLayer.FinishAll(context.HttpContext);

    /// <summary>Envoy's maybeInitDecompress: counts the decision and, when it decompresses, updates the headers.</summary>
    private bool Begin(DecompressorDirection direction, IHeaderDictionary headers)
    {
        if (!ShouldDecompress(direction, headers))
        {
            direction.NotDecompressed.Increment();
            return false;
        }
        direction.Decompressed.Increment();
        headers.ContentLength = null;
        RemoveFirstCoding(headers);
        return true;
    }

    private bool ShouldDecompress(DecompressorDirection direction, IHeaderDictionary headers)
    {
        if (!direction.Enabled)
        {
            return false;
        }
        if (!direction.IgnoreNoTransform && HeaderTokens.Contains(headers.CacheControl.ToString(), "no-transform"))
        {
            return false;
        }
        var encoding = headers.ContentEncoding;
        return encoding.Count > 0 && HeaderTokens.FirstCoding(encoding.ToString(), out _).Equals(_library.ContentEncoding, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The applied coding leaves <c>content-encoding</c> (the header goes when it was the only one).</summary>
    private static void RemoveFirstCoding(IHeaderDictionary headers)
    {
        HeaderTokens.FirstCoding(headers.ContentEncoding.ToString(), out var rest);
        if (rest.IsEmpty)
        {
            headers.Remove(HeaderNames.ContentEncoding);
        }
        else
        {
            headers.ContentEncoding = rest.ToString();
        }
    }

    /// <summary>
    /// Envoy's addEncodingToAcceptEncoding: the encoding once, last, without the q-value the client gave it
    /// (<c>gzip;q=0.5, br</c> becomes <c>br,gzip</c> for the gzip decompressor); the other tokens keep theirs.
    /// </summary>
    internal static string AddEncoding(StringValues acceptEncoding, string encoding)
    {
        if (acceptEncoding.Count == 0)
        {
            return encoding;
        }
        var value = acceptEncoding.ToString().AsSpan();
        var builder = new System.Text.StringBuilder(value.Length + encoding.Length + 1);
        foreach (var range in value.Split(','))
        {
            var token = value[range].Trim();
            if (token.IsEmpty)
            {
                continue;
            }
            var semicolon = token.IndexOf(';');
            var coding = (semicolon < 0 ? token : token[..semicolon]).Trim();
            if (coding.SequenceEqual(encoding))
            {
                continue;
            }
            builder.Append(token).Append(',');
        }
        return builder.Append(encoding).ToString();
    }
}
