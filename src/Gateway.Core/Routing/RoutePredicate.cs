using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>
/// A compiled <c>envoy.config.route.v3.RouteMatch</c> (source/common/router/config_impl.cc, the
/// <c>*RouteEntryImpl::matches</c> family). Every path specifier looks at the path with the query string and
/// fragment removed (Envoy's <c>PathMatcher</c> strips them before comparing):
/// <list type="bullet">
/// <item><c>prefix</c>: plain string prefix, so <c>/api</c> takes <c>/apix</c>.</item>
/// <item><c>path</c>: the whole path.</item>
/// <item><c>safe_regex</c>: the regex must match the whole path; <c>case_sensitive</c> does not apply.</item>
/// <item><c>path_separated_prefix</c>: a prefix followed by '/' or the end of the path.</item>
/// <item><c>path_match_policy</c>: the whole path matches the URI template (<see cref="UriTemplate"/>); <c>case_sensitive</c> does not apply.</item>
/// </list>
/// <c>case_sensitive: false</c> compares ignoring ASCII case. Then every header matcher and every query parameter
/// matcher must match, with <c>grpc</c> the request must be gRPC (<see cref="IsGrpc"/>), and every <c>dynamic_metadata</c>
/// matcher must match the stream's dynamic metadata (empty on the first match; filters set it before a re-match).
/// <c>runtime_fraction</c> takes its <c>default_value</c> (there is no runtime layer) on the stream's random value.
/// </summary>
internal sealed class RoutePredicate
{
    private static readonly HeaderPredicate[] NoHeaders = [];
    private static readonly QueryParameterPredicate[] NoQueryParameters = [];

    private readonly PathMatchKind _pathKind;
    private readonly string _path;
    private readonly bool _ignoreCase;
    private readonly EnvoyRegex? _regex;
    private readonly UriTemplate? _template;
    private readonly HeaderPredicate[] _headers;
    private readonly QueryParameterPredicate[] _queryParameters;
    private readonly bool _grpc;
    private readonly MetadataPredicate[] _dynamicMetadata;
    private readonly bool _hasFraction;
    private readonly Percentage _fraction;

    private RoutePredicate(PathMatchKind pathKind, string path, bool ignoreCase, EnvoyRegex? regex, UriTemplate? template, HeaderPredicate[] headers, QueryParameterPredicate[] queryParameters, bool grpc, MetadataPredicate[] dynamicMetadata, Percentage? fraction)
    {
        _template = template;
        _hasFraction = fraction.HasValue;
        _fraction = fraction.GetValueOrDefault();
        _grpc = grpc;
        _dynamicMetadata = dynamicMetadata;
        _pathKind = pathKind;
        _path = path;
        _ignoreCase = ignoreCase;
        _regex = regex;
        _headers = headers;
        _queryParameters = queryParameters;
    }

    /// <summary>Compiles a route match that passed validation (<c>MatcherValidator</c>: one path specifier, valid regexes).</summary>
    /// <param name="match">The match.</param>
    public static RoutePredicate FromConfig(RouteMatch match)
    {
        var ignoreCase = match.CaseSensitive == false;
        PathMatchKind kind;
        string path;
        EnvoyRegex? regex = null;
        UriTemplate? template = null;
        if (match.Prefix is { } prefix)
        {
            kind = PathMatchKind.Prefix;
            path = prefix;
        }
        else if (match.Path is { } exact)
        {
            kind = PathMatchKind.Exact;
            path = exact;
        }
        else if (match.SafeRegex is { } safeRegex)
        {
            kind = PathMatchKind.Regex;
            regex = StringPredicate.CompileRegex(safeRegex);
            path = regex.Pattern;
        }
        else if (match.ConnectMatcher is not null)
        {
            kind = PathMatchKind.Connect;
            path = string.Empty;
        }
        else if (match.PathMatchPolicy?.TypedConfig is UriTemplateMatchConfig { PathTemplate: { } pathTemplate })
        {
            kind = PathMatchKind.UriTemplate;
            template = UriTemplate.FromValidated(pathTemplate);
            path = pathTemplate;
        }
        else
        {
            kind = PathMatchKind.SeparatedPrefix;
            path = match.PathSeparatedPrefix!;
        }

        var headers = NoHeaders;
        if (match.Headers.Count > 0)
        {
            headers = new HeaderPredicate[match.Headers.Count];
            for (var i = 0; i < headers.Length; i++)
            {
                headers[i] = HeaderPredicate.FromConfig(match.Headers[i]);
            }
        }

        var queryParameters = NoQueryParameters;
        if (match.QueryParameters.Count > 0)
        {
            queryParameters = new QueryParameterPredicate[match.QueryParameters.Count];
            for (var i = 0; i < queryParameters.Length; i++)
            {
                queryParameters[i] = QueryParameterPredicate.FromConfig(match.QueryParameters[i]);
            }
        }

        var dynamicMetadata = match.DynamicMetadata.Count == 0 ? [] : new MetadataPredicate[match.DynamicMetadata.Count];
        for (var i = 0; i < dynamicMetadata.Length; i++)
        {
            dynamicMetadata[i] = MetadataPredicate.FromConfig(match.DynamicMetadata[i]);
        }

        Percentage? fraction = match.RuntimeFraction?.DefaultValue is { } value ? Percentage.From(value) : null;
        return new RoutePredicate(kind, path, ignoreCase, regex, template, headers, queryParameters, match.Grpc is not null, dynamicMetadata, fraction);
    }

    /// <summary>Tests the request.</summary>
    public bool Matches(in RequestView request)
    {
        // The path is cheapest and most selective, so it goes first; all checks are pure, so order cannot change the result.
        if (_pathKind == PathMatchKind.Connect ? !IsConnect(request) : !MatchesPath(request.Path))
        {
            return false;
        }
        if (_grpc && !IsGrpc(request.Headers))
        {
            return false;
        }
        // Envoy's featureEnabled(runtime_key, default_value, stream id): random % denominator < numerator, on the stream's value.
        if (_hasFraction && !_fraction.Evaluate(request.RandomValue))
        {
            return false;
        }
        var headers = _headers;
        for (var i = 0; i < headers.Length; i++)
        {
            if (!headers[i].Matches(in request))
            {
                return false;
            }
        }
        var queryParameters = _queryParameters;
        if (queryParameters.Length > 0)
        {
            var query = request.Query;
            for (var i = 0; i < queryParameters.Length; i++)
            {
                if (!queryParameters[i].Matches(query))
                {
                    return false;
                }
            }
        }
        var dynamicMetadata = _dynamicMetadata;
        for (var i = 0; i < dynamicMetadata.Length; i++)
        {
            if (!dynamicMetadata[i].Matches(request.DynamicMetadata))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Envoy's Grpc::Common::hasGrpcContentType on the first <c>content-type</c>.</summary>
    public static bool IsGrpc(Microsoft.AspNetCore.Http.IHeaderDictionary headers) => Gateway.Grpc.GrpcProtocol.IsGrpc(headers);

    private bool MatchesPath(ReadOnlySpan<char> path)
    {
        switch (_pathKind)
        {
            case PathMatchKind.Prefix:
                return _ignoreCase ? AsciiText.StartsWithIgnoreCase(path, _path) : path.StartsWith(_path, StringComparison.Ordinal);
            case PathMatchKind.Exact:
                return _ignoreCase ? AsciiText.EqualsIgnoreCase(path, _path) : path.SequenceEqual(_path);
            case PathMatchKind.SeparatedPrefix:
                var prefixMatches = _ignoreCase ? AsciiText.StartsWithIgnoreCase(path, _path) : path.StartsWith(_path, StringComparison.Ordinal);
                return prefixMatches && (path.Length == _path.Length || path[_path.Length] == '/');
            case PathMatchKind.UriTemplate:
                return _template!.IsMatch(path);
            default:
                return _regex!.IsFullMatch(path);
        }
    }

    /// <summary>
    /// Envoy's HeaderUtility::isConnect for connect_matcher: a CONNECT without a path (HTTP/2's, or HTTP/1.1's authority
    /// form, which the connection manager routes with an empty path); an RFC 8441 extended CONNECT has one, and Envoy's
    /// codec makes it an upgrade instead.
    /// </summary>
    private static bool IsConnect(in RequestView request)
        => request.PathAndQuery.Length == 0 && Microsoft.AspNetCore.Http.HttpMethods.IsConnect(request.Method);

    private enum PathMatchKind : byte
    {
        Prefix,
        Exact,
        Regex,
        SeparatedPrefix,
        UriTemplate,
        Connect,
    }
}
