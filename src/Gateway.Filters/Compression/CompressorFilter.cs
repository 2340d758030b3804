using System.Globalization;
using Gateway.Configuration;
using Gateway.Filters.Common;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Filters.Compression;

/// <summary><c>envoy.filters.http.compressor</c>: compresses response (and, when configured, request) bodies as they stream.</summary>
public sealed class CompressorFilterFactory : HttpFilterFactory<CompressorConfig, CompressorPerRoute>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.compressor";

    /// <inheritdoc />
    protected override void Validate(CompressorConfig config, HttpFilterValidationContext context)
    {
        CompressorLibrary.Validate(config.CompressorLibrary, config, "compressor_library", compressor: true, context);
        RuntimeFeatureFlag.Validate(config.RuntimeEnabled, context);
        RuntimeFeatureFlag.Validate(config.RequestDirectionConfig?.CommonConfig?.Enabled, context);
        RuntimeFeatureFlag.Validate(config.ResponseDirectionConfig?.CommonConfig?.Enabled, context);
        if (config.ResponseDirectionConfig is { } response)
        {
            foreach (var code in response.UncompressibleResponseCodes)
            {
                if (code < 200 || code > 599)
                {
                    context.Error(response.LocationOf("uncompressible_response_codes"), $"uncompressible_response_codes: each value must be inside range [200, 600), got {code}");
                }
            }
        }
    }

    /// <inheritdoc />
    protected override void ValidateRouteConfig(CompressorPerRoute config, HttpFilterValidationContext context)
    {
        PerRouteOneOf.Validate(config, config.Disabled, "overrides", context);
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(CompressorConfig config, HttpFilterFactoryContext context)
        => new CompressorFilter(config, context);

    /// <inheritdoc />
    protected override object CreateRouteConfig(CompressorPerRoute config, HttpFilterFactoryContext context)
        => config.Disabled == true
            ? new CompressorRouteConfig(false, null)
            : new CompressorRouteConfig(config.Overrides?.ResponseDirectionConfig is null ? null : true, config.Overrides?.ResponseDirectionConfig?.RemoveAcceptEncodingHeader);
}

/// <summary>A compiled <see cref="CompressorPerRoute"/>: whether responses are compressed on the route, and the accept-encoding removal.</summary>
internal sealed record CompressorRouteConfig(bool? ResponseEnabled, bool? RemoveAcceptEncoding);

/// <summary>What one direction compiles to: switch, minimum length, mime types, and its counters.</summary>
internal sealed class CompressorDirection
{
    /// <summary>Envoy's default mime types ("and their synonyms").</summary>
    private static readonly string[] DefaultContentTypes =
    [
        "text/html", "text/plain", "text/css", "application/javascript", "application/x-javascript", "text/javascript",
        "text/x-javascript", "text/ecmascript", "text/js", "text/jscript", "text/x-js", "application/ecmascript",
        "application/x-json", "application/xml", "application/json", "image/svg+xml", "text/xml", "application/xhtml+xml",
    ];

    public CompressorDirection(bool enabled, uint? minContentLength, List<string> contentTypes, HttpFilterStatsScope stats, string prefix)
    {
        Enabled = enabled;
        MinContentLength = minContentLength ?? 30;
        ContentTypes = contentTypes.Count == 0 ? DefaultContentTypes : [.. contentTypes];
        Compressed = stats.Counter(prefix + "compressed");
        NotCompressed = stats.Counter(prefix + "not_compressed");
        TotalUncompressedBytes = stats.Counter(prefix + "total_uncompressed_bytes");
        TotalCompressedBytes = stats.Counter(prefix + "total_compressed_bytes");
        ContentLengthTooSmall = stats.Counter(prefix + "content_length_too_small");
    }

    public bool Enabled { get; }

    public uint MinContentLength { get; }

    public string[] ContentTypes { get; }

    public Counter Compressed { get; }

    public Counter NotCompressed { get; }

    public Counter TotalUncompressedBytes { get; }

    public Counter TotalCompressedBytes { get; }

    public Counter ContentLengthTooSmall { get; }

    /// <summary>Envoy's isMinimumContentLength: a content-length at least the minimum (else content_length_too_small), or none (a streamed body).</summary>
    public bool IsMinimumContentLength(long? contentLength)
    {
        if (contentLength is { } length)
        {
            if (length >= MinContentLength)
            {
                return true;
            }
            ContentLengthTooSmall.Increment();
            return false;
        }
        return true;
    }

    /// <summary>No content-type is allowed; else its media type must be one of the list (exact, as Envoy compares).</summary>
    public bool IsContentTypeAllowed(StringValues contentType)
    {
        if (contentType.Count == 0)
        {
            return true;
        }
        var media = HeaderTokens.MediaType(contentType[0]);
        foreach (var allowed in ContentTypes)
        {
            if (media.SequenceEqual(allowed))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The compressor filter of one listener.</summary>
internal sealed class CompressorFilter : IHttpFilter
{
    private const string Identity = "identity";
    private const string Wildcard = "*";

    private readonly CompressorLibrary _library;
    private readonly CompressorDirection _request;
    private readonly CompressorDirection _response;
    private readonly bool _disableOnEtag;
    private readonly bool _weakenEtag;
    private readonly bool _removeAcceptEncoding;
    private readonly uint[] _uncompressibleCodes;
    private readonly Counter _noAcceptHeader;
    private readonly Counter _headerIdentity;
    private readonly Counter _headerCompressorUsed;
    private readonly Counter _headerCompressorOvershadowed;
    private readonly Counter _headerWildcard;
    private readonly Counter _headerNotValid;
    private readonly Counter _notCompressedEtag;

    public CompressorFilter(CompressorConfig config, HttpFilterFactoryContext context)
    {
        var library = config.CompressorLibrary!;
        _library = CompressorLibrary.Compressor(library.TypedConfig!);
        ChooseFirst = config.ChooseFirst;
        var root = "compressor." + library.Name + "." + _library.StatsPrefix + ".";
        var stats = context.Stats;
        var request = config.RequestDirectionConfig?.CommonConfig;
        // Without request_direction_config no request is compressed (its stats still count).
        _request = new CompressorDirection(config.RequestDirectionConfig is not null && (request?.Enabled?.DefaultValue ?? true), request?.MinContentLength, request?.ContentType ?? [], stats, root + "request.");
        string responseRoot;
        if (config.ResponseDirectionConfig is { } response)
        {
            var common = response.CommonConfig;
            responseRoot = root + "response.";
            _response = new CompressorDirection(common?.Enabled?.DefaultValue ?? true, common?.MinContentLength, common?.ContentType ?? [], stats, responseRoot);
            _disableOnEtag = response.DisableOnEtagHeader;
            _weakenEtag = response.WeakenEtagOnCompress;
            _removeAcceptEncoding = response.RemoveAcceptEncodingHeader;
            _uncompressibleCodes = [.. response.UncompressibleResponseCodes];
        }
        else
        {
            // Envoy's legacy tree: the deprecated fields, and response stats without a direction segment.
            responseRoot = root;
            _response = new CompressorDirection(config.RuntimeEnabled?.DefaultValue ?? true, config.ContentLength, config.ContentType, stats, responseRoot);
            _disableOnEtag = config.DisableOnEtagHeader;
            _removeAcceptEncoding = config.RemoveAcceptEncodingHeader;
            _uncompressibleCodes = [];
        }
        _noAcceptHeader = stats.Counter(responseRoot + "no_accept_header");
        _headerIdentity = stats.Counter(responseRoot + "header_identity");
        _headerCompressorUsed = stats.Counter(responseRoot + "header_compressor_used");
        _headerCompressorOvershadowed = stats.Counter(responseRoot + "header_compressor_overshadowed");
        _headerWildcard = stats.Counter(responseRoot + "header_wildcard");
        _headerNotValid = stats.Counter(responseRoot + "header_not_valid");
        _notCompressedEtag = stats.Counter(responseRoot + "not_compressed_etag");
    }

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

    public string ContentEncoding => _library.ContentEncoding;

    public bool ChooseFirst { get; }

    public CompressorDirection Response => _response;

    private bool ResponseEnabled(HttpFilterContext context)
        => context.RouteConfig<CompressorRouteConfig>()?.ResponseEnabled ?? _response.Enabled;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var headers = http.Request.Headers;
        // Every compressor filter of the stream registers, so the first to see the response picks one encoding for all.
        var state = http.Features.Get<CompressorStreamState>();
        if (state is null)
        {
            state = new CompressorStreamState();
            http.Features.Set(state);
        }
        var acceptEncoding = headers.AcceptEncoding;
        state.Register(this, acceptEncoding);
        if (ResponseEnabled(context) && (context.RouteConfig<CompressorRouteConfig>()?.RemoveAcceptEncoding ?? _removeAcceptEncoding))
        {
            headers.Remove(HeaderNames.AcceptEncoding);
        }

        if (!StreamEnds.RequestHasNoBody(http)
            && _request.Enabled
            && !IsUpgrade(headers)
            && _request.IsMinimumContentLength(http.Request.ContentLength)
            && _request.IsContentTypeAllowed(headers.ContentType)
            && headers.ContentEncoding.Count == 0
            && IsTransferEncodingAllowed(headers.TransferEncoding))
        {
            headers.ContentLength = null;
            headers.ContentEncoding = _library.ContentEncoding;
            _request.Compressed.Increment();
            TransformedRequestBody.Install(http, _library.Create(), _library.ChunkSize, _request.TotalUncompressedBytes, _request.TotalCompressedBytes);
        }
        else
        {
            // As in Envoy, also when request compression is not configured.
            _request.NotCompressed.Increment();
        }
        return new(FilterStatus.Continue);
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var headers = response.Headers;
        var status = response.StatusCode;
        var endStream = StreamEnds.ResponseHasNoBody(http);
        var lengthOk = ResponseEnabled(context) && _response.IsMinimumContentLength(response.ContentLength);
        var compressible = lengthOk
            && !IsUpgrade(headers)
            && IsStatusCompressible(status)
            && _response.IsContentTypeAllowed(headers.ContentType)
            && !HeaderTokens.Contains(headers.CacheControl.ToString(), "no-transform")
            && IsEtagAllowed(headers)
            && headers.ContentEncoding.Count == 0;
        if (!endStream && IsAcceptEncodingAllowed(http, lengthOk, headers) && compressible && IsTransferEncodingAllowed(headers.TransferEncoding))
        {
            SanitizeEtag(headers);
            headers.ContentLength = null;
            headers.ContentEncoding = _library.ContentEncoding;
            _response.Compressed.Increment();
            TransformedResponseBody.Install(http, _library.Create(), _library.ChunkSize, _response.TotalUncompressedBytes, _response.TotalCompressedBytes);
        }
        else
        {
            _response.NotCompressed.Increment();
        }
        if (compressible)
        {
            // Also when the client's accept-encoding ruled compression out: a cache in front must know the response varies.
            InsertVary(headers);
        }
        return new(FilterStatus.Continue);
    }

    private static void InsertVary(IHeaderDictionary headers)
    {
        var vary = headers.Vary;
        if (vary.Count == 0)
        {
            headers.Vary = "Accept-Encoding";
        }
        else if (!HeaderTokens.Contains(vary.ToString(), "Accept-Encoding", StringComparison.Ordinal))
        {
            headers.Vary = vary.ToString() + ", Accept-Encoding";
        }
    }

    public void OnComplete(HttpFilterContext context) => ResponseBodyLayer.FinishAll(context.HttpContext);

    private bool IsStatusCompressible(int status)
    {
        foreach (var code in _uncompressibleCodes)
        {
            if (code == status)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsUpgrade(IHeaderDictionary headers)
        => headers.Upgrade.Count > 0 && HeaderTokens.Contains(headers.Connection.ToString(), "upgrade");

    private bool IsEtagAllowed(IHeaderDictionary headers)
    {
        if (_disableOnEtag && !_weakenEtag && headers.ETag.Count > 0)
        {
            _notCompressedEtag.Increment();
            return false;
        }
        return true;
    }

    /// <summary>A strong etag no longer matches the compressed bytes: Envoy removes it (or weakens it with <c>weaken_etag_on_compress</c>).</summary>
    private void SanitizeEtag(IHeaderDictionary headers)
    {
        var etag = headers.ETag;
        if (etag.Count == 0)
        {
            return;
        }
        var value = etag.ToString();
        if (value.Length < 2 || ((value[0] is 'W' or 'w') && value[1] == '/'))
        {
            return;
        }
        if (_weakenEtag)
        {
            headers.ETag = "W/" + value;
        }
        else
        {
            headers.Remove(HeaderNames.ETag);
        }
    }

    /// <summary>Not when the transfer itself is already compressed (a coding Envoy knows in <c>transfer-encoding</c>).</summary>
    private bool IsTransferEncodingAllowed(StringValues transferEncoding)
    {
        if (transferEncoding.Count == 0)
        {
            return true;
        }
        var value = transferEncoding.ToString().AsSpan();
        foreach (var range in value.Split(','))
        {
            var coding = value[range].Trim();
            if (coding.Equals(_library.ContentEncoding, StringComparison.OrdinalIgnoreCase)
                || coding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
                || coding.Equals("br", StringComparison.OrdinalIgnoreCase)
                || coding.Equals("deflate", StringComparison.OrdinalIgnoreCase)
                || coding.Equals("compress", StringComparison.OrdinalIgnoreCase)
                || coding.Equals("zstd", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Envoy's isAcceptEncodingAllowed: when the response may be compressed at all, follows the stream's one encoding
    /// decision (made by the first compressor filter that gets here) and counts the header case.
    /// </summary>
    private bool IsAcceptEncodingAllowed(HttpContext http, bool maybeCompress, IHeaderDictionary headers)
    {
        if (!maybeCompress)
        {
            return false;
        }
        var state = http.Features.Get<CompressorStreamState>();
        if (state is null || state.AcceptEncodingOf(this) is not { Count: > 0 } acceptEncoding)
        {
            _noAcceptHeader.Increment();
            return false;
        }
        var decision = state.Decision ??= state.Choose(headers.ContentType, acceptEncoding);
        switch (decision.Kind)
        {
            case EncodingChoice.Compressor when string.Equals(decision.Encoding, _library.ContentEncoding, StringComparison.OrdinalIgnoreCase):
                _headerCompressorUsed.Increment();
                return true;
            case EncodingChoice.Compressor:
                _headerCompressorOvershadowed.Increment();
                return false;
            case EncodingChoice.Identity:
                _headerIdentity.Increment();
                return false;
            case EncodingChoice.Wildcard:
                _headerWildcard.Increment();
                return string.Equals(decision.Encoding, _library.ContentEncoding, StringComparison.OrdinalIgnoreCase);
            default:
                _headerNotValid.Increment();
                return false;
        }
    }

    internal static bool TryParseQuality(ReadOnlySpan<char> token, out ReadOnlySpan<char> coding, out double quality)
    {
        quality = 1;
        var semicolon = token.IndexOf(';');
        if (semicolon < 0)
        {
            coding = token.Trim();
            return true;
        }
        coding = token[..semicolon].Trim();
        var parameters = token[(semicolon + 1)..];
        var equals = parameters.IndexOf('=');
        if (equals >= 0 && parameters[..equals].Trim().Equals("q", StringComparison.OrdinalIgnoreCase))
        {
            // A q-value that does not parse drops the coding, as Envoy's does.
            return double.TryParse(parameters[(equals + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out quality);
        }
        return true;
    }

    internal const string IdentityCoding = Identity;

    internal const string WildcardCoding = Wildcard;
}

/// <summary>The header case an encoding decision counts as.</summary>
internal enum EncodingChoice
{
    NotValid,
    Identity,
    Wildcard,
    Compressor,
}

/// <summary>The one encoding a stream's compressor filters agreed on.</summary>
internal sealed record EncodingDecision(string Encoding, EncodingChoice Kind);

/// <summary>
/// What the compressor filters of one stream share (Envoy's filter state): who registered, the accept-encoding each
/// saw before any removed it, and the encoding decision the first to see the response made.
/// </summary>
internal sealed class CompressorStreamState
{
    private static readonly EncodingDecision NotValid = new(CompressorFilter.IdentityCoding, EncodingChoice.NotValid);
    private static readonly EncodingDecision IdentityChoice = new(CompressorFilter.IdentityCoding, EncodingChoice.Identity);

    private CompressorFilter?[] _filters = new CompressorFilter?[2];
    private StringValues[] _acceptEncodings = new StringValues[2];
    private int _count;

    public EncodingDecision? Decision { get; set; }

    public void Register(CompressorFilter filter, StringValues acceptEncoding)
    {
        if (_count == _filters.Length)
        {
            Array.Resize(ref _filters, _count * 2);
            Array.Resize(ref _acceptEncodings, _count * 2);
        }
        _filters[_count] = filter;
        _acceptEncodings[_count] = acceptEncoding;
        _count++;
    }

    public StringValues? AcceptEncodingOf(CompressorFilter filter)
    {
        for (var i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_filters[i], filter))
            {
                return _acceptEncodings[i];
            }
        }
        return null;
    }

    /// <summary>
    /// Envoy's chooseEncoding: among the registered compressors whose mime types allow the response, and the codings
    /// the client accepts (a q=0 coding is refused), the highest q-value wins (the first on a tie, or one with choose_first).
    /// </summary>
    public EncodingDecision Choose(StringValues contentType, StringValues acceptEncoding)
    {
        Span<bool> allowed = stackalloc bool[_count];
        var anyAllowed = false;
        for (var i = 0; i < _count; i++)
        {
            allowed[i] = _filters[i]!.Response.IsContentTypeAllowed(contentType);
            anyAllowed |= allowed[i];
        }
        var header = acceptEncoding.ToString().AsSpan();
        var anyCoding = false;
        foreach (var range in header.Split(','))
        {
            var token = header[range];
            if (token.IsEmpty || !CompressorFilter.TryParseQuality(token, out var coding, out var quality))
            {
                continue;
            }
            anyCoding = true;
            if (quality == 0)
            {
                for (var i = 0; i < _count; i++)
                {
                    if (allowed[i] && coding.SequenceEqual(_filters[i]!.ContentEncoding))
                    {
                        allowed[i] = false;
                    }
                }
            }
        }
        anyAllowed = false;
        foreach (var a in allowed)
        {
            anyAllowed |= a;
        }
        if (!anyCoding || !anyAllowed)
        {
            return NotValid;
        }
        var choice = CompressorFilter.IdentityCoding.AsSpan();
        var choiceIndex = -1;
        double best = 0;
        foreach (var range in header.Split(','))
        {
            var token = header[range];
            if (token.IsEmpty || !CompressorFilter.TryParseQuality(token, out var coding, out var quality))
            {
                continue;
            }
            var index = IndexOf(coding, allowed);
            var acceptable = index >= 0 || coding.SequenceEqual(CompressorFilter.IdentityCoding) || coding.SequenceEqual(CompressorFilter.WildcardCoding);
            if (acceptable && (quality > best || (quality == best && quality > 0 && index >= 0 && _filters[index]!.ChooseFirst)))
            {
                choice = coding;
                choiceIndex = index;
                best = quality;
            }
        }
        if (best == 0)
        {
            return NotValid;
        }
        if (choice.SequenceEqual(CompressorFilter.IdentityCoding))
        {
            return IdentityChoice;
        }
        if (choice.SequenceEqual(CompressorFilter.WildcardCoding))
        {
            // Any coding: the first registered allowed compressor.
            var pick = allowed.IndexOf(true);
            return new EncodingDecision(_filters[pick]!.ContentEncoding, EncodingChoice.Wildcard);
        }
        return new EncodingDecision(_filters[choiceIndex]!.ContentEncoding, EncodingChoice.Compressor);
    }

    private int IndexOf(ReadOnlySpan<char> coding, ReadOnlySpan<bool> allowed)
    {
        for (var i = 0; i < _count; i++)
        {
            if (allowed[i] && coding.SequenceEqual(_filters[i]!.ContentEncoding))
            {
                return i;
            }
        }
        return -1;
    }
}
